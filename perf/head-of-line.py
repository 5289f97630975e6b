#!/usr/bin/env python3
"""Head-of-line measurement (issue 16): a well-behaved client's GET latency before and during a burst of 4096 GETs of a
1 MiB value from a client that never reads its replies. Usage: head-of-line.py PORT RESP_PORT native|resp|warmup
(a router started with --nodes 2 --resp-port RESP_PORT). warmup: the native attacker first widens its window with
4096 small GETs it reads back (the warm-up attack), then sends the burst. Not a test: print the numbers with the load
average."""
import os, socket, struct, sys, time

HEADER = struct.Struct("<IBBHQ")

def field(b): return struct.pack("<i", len(b)) + b

class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port)); self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""; self.id = 1
    def send(self, op, body):
        self.id += 1; self.s.sendall(HEADER.pack(len(body), op, 0, 0, self.id) + body); return self.id
    def frame(self):
        while True:
            if len(self.buf) >= 16:
                n, op, fl, st, rid = HEADER.unpack_from(self.buf)
                if len(self.buf) >= 16 + n:
                    body = self.buf[16:16+n]; self.buf = self.buf[16+n:]
                    if op == 0x02 and not fl & 1:  # router ping
                        self.s.sendall(HEADER.pack(0, 0x02, 1, 0, rid)); continue
                    return op, st, rid, body
            d = self.s.recv(1 << 20)
            if not d: raise EOFError
            self.buf += d
    def call(self, op, body):
        rid = self.send(op, body)
        while True:
            f = self.frame()
            if f[2] == rid: return f
    def hello(self):
        body = struct.pack("<HB", 3, 1) + field(b"") + bytes(8 + 16 + 16) + struct.pack("<BQ", 0, 0)
        return self.call(0x01, body)

def sample(c, n):
    lat = []
    for _ in range(n):
        t = time.perf_counter(); f = c.call(0x10, field(b"k")); lat.append(time.perf_counter() - t)
        assert f[1] == 0
    lat.sort()
    return lat

def stats(name, lat):
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1e3
    print(f"{name}: n={len(lat)} p50={p(0.5):.2f} ms p99={p(0.99):.2f} ms max={lat[-1]*1e3:.1f} ms", flush=True)

port, resp_port, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print(f"mode {mode}, load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
good = Conn(port); good.hello()
good.call(0x20, field(b"big") + field(b"x" * (1 << 20)))
good.call(0x20, field(b"k") + field(b"v"))
sample(good, 500)
stats("before", sample(good, 3000))
if mode in ("native", "warmup"):
    bad = Conn(port); bad.hello()
    if mode == "warmup":
        # Widen the window: 16 rounds of 256 pipelined small GETs, each round read back in full.
        for _ in range(16):
            ids = [bad.send(0x10, field(b"k")) for _ in range(256)]
            for _ in ids:
                bad.frame()
        print("warm-up: 4096 small GETs answered and read", flush=True)
    burst = b"".join(HEADER.pack(len(field(b"big")), 0x10, 0, 0, i + 100) + field(b"big") for i in range(4096))
else:
    bad = socket.create_connection(("127.0.0.1", resp_port))
    burst = b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n" * 4096
sock = bad.s if mode in ("native", "warmup") else bad
sock.setblocking(False)
sent = 0
t0 = time.perf_counter()
while sent < len(burst):
    try: sent += sock.send(burst[sent:])
    except BlockingIOError: break
print(f"burst: {len(burst)} bytes, {sent} accepted by the socket at once", flush=True)
during = sample(good, 3000)
stats("during", during)
print(f"elapsed during sampling: {time.perf_counter() - t0:.1f} s; longest stall of the good client {during[-1]*1e3:.1f} ms", flush=True)
print(f"load average after {os.getloadavg()[0]:.2f}", flush=True)
