#!/usr/bin/env python3
"""Full SCAN timing over RESP: FLUSHALL (it empties the server it is pointed at!), load N keys with MSET, then SCAN
from 0 to 0 at COUNT c, three times each; the same client for every server. Usage: scan-full.py NAME PORT"""
import socket, sys, time

def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s, s.makefile("rb")

def cmd(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)

def read(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t in (b"+", b":"):
        return rest
    if t == b"-":
        raise RuntimeError(rest.decode())
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b"*":
        return [read(f) for _ in range(int(rest))]
    raise RuntimeError("bad reply %r" % line)

def load(port, n):
    s, f = connect(port)
    s.sendall(cmd("FLUSHALL")); read(f)
    for start in range(0, n, 1000):
        args = ["MSET"]
        for i in range(start, min(n, start + 1000)):
            args += ["key:%012d" % i, "v"]
        s.sendall(cmd(*args)); read(f)
    s.sendall(cmd("DBSIZE")); size = int(read(f))
    assert size == n, size
    s.close()

def scan(port, count):
    s, f = connect(port)
    cursor, keys, pages = b"0", set(), 0
    t = time.perf_counter()
    while True:
        s.sendall(cmd("SCAN", cursor, "COUNT", count))
        cursor, page = read(f)
        keys.update(page); pages += 1
        if cursor == b"0":
            break
    elapsed = time.perf_counter() - t
    s.close()
    return elapsed, len(keys), pages

if __name__ == "__main__":
    name, port = sys.argv[1], int(sys.argv[2])
    for n in (10_000, 100_000):
        load(port, n)
        for count in (10, 1):
            runs = [scan(port, count) for _ in range(3)]
            best = min(r[0] for r in runs)
            med = sorted(r[0] for r in runs)[1]
            print(f"{name} keys={n} COUNT={count}: median {med:.3f} s, best {best:.3f} s, {runs[0][2]} pages, {runs[0][1]} keys", flush=True)
