#!/usr/bin/env python3
"""Traffic for the testbed: a prober in the pod, a recorder at the external service, and the
analysis of what arrived.

  traffic.py recorder --out FILE [--bind 198.51.100.10]   # UDP :9000 and TCP :8080, :443
  traffic.py prober [--target 198.51.100.10] [--udp-ms 5] [--tcp-ms 20]
  traffic.py analyze FILE [--since NS] [--until NS] [--allow IP,IP,...]

Recorder lines: "<monotonic ns> <udp|tcp> <source ip> <seq>". CLOCK_MONOTONIC is shared by all
network namespaces, so the prober's and the recorder's times compare directly.
"""
import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time


def recorder(args):
    out = open(args.out, "a", buffering=1)
    sel = selectors.DefaultSelector()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    udp.bind((args.bind, 9000))
    udp.setblocking(False)
    sel.register(udp, selectors.EVENT_READ, "udp")
    for port in (8080, 443):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((args.bind, port))
        t.listen(512)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, "tcp")
    while True:
        for key, _ in sel.select(1.0):
            now = time.monotonic_ns()
            if key.data == "udp":
                while True:
                    try:
                        data, (src, _) = udp.recvfrom(64)
                    except BlockingIOError:
                        break
                    seq = struct.unpack("!Q", data[:8])[0] if len(data) >= 8 else -1
                    out.write(f"{now} udp {src} {seq}\n")
            else:
                try:
                    conn, (src, _) = key.fileobj.accept()
                except BlockingIOError:
                    continue
                out.write(f"{now} tcp {src} {key.fileobj.getsockname()[1]}\n")
                conn.close()


def prober(args):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq = 0
    next_udp = next_tcp = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_udp:
            seq += 1
            try:
                udp.sendto(struct.pack("!Q", seq), (args.target, 9000))
            except OSError:
                pass  # no route while there is no master: keep probing
            next_udp += args.udp_ms / 1000.0
            if next_udp < now:
                next_udp = now + args.udp_ms / 1000.0
        if now >= next_tcp:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setblocking(False)
            try:
                t.connect_ex((args.target, 8080))
            finally:
                # fire and forget: the recorder logs completed handshakes
                pass
            pending.append((t, now))
            next_tcp += args.tcp_ms / 1000.0
            if next_tcp < now:
                next_tcp = now + args.tcp_ms / 1000.0
        while pending and now - pending[0][1] > 1.0:
            pending.pop(0)[0].close()
        time.sleep(max(0.0, min(next_udp, next_tcp) - time.monotonic()))


pending = []


def analyze(args):
    allow = set(a for a in args.allow.split(",") if a) if args.allow else None
    rows = []
    with open(args.file) as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4:
                continue
            t = int(parts[0])
            if args.since and t < args.since:
                continue
            if args.until and t > args.until:
                continue
            rows.append((t, parts[1], parts[2], parts[3]))
    udp = [r for r in rows if r[1] == "udp"]
    gap_ns, gap_at = 0, None
    for a, b in zip(udp, udp[1:]):
        if b[0] - a[0] > gap_ns:
            gap_ns, gap_at = b[0] - a[0], a[0]
    sources = []
    for r in udp:
        if not sources or sources[-1][0] != r[2]:
            sources.append([r[2], r[0], r[0], 0])
        sources[-1][2] = r[0]
        sources[-1][3] += 1
    bad = sorted(set(r[2] for r in rows if allow is not None and r[2] not in allow))
    # a source that comes back after another took over means two masters (or a failback)
    seen, returned = [], []
    for s in sources:
        if s[0] in seen and s[0] != seen[-1]:
            returned.append(s[0])
        seen.append(s[0])
    print(json.dumps({
        "udp": len(udp), "tcp": sum(1 for r in rows if r[1] == "tcp"),
        "max_gap_ms": round(gap_ns / 1e6, 1), "gap_at_ns": gap_at,
        "sources": [{"ip": s[0], "first_ns": s[1], "last_ns": s[2], "count": s[3]} for s in sources],
        "outside_allowlist": bad, "returned": returned,
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recorder")
    r.add_argument("--out", required=True)
    r.add_argument("--bind", default="198.51.100.10")
    q = sub.add_parser("prober")
    q.add_argument("--target", default="198.51.100.10")
    q.add_argument("--udp-ms", type=float, default=5)
    q.add_argument("--tcp-ms", type=float, default=20)
    a = sub.add_parser("analyze")
    a.add_argument("file")
    a.add_argument("--since", type=int, default=0)
    a.add_argument("--until", type=int, default=0)
    a.add_argument("--allow", default="")
    args = p.parse_args()
    {"recorder": recorder, "prober": prober, "analyze": analyze}[args.cmd](args)


if __name__ == "__main__":
    main()
