// The KvnDb status page: draws /status.json (inlined at load, then polled every second) with plain DOM and SVG.
"use strict";
(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const WIDTH = 600, HEIGHT = 160, WINDOW_MS = 5 * 60 * 1000;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function bytes(n) {
    if (n === undefined || n === null) return "–";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function age(ms) {
    if (ms === undefined || ms === null) return "–";
    return ms < 10000 ? (ms / 1000).toFixed(1) + " s ago" : Math.round(ms / 1000) + " s ago";
  }

  function renderRouter(status) {
    const r = status.router;
    const facts = [
      ["address", r.address], ["version", r.version], ["uptime", Math.round(r.uptime_s) + " s"],
      ["sequence", r.sequence], ["clients", r.clients], ["pending", r.pending],
      ["reads", r.reads], ["writes", r.writes], ["errors", r.errors],
      ["backlog", bytes(r.backlog_bytes)], ["full syncs", r.full_syncs],
    ];
    if (r.resp_port) facts.push(["RESP port", r.resp_port]);
    if (r.unavailable) facts.push(["unavailable", r.unavailable]);
    const list = document.getElementById("router");
    list.replaceChildren(...facts.map(([k, v]) => {
      const row = el("div");
      row.append(el("dt", {}, k), el("dd", {}, String(v)));
      return row;
    }));
    const health = document.getElementById("health");
    health.textContent = r.ready ? "serving" : "not serving";
    health.className = "badge " + (r.ready ? "ok" : "bad");
  }

  function renderNodes(status) {
    const missing = status.in_sync_missing.length ? " · missing: " + status.in_sync_missing.join(", ") : "";
    document.getElementById("in-sync").textContent =
      "in-sync set: " + (status.in_sync.length ? status.in_sync.join(", ") : "(empty)") + missing;
    const body = document.querySelector("#nodes tbody");
    const nodes = [...status.nodes].sort((a, b) => a.id - b.id);
    body.replaceChildren(...nodes.map(n => {
      const row = el("tr", { "data-node": n.id, "data-state": n.state });
      let sync = "–";
      if (n.sync) {
        const total = Math.max(n.sync.donor_keys, n.sync.records, 1);
        sync = el("span");
        sync.append(el("progress", { max: total, value: n.sync.records }), " " + n.sync.records + " / " + n.sync.donor_keys);
      }
      const cells = [n.id, n.name || "–", n.address, el("span", { class: "state-" + n.state }, n.state), n.in_sync ? "yes" : "no",
        n.keys === undefined ? "–" : n.keys, n.lag, n.acked, n.outstanding, bytes(n.unsent_bytes),
        n.checkpoint && n.checkpoint !== "none" ? n.checkpoint + " " + age(n.checkpoint_age_ms) : "–", sync];
      for (const c of cells) {
        const td = el("td");
        if (c instanceof Node) td.append(c); else td.textContent = String(c);
        row.append(td);
      }
      return row;
    }));
  }

  function plot(id, times, values, now, digits) {
    const svg = document.getElementById(id);
    const points = [];
    let max = 0;
    for (const v of values) if (v !== null && v > max) max = v;
    max = max > 0 ? max * 1.15 : 1;
    for (let i = 0; i < times.length; i++) {
      if (values[i] === null) continue;
      const x = WIDTH - (now - times[i]) / WINDOW_MS * WIDTH;
      const y = HEIGHT - values[i] / max * HEIGHT;
      points.push(x.toFixed(1) + "," + y.toFixed(1));
    }
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    const grid = document.createElementNS(SVG, "line");
    for (const [k, v] of Object.entries({ x1: 0, x2: WIDTH, y1: HEIGHT / 2, y2: HEIGHT / 2 })) grid.setAttribute(k, v);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", 4); label.setAttribute("y", 12);
    label.textContent = "max " + (max / 1.15).toFixed(digits) + " · last 5 min";
    svg.replaceChildren(grid, line, label);
    svg.setAttribute("data-points", String(points.length));
    svg.setAttribute("data-last", times.length ? String(times[times.length - 1]) : "");
  }

  function render(status) {
    renderRouter(status);
    renderNodes(status);
    const s = status.series;
    plot("ops-plot", s.t, s.ops, status.now_ms, 0);
    plot("p99-plot", s.t, s.p99_ms, status.now_ms, 3);
    const last = s.t.length - 1;
    document.getElementById("ops-now").textContent = last >= 0 ? "now " + Math.round(s.ops[last]) : "";
    document.getElementById("p99-now").textContent = last >= 0 && s.p99_ms[last] !== null ? "now " + s.p99_ms[last].toFixed(3) : "";
    document.getElementById("updated").textContent = "updated " + new Date(status.now_ms).toLocaleTimeString();
    document.body.setAttribute("data-updated", String(status.now_ms));
  }

  async function poll() {
    try {
      const response = await fetch("status.json", { cache: "no-store" });
      if (response.ok) render(await response.json());
      else document.getElementById("health").textContent = "HTTP " + response.status;
    } catch (e) {
      const health = document.getElementById("health");
      health.textContent = "router unreachable";
      health.className = "badge bad";
    }
  }

  if (window.kvndbInitialStatus) render(window.kvndbInitialStatus);
  setInterval(poll, 1000);
})();
