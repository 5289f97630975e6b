#!/usr/bin/env python3
"""A minimal KvnDb client written from docs/protocol.md alone (Python 3, standard library only).

Usage: kvndb_client.py HOST PORT PASSWORD EMPTY_PORT [LIMITS_PORT CLOSING_PORT]
  PORT          a router with at least one serving node and the client password PASSWORD
  EMPTY_PORT    a router with no node (for Unavailable), no password
  LIMITS_PORT   a router with one serving node whose record limit is below 3 MiB and a router-wide table of one
                request in flight (--max-inflight is per connection; this is the router's own table), no password:
                for RecordTooLarge and Busy
  CLOSING_PORT  a router, no password, that the caller stops once this client prints "closing: ready": for Closing

It exercises every client opcode and every error a client can provoke, checks every reply byte by byte
against the document, prints one line per check and exits 0 when all hold, 1 otherwise.
"""

import re
import socket
import struct
import sys

HEADER = struct.Struct("<IBBHQ")  # body length, opcode, flags, status, request id (section 1)
RESPONSE, MORE, NOREPLY = 0x01, 0x02, 0x04
VERSION = 3

OP = dict(Hello=0x01, Ping=0x02, Info=0x03, Closing=0x04, Get=0x10, Exists=0x11, MultiGet=0x12, ListKeys=0x13,
          GetVersioned=0x14, TimeToLive=0x15, Set=0x20, Delete=0x21, MultiSet=0x22, SetWhen=0x23, GetDelete=0x24,
          Increment=0x25, IncrementFloat=0x26, Append=0x27, SetRange=0x28, Transaction=0x29, Expire=0x2A,
          TimeMark=0x2B, Digest=0x30, SyncBegin=0x31, SyncEnd=0x32, SnapshotRead=0x33, SnapshotApply=0x34,
          NodeStatus=0x35)
ST = dict(Ok=0, NotFound=1, ConditionFailed=2, Unavailable=10, AuthFailed=11, VersionMismatch=12, NotAuthorized=13,
          ProtocolError=20, FrameTooLarge=21, KeyTooLarge=22, UnknownOpcode=23, RecordTooLarge=24, InvalidValue=25,
          Busy=30, InternalError=31, StorageUnavailable=32)
NAMES = {v: k for k, v in ST.items()}

failures = []
checks = 0


def check(condition, what):
    global checks
    checks += 1
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def field(data):
    if isinstance(data, str):
        data = data.encode()
    return struct.pack("<i", len(data)) + data


class Reader:
    """Reads a body field by field; every length is checked against the bytes present."""

    def __init__(self, body):
        self.body, self.at = body, 0

    def take(self, n):
        if n < 0 or self.at + n > len(self.body):
            raise ValueError("body too short")
        part = self.body[self.at:self.at + n]
        self.at += n
        return part

    def u8(self): return self.take(1)[0]
    def u16(self): return struct.unpack("<H", self.take(2))[0]
    def u32(self): return struct.unpack("<I", self.take(4))[0]
    def i32(self): return struct.unpack("<i", self.take(4))[0]
    def u64(self): return struct.unpack("<Q", self.take(8))[0]
    def i64(self): return struct.unpack("<q", self.take(8))[0]

    def field(self):
        return self.take(self.i32())

    def optional(self):
        n = self.i32()
        return None if n == -1 else self.take(n)

    def end(self):
        return self.at == len(self.body)


class Frame:
    def __init__(self, opcode, flags, status, rid, body):
        self.opcode, self.flags, self.status, self.id, self.body = opcode, flags, status, rid, body

    @property
    def error(self):
        return self.status not in (ST["Ok"], ST["NotFound"], ST["ConditionFailed"])

    def __repr__(self):
        return f"Frame(op=0x{self.opcode:02x} flags={self.flags} status={NAMES.get(self.status, self.status)} id={self.id} body={self.body[:60]!r})"


