#!/usr/bin/env python3
"""Traffic for the testbed: a prober in the pod, a recorder at the external service, and the
analysis of what arrived.

  traffic.py recorder --out FILE [--bind 198.51.100.10]   # UDP :9000 and TCP :8080, :443
  traffic.py prober [--target 198.51.100.10] [--udp-ms 5] [--tcp-ms 20] [--tag NAME]
  traffic.py analyze FILE [--since NS] [--until NS] [--allow IP,IP,...] [--tag NAME]
  traffic.py capture --out FILE [--suffix -pub]            # every frame entering a bridge port
  traffic.py arp-probe --iface pub0 --ip VIP [--every-ms 20]  # who answers ARP for VIP

Recorder lines: "<monotonic ns> <udp|tcp> <source ip> <seq>"; a tagged prober's datagrams are
recorded with "<tag>:<seq>" (two pods behind one SNAT address look alike otherwise).
Capture lines, one per frame entering a bridge port whose name ends in --suffix (so each frame
once, at the port of the node that sent it), timed by the kernel:
  "<monotonic ns> <port> ip <src> <dst> <udp|tcp|icmp|proto> <sport> <dport>"
  "<monotonic ns> <port> arp <request|reply> <sender mac> <sender ip> <target ip>"
CLOCK_MONOTONIC is shared by all network namespaces, so the prober's, the recorder's, the
capture's and a test's times compare directly.
"""
import argparse
import json
import os
import selectors
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = 35  # = SCM_TIMESTAMPNS; not exported by Python's socket module
ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
PACKET_OUTGOING = 4


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
                    tag = data[8:].decode(errors="replace") if len(data) > 8 else ""
                    out.write(f"{now} udp {src} {tag + ':' if tag else ''}{seq}\n")
            else:
                try:
                    conn, (src, _) = key.fileobj.accept()
                except BlockingIOError:
                    continue
                out.write(f"{now} tcp {src} {key.fileobj.getsockname()[1]}\n")
                conn.close()


def prober(args):
    if args.tag and (len(args.tag.split()) != 1 or ":" in args.tag):
        sys.exit("prober: --tag must be one word without ':'")
    tag = args.tag.encode()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    seq = 0
    next_udp = next_tcp = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= next_udp:
            seq += 1
            try:
                udp.sendto(struct.pack("!Q", seq) + tag, (args.target, 9000))
            except OSError:
                pass  # no route while there is no master: keep probing
            next_udp += args.udp_ms / 1000.0
            if next_udp < now:
                next_udp = now + args.udp_ms / 1000.0
        if args.tcp_ms > 0 and now >= next_tcp:
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
        wake = min(next_udp, next_tcp) if args.tcp_ms > 0 else next_udp
        time.sleep(max(0.0, wake - time.monotonic()))


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
            if args.tag is not None:
                # only this prober's datagrams ("" = the untagged prober's); TCP carries no tag
                if parts[1] != "udp" or parts[3].rpartition(":")[0] != args.tag:
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


def ip4(b):
    return socket.inet_ntoa(b)


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def describe(frame):
    """The capture line's tail for an Ethernet frame, or None for what we do not log."""
    if len(frame) < 14:
        return None
    ethertype = struct.unpack("!H", frame[12:14])[0]
    if ethertype == 0x0800 and len(frame) >= 34:
        ihl = (frame[14] & 0x0F) * 4
        proto = frame[23]
        src, dst = ip4(frame[26:30]), ip4(frame[30:34])
        sport = dport = 0
        if proto in (6, 17) and len(frame) >= 14 + ihl + 4:
            sport, dport = struct.unpack("!HH", frame[14 + ihl:18 + ihl])
        name = {1: "icmp", 6: "tcp", 17: "udp"}.get(proto, str(proto))
        if proto == 6 and len(frame) >= 14 + ihl + 14:
            bits = frame[14 + ihl + 13]
            flags = "".join(c for i, c in enumerate("FSRPAU") if bits & (1 << i)) or "-"
            return f"ip {src} {dst} {name} {sport} {dport} {flags}"
        return f"ip {src} {dst} {name} {sport} {dport}"
    if ethertype == ETH_P_ARP and len(frame) >= 42:
        op = struct.unpack("!H", frame[20:22])[0]
        kind = {1: "request", 2: "reply"}.get(op, str(op))
        return f"arp {kind} {mac(frame[22:28])} {ip4(frame[28:32])} {ip4(frame[38:42])}"
    return None


def capture(args):
    """Every frame entering a bridge port (in the namespace of the bridges). Frames leaving a port
    are skipped, so each frame is logged once, at the port of the node that sent it. Times are the
    kernel's receive timestamps (CLOCK_REALTIME) moved to CLOCK_MONOTONIC: a busy capture process
    delays the lines, not the times."""
    out = open(args.out, "a")
    sel = selectors.DefaultSelector()
    ports = [name for _, name in socket.if_nameindex() if name.endswith(args.suffix)]
    if not ports:
        sys.exit(f"capture: no interface ending in {args.suffix}")
    for name in ports:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((name, ETH_P_ALL))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, name)
    print(f"capture: ports {' '.join(ports)}", file=sys.stderr, flush=True)
    cmsg_space = socket.CMSG_SPACE(16)
    while True:
        for key, _ in sel.select(1.0):
            offset = time.time_ns() - time.monotonic_ns()
            while True:
                try:
                    frame, anc, _, addr = key.fileobj.recvmsg(2048, cmsg_space)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                line = describe(frame)
                if line is None:
                    continue
                t = time.monotonic_ns()
                for level, kind, data in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
                        sec, nsec = struct.unpack("qq", data[:16])
                        t = sec * 1_000_000_000 + nsec - offset
                out.write(f"{t} {key.data} {line}\n")
        out.flush()


def arp_probe(args):
    """Broadcast ARP requests for --ip every --every-ms: every node that answers shows up in a
    capture, not only the one a neighbour cache happens to keep."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((args.iface, ETH_P_ARP))
    own = s.getsockname()[4]
    sender = socket.inet_aton(args.sender)
    frame = (b"\xff" * 6 + own + struct.pack("!H", ETH_P_ARP) +
             struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + own + sender + b"\x00" * 6 + socket.inet_aton(args.ip))
    nxt = time.monotonic()
    while True:
        try:
            s.send(frame)
        except OSError:
            pass  # the port may be down for a moment: keep asking
        nxt += args.every_ms / 1000.0
        time.sleep(max(0.0, nxt - time.monotonic()))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("recorder")
    r.add_argument("--out", required=True)
    r.add_argument("--bind", default="198.51.100.10")
    q = sub.add_parser("prober")
    q.add_argument("--target", default="198.51.100.10")
    q.add_argument("--udp-ms", type=float, default=5)
    q.add_argument("--tcp-ms", type=float, default=20, help="0: no TCP")
    q.add_argument("--tag", default="", help="sent after the sequence number; the recorder logs <tag>:<seq>")
    a = sub.add_parser("analyze")
    a.add_argument("file")
    a.add_argument("--since", type=int, default=0)
    a.add_argument("--until", type=int, default=0)
    a.add_argument("--allow", default="")
    a.add_argument("--tag", default=None, help="only this prober's datagrams ('' = the untagged prober's)")
    c = sub.add_parser("capture")
    c.add_argument("--out", required=True)
    c.add_argument("--suffix", default="-pub", help="capture the interfaces whose name ends in this")
    ap = sub.add_parser("arp-probe")
    ap.add_argument("--iface", default="pub0")
    ap.add_argument("--ip", required=True, help="the address asked for")
    ap.add_argument("--sender", default="172.16.0.1", help="the sender IP in the requests")
    ap.add_argument("--every-ms", type=float, default=20)
    args = p.parse_args()
    {"recorder": recorder, "prober": prober, "analyze": analyze, "capture": capture,
     "arp-probe": arp_probe}[args.cmd](args)


if __name__ == "__main__":
    main()