class Connection:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=20)
        self.buffer = b""
        self.next_id = 1
        self.waiting = {}
        self.closing = None
        self.max_frame = 64 << 20
        self.limits = None

    def send(self, opcode, body=b"", flags=0, rid=None, length=None):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        self.sock.sendall(HEADER.pack(len(body) if length is None else length, opcode, flags, 0, rid) + body)
        return rid

    def read_frame(self):
        """The next frame, or None when the router closed the connection."""
        while True:
            if len(self.buffer) >= HEADER.size:
                length, opcode, flags, status, rid = HEADER.unpack_from(self.buffer)
                if length > self.max_frame:
                    raise ValueError(f"frame of {length} bytes above the limit")
                if len(self.buffer) >= HEADER.size + length:
                    body = self.buffer[HEADER.size:HEADER.size + length]
                    self.buffer = self.buffer[HEADER.size + length:]
                    return Frame(opcode, flags, status, rid, body)
            try:
                data = self.sock.recv(1 << 16)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                return None
            self.buffer += data

    def reply(self, rid):
        """The reply to request rid: answers the router's pings and keeps frames for other ids."""
        if rid in self.waiting and self.waiting[rid]:
            return self.waiting[rid].pop(0)
        while True:
            frame = self.read_frame()
            if frame is None:
                return None
            if frame.opcode == OP["Ping"] and not frame.flags & RESPONSE:
                self.sock.sendall(HEADER.pack(0, OP["Ping"], RESPONSE, 0, frame.id))
                continue
            if frame.opcode == OP["Closing"]:
                self.closing = frame
                continue
            if frame.id == rid:
                return frame
            self.waiting.setdefault(frame.id, []).append(frame)

    def call(self, opcode, body=b"", flags=0):
        return self.reply(self.send(opcode, body, flags))

    def closed(self):
        while True:
            frame = self.read_frame()
            if frame is None:
                return True
            if frame.opcode == OP["Closing"]:
                self.closing = frame

    def hello(self, password="", version=VERSION, role=1, ask_limits=True):
        body = struct.pack("<HB", version, role) + field(password) + struct.pack("<Q", 0) + bytes(16) + bytes(16) \
            + struct.pack("<BQ", 0, 1 if ask_limits else 0)
        return self.call(OP["Hello"], body)

    def close(self):
        self.sock.close()


def connect(host, port, password):
    c = Connection(host, port)
    reply = c.hello(password)
    r = Reader(reply.body)
    version, cid, max_frame, max_key = r.u16(), r.u64(), r.u32(), r.u32()
    c.max_frame, c.max_key = max_frame, max_key
    if len(reply.body) >= 18 + 16:
        c.limits = (r.u32(), r.u32(), r.u64())
    return c, reply, version


def expect_error(frame, status, what):
    check(frame is not None and frame.status == ST[status] and frame.flags & RESPONSE != 0, f"{what}: {status}")
    if frame is not None:
        check(len(frame.body) > 0 and frame.body.decode("utf-8", "replace") != "", f"{what}: error body is a message ({frame.body[:80]!r})")


def main():
    host, port, password, empty_port = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    limits_port = int(sys.argv[5]) if len(sys.argv) > 5 else None
    closing_port = int(sys.argv[6]) if len(sys.argv) > 6 else None

    # ---- section 4: handshake ----
    c, reply, version = connect(host, port, password)
    check(reply.opcode == OP["Hello"] and reply.flags & RESPONSE and reply.status == 0, "hello: Ok response")
    check(version == VERSION, "hello: router speaks version 3")
    check(len(reply.body) == 18 + 16, f"hello: reply carries the flow limits when asked ({len(reply.body)} bytes)")
    max_request, max_in_flight, output_limit = c.limits
    check(max_request == c.max_frame - 29, f"hello: max request body is max frame - 29 ({max_request})")
    check(max_in_flight > 0 and output_limit > c.max_frame, "hello: max in flight and output limit announced")
    short = Connection(host, port)
    check(len(short.hello(password, ask_limits=False).body) == 18, "hello: short reply without the ask")
    short.close()

    # Pipelining after the hello: a Ping right behind it is answered after the hello reply.
    p = Connection(host, port)
    body = struct.pack("<HB", VERSION, 1) + field(password) + bytes(8 + 16 + 16 + 1 + 8)
    p.sock.sendall(HEADER.pack(len(body), OP["Hello"], 0, 0, 1) + body + HEADER.pack(0, OP["Ping"], 0, 0, 2))
    first, second = p.read_frame(), p.read_frame()
    check(first.id == 1 and first.status == 0 and second.id == 2 and second.opcode == OP["Ping"], "pipelined hello: hello reply, then the Ping's")
    p.close()

    second_hello = c.hello(password)
    expect_error(second_hello, "ProtocolError", "second hello")
    check(c.call(OP["Ping"]).status == 0, "second hello: connection stays open")

    # Errors of the handshake: each closes the connection.
    e = Connection(host, port)
    expect_error(e.call(OP["Get"], field("k")), "NotAuthorized", "request before hello")
    check(e.closed(), "request before hello: closed")
    e = Connection(host, port)
    reply = e.hello(password, version=2)
    expect_error(reply, "VersionMismatch", "hello of version 2")
    check(e.closed(), "version mismatch: closed")
    e = Connection(host, port)
    expect_error(e.hello(password + "-wrong"), "AuthFailed", "wrong password")
    check(e.closed(), "wrong password: closed")
    e = Connection(host, port)
    bad = struct.pack("<HB", VERSION, 9) + field(password) + bytes(8 + 16 + 16 + 1 + 8)  # role 9
    expect_error(e.call(OP["Hello"], bad), "ProtocolError", "malformed hello")
    check(e.closed(), "malformed hello: closed")

    # ---- section 5: client operations ----
    pong = c.call(OP["Ping"])
    check(pong.opcode == OP["Ping"] and pong.status == 0 and pong.body == b"", "Ping: Ok, empty")

    info = c.call(OP["Info"])
    text = info.body.decode()
    lines = [line for line in text.split("\n") if line]
    node_line = re.compile(r"^node[0-9]+: ")
    fields = dict(line.split(": ", 1) for line in lines if not node_line.match(line) and ": " in line)
    check(info.status == 0 and fields.get("protocol") == "3", "Info: name: value lines, protocol 3")
    for name in ("sequence", "history", "adopted", "nodes_serving", "connections_open", "record_limit"):
        check(name in fields, f"Info: field {name}")
    node_lines = [line for line in lines if node_line.match(line)]
    check(len(node_lines) >= 1 and all("state=" in line and "storage=" in line for line in node_lines), "Info: one nodeN line per node, key=value pairs")

    check(c.call(OP["Set"], field("a") + field("1")).status == 0, "Set: Ok")
    got = c.call(OP["Get"], field("a"))
    r = Reader(got.body)
    check(got.status == 0 and r.field() == b"1" and r.end(), "Get: Ok + field value")
    check(c.call(OP["Get"], field("missing")).status == ST["NotFound"], "Get: NotFound")
    check(c.call(OP["Exists"], field("a")).status == 0, "Exists: Ok")
    check(c.call(OP["Exists"], field("missing")).status == ST["NotFound"], "Exists: NotFound")

    pairs = [("m1", "x"), ("m2", "yy")]
    body = struct.pack("<I", len(pairs)) + b"".join(field(k) + field(v) for k, v in pairs)
    check(c.call(OP["MultiSet"], body).status == 0, "MultiSet: Ok")
    keys = ["m1", "missing", "m2"]
    got = c.call(OP["MultiGet"], struct.pack("<I", len(keys)) + b"".join(field(k) for k in keys))
    r = Reader(got.body)
    values = [r.optional() for _ in range(r.u32())]
    check(got.status == 0 and values == [b"x", None, b"yy"] and r.end(), "MultiGet: entries in order, -1 for missing")
    expect_error(c.call(OP["MultiGet"], struct.pack("<I", 0)), "ProtocolError", "MultiGet of count 0")
    expect_error(c.call(OP["MultiSet"], struct.pack("<I", 0)), "ProtocolError", "MultiSet of count 0")

    for i in range(30):
        c.call(OP["Set"], field(f"list{i}") + field("v"))
    rid = c.send(OP["ListKeys"], field("list"))
    listed, frames = [], 0
    while True:
        frame = c.reply(rid)
        frames += 1
        r = Reader(frame.body)
        listed += [r.field() for _ in range(r.u32())]
        check(r.end() and frame.status == 0, f"ListKeys chunk {frames}: u32 count + keys, nothing after")
        if not frame.flags & MORE:
            break
    check(sorted(listed) == sorted(f"list{i}".encode() for i in range(30)), "ListKeys: every key with the prefix, once")

    got = c.call(OP["GetVersioned"], field("a"))
    r = Reader(got.body)
    version_a, expires, value = r.u64(), r.i64(), r.field()
    check(got.status == 0 and version_a > 0 and expires == 0 and value == b"1" and r.end(), "GetVersioned: version, expires at 0, value")
    got = c.call(OP["TimeToLive"], field("a"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() == version_a and r.i64() == 0 and r.i64() == -1 and r.end(), "TimeToLive: no expiry is 0 and -1")

    check(c.call(OP["Delete"], field("m1")).status == 0, "Delete: Ok (existed)")
    check(c.call(OP["Delete"], field("m1")).status == ST["NotFound"], "Delete: NotFound")

    # 5.1 evaluated writes
    def set_when(cond, opts, expected, expiry, key, value):
        return c.call(OP["SetWhen"], struct.pack("<BBQq", cond, opts, expected, expiry) + field(key) + field(value))

    got = set_when(1, 0x01, 0, 0, "a", "2")  # only if absent, return old value
    r = Reader(got.body)
    check(got.status == ST["ConditionFailed"] and r.u64() == version_a and r.optional() == b"1" and r.end(), "SetWhen NX on a present key: ConditionFailed + version + old value")
    got = set_when(3, 0, version_a, 0, "a", "3")  # version equals
    r = Reader(got.body)
    new_version = r.u64()
    check(got.status == 0 and new_version > version_a and r.optional() is None and r.end(), "SetWhen by version: Ok + new version")
    expect_error(set_when(0, 0x04 | 0x08, 0, 5, "a", "x"), "ProtocolError", "SetWhen with both expiry kinds")

    got = c.call(OP["Increment"], struct.pack("<q", 5) + field("n"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > 0 and r.i64() == 5 and r.end(), "Increment of a missing key: 5")
    expect_error(c.call(OP["Increment"], struct.pack("<q", 1) + field("m2")), "InvalidValue", "Increment of a value that is no integer")
    got = c.call(OP["IncrementFloat"], struct.pack("<d", 0.5) + field("n"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > 0 and r.field() == b"5.5" and r.end(), "IncrementFloat: new value as text")
    got = c.call(OP["Append"], field("m2") + field("zz"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > 0 and r.i64() == 4 and r.end(), "Append: new length")
    got = c.call(OP["SetRange"], struct.pack("<Q", 1) + field("m2") + field("AB"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > 0 and r.i64() == 4 and r.end(), "SetRange: new length")
    check(Reader(c.call(OP["Get"], field("m2")).body).field() == b"yABz", "SetRange: bytes replaced at the offset")
    got = c.call(OP["GetDelete"], field("m2"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > 0 and r.field() == b"yABz" and r.end(), "GetDelete: version + value")
    check(c.call(OP["GetDelete"], field("m2")).status == ST["NotFound"], "GetDelete: NotFound")

    got = c.call(OP["Expire"], struct.pack("<BBq", 1, 0, 60_000) + field("a"))
    r = Reader(got.body)
    check(got.status == 0 and r.u64() > new_version and r.i64() > 0 and r.end(), "Expire in 60 s: Ok + version + expires at")
    got = c.call(OP["TimeToLive"], field("a"))
    r = Reader(got.body)
    r.u64(), r.i64()
    remaining = r.i64()
    check(got.status == 0 and 0 < remaining <= 60_000, f"TimeToLive: remaining ms ({remaining})")
    got = c.call(OP["Expire"], struct.pack("<BBq", 1, 1, 1000) + field("a"))  # NX: it has one
    check(got.status == ST["ConditionFailed"], "Expire NX on a key with an expiry: ConditionFailed")
    check(c.call(OP["Expire"], struct.pack("<BBq", 0, 0, 0) + field("missing")).status == ST["NotFound"], "Expire of a missing key: NotFound")

    # Transaction: guard on "a" (present, any version but 0 fails), then Set + Increment.
    ops = [(OP["Set"], field("t1") + field("v")), (OP["Increment"], struct.pack("<q", 2) + field("t2"))]
    tx = struct.pack("<I", 0) + struct.pack("<I", len(ops)) + b"".join(struct.pack("<BI", op, len(b)) + b for op, b in ops)
    got = c.call(OP["Transaction"], tx)
    r = Reader(got.body)
    count = r.u32()
    entries = []
    for _ in range(count):
        status, length = r.u16(), r.u32()
        entries.append((status, r.take(length)))
    check(got.status == 0 and count == 2 and entries[0] == (0, b"") and entries[1][0] == 0 and r.end(), "Transaction: one entry per operation")
    delete = field("t1")
    guarded = struct.pack("<I", 1) + field("a") + struct.pack("<Q", 0) \
        + struct.pack("<I", 1) + struct.pack("<BI", OP["Delete"], len(delete)) + delete  # "a" must be absent: it is not
    got = c.call(OP["Transaction"], guarded)
    r = Reader(got.body)
    check(got.status == ST["ConditionFailed"] and r.u32() == 0 and r.end(), "Transaction with a failing guard: ConditionFailed + its index")
    check(c.call(OP["Exists"], field("t1")).status == 0, "Transaction with a failing guard: nothing applied")

    # Digest
    got = c.call(OP["Digest"])
    r = Reader(got.body)
    count = r.u32()
    entries = [(r.u32(), r.u8(), r.u8(), r.u64(), r.u64(), r.u64(), r.u64()) for _ in range(count)]
    check(got.status == 0 and count >= 1 and r.end(), f"Digest: u32 count + {count} entries of 38 bytes")
    serving = [e for e in entries if e[1] == 1]
    check(len({(e[4], e[6]) for e in serving}) == 1, "Digest: serving nodes agree (keys, content hash)")

    # Write concern and NoReply: a NoReply write gets nothing, the next request's reply comes next.
    c.send(OP["Set"], field("quiet") + field("v"), flags=NOREPLY | (1 << 3))
    ping = c.call(OP["Ping"])
    check(ping.opcode == OP["Ping"], "NoReply write: no response")
    check(Reader(c.call(OP["Get"], field("quiet")).body).field() == b"v", "NoReply write with concern one: applied")

    # Body errors keep the connection open.
    expect_error(c.call(OP["Get"], struct.pack("<i", 100) + b"abc"), "ProtocolError", "Get with a field longer than the body")
    expect_error(c.call(OP["Get"], field("k") + b"x"), "ProtocolError", "Get with bytes after the key")
    expect_error(c.call(OP["Get"], field(b"k" * (c.max_key + 1))), "KeyTooLarge", "key above max key")
    for name in ("TimeMark", "SyncBegin", "SyncEnd", "SnapshotRead", "SnapshotApply", "NodeStatus"):
        expect_error(c.call(OP[name]), "NotAuthorized", f"client sends {name}")
    check(c.call(OP["Ping"]).status == 0, "after the body errors: connection open")
    err = c.call(OP["Get"], b"")
    check(err.opcode == OP["Get"] and err.id == c.next_id - 1, "error frames echo the opcode and the request id")

    # Framing errors close the connection.
    f = connect(host, port, password)[0]
    f.send(OP["Set"], b"", length=max_request + 1)
    expect_error(f.reply(f.next_id - 1), "FrameTooLarge", "body above max request body (from the header alone)")
    check(f.closed(), "frame too large: closed")
    u = connect(host, port, password)[0]
    expect_error(u.call(0x7F), "UnknownOpcode", "unknown opcode 0x7f")
    check(u.closed(), "unknown opcode: closed")

    # Unavailable: a router with no node answers reads and writes at once.
    n, _, _ = connect(host, empty_port, "")
    expect_error(n.call(OP["Get"], field("a")), "Unavailable", "Get with no node")
    expect_error(n.call(OP["Set"], field("a") + field("b")), "Unavailable", "Set with no node")
    n.close()
    c.close()

    if limits_port is not None:
        check_limits(host, limits_port)
    if closing_port is not None:
        check_closing(host, closing_port)

    print(f"{checks - len(failures)}/{checks} checks hold")
    if failures:
        print("failed: " + "; ".join(failures))
    return 1 if failures else 0


def check_limits(host, port):
    """RecordTooLarge and Busy (sections 2 and 3), on a router whose node stores records below 3 MiB and whose table holds one request."""
    c, _, _ = connect(host, port, "")
    info = c.call(OP["Info"]).body.decode()
    limit = int(re.search(r"^record_limit: ([0-9]+)$", info, re.M).group(1))
    check(0 < limit < 3 << 20, f"Info: record_limit is the node's ({limit} bytes)")
    big = c.call(OP["Set"], field("big") + field(b"v" * (3 << 20)))
    expect_error(big, "RecordTooLarge", "Set of a key + value above the record limit")
    check(big is not None and str(limit).encode() in big.body, "RecordTooLarge: the message names the limit")
    check(c.call(OP["Exists"], field("big")).status == ST["NotFound"], "RecordTooLarge: nothing was written")
    check(c.call(OP["Set"], field("small") + field("v")).status == 0, "RecordTooLarge: the connection stays open")

    # Two Gets in one write: the router handles both before the first reaches the node, so its table of one is full
    # for the second, which is answered Busy at once; the first is answered as usual.
    first, second = c.next_id, c.next_id + 1
    c.next_id += 2
    c.sock.sendall(HEADER.pack(len(field("small")), OP["Get"], 0, 0, first) + field("small")
                   + HEADER.pack(len(field("small")), OP["Get"], 0, 0, second) + field("small"))
    replies = {first: c.reply(first), second: c.reply(second)}
    check(replies[first] is not None and replies[first].status == 0 and Reader(replies[first].body).field() == b"v", "Busy: the first Get is answered")
    expect_error(replies[second], "Busy", "a Get past the router-wide table of requests in flight")
    check(c.call(OP["Ping"]).status == 0, "Busy: the connection stays open")
    c.close()


def check_closing(host, port):
    """Closing (section 4.3): a stopping router's last frame, then the close."""
    c, _, _ = connect(host, port, "")
    print("closing: ready", flush=True)
    frame = c.read_frame()
    while frame is not None and frame.opcode == OP["Ping"]:
        frame = c.read_frame()
    check(frame is not None and frame.opcode == OP["Closing"], f"Closing: a stopping router's last frame ({frame!r})")
    if frame is not None:
        check(frame.flags & NOREPLY != 0 and frame.status == ST["Unavailable"] and frame.id == 1 << 63,
              "Closing: NoReply, Unavailable, id 0x8000000000000000")
        check(0 < len(frame.body) <= 1024 and b"stopping" in frame.body, f"Closing: UTF-8 message of at most 1 KiB ({frame.body!r})")
    check(c.closed(), "Closing: the connection closes after it")


if __name__ == "__main__":
    sys.exit(main())
