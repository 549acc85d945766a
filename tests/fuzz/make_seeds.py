#!/usr/bin/env python3
"""Writes the seed corpora in corpus/<target>/ (seed-*; crash-* files are regression inputs
found by fuzzing and are kept as they are). Seeds are small, meaningful inputs taken from the
real examples (resources/examples, the unit tests' tables) so the fuzzer starts from deep inside
each parser. Run from anywhere: tests/fuzz/make_seeds.py"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def out(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# --- config: the shipped examples, and a few of the errors the loader must name ------------
ex = os.path.join(ROOT, "resources", "examples")
for f in sorted(os.listdir(ex)):
    with open(os.path.join(ex, f), "rb") as src:
        out("config", f, src.read())
out("config", "bad-voters.yaml", "node: {name: n1, address: 10.0.0.1}\nlisten: {peer: '10.0.0.1:7400', api: '127.0.0.1:7401'}\n"
    "voters:\n  - {name: n1, address: '10.0.0.1:7400'}\n  - {name: n2, address: '10.0.0.2:7400'}\n"
    "election: {heartbeat_interval: 1.5s, election_timeout: 2s}\n")
out("config", "flow-and-anchors.yaml", "a: &x [1, {b: *x}]\nnode: !!map {name: \"x\\u0041\", priority: 0x10}\n")
out("config", "empty.yaml", "")

# --- allowlist: first byte = options (format % 3: auto/csv/text, bit 2: skipBadRows) -------
A, C, T, SKIP = 0, 1, 2, 4
out("allowlist", "text", bytes([A]) + b"# partner allowlist\n\n10.0.0.1   # egress-1\n10.1.0.0/16\n2001:db8::7\n::ffff:10.0.0.1\n")
out("allowlist", "text-dup-covered", bytes([T]) + b"10.0.0.0/24\n10.0.0.5\n10.0.0.1\n10.0.0.1/32\r\n\xef\xbb\xbf")
out("allowlist", "csv-header", bytes([A]) + b"ip,node,role,state,first_seen\r\n172.16.0.7,egress-1,candidate,ok,2026-01-01T00:00:00Z\r\n"
    b"172.16.0.100,,vip,unknown,\r\n")
out("allowlist", "csv-quotes", bytes([C]) + b"comment,cidr,owner\n\"a \"\"big\"\" one\",10.9.0.0/16,\"multi\nline\"\nx,\"10.0.0.1\",y\n")
out("allowlist", "csv-bad-rows", bytes([C | SKIP]) + b"ip\n10.0.0.1\nnot-an-ip\n10.0.0.0/33\n\"10.0.0.2\"x\n300.1.1.1\n")
out("allowlist", "csv-unterminated", bytes([A]) + b"ip,note\n10.0.0.1,\"never closed\n")
out("allowlist", "fields-for-roundtrip", bytes([A]) + b"a\x00b,c\x00\"q\"\x01 lead\x00trail \x01\r\x00\n")


# --- journal: first byte = mode (0 raw file, 1 damaged records, 2 damaged events, 3 state) --
def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def record(payload):
    ln = struct.pack("<I", len(payload))
    return ln + struct.pack("<I", crc32c(payload, crc32c(ln))) + payload


def pb_event(origin, seq, kind, term, message):
    # egressgw.v1.Event: origin=1 (string), seq=2 (varint), kind=4 ... written the generic way
    # below is only used to get plausible bytes; field numbers come from proto/egressgw/v1/peer.proto.
    def varint(v):
        b = bytearray()
        while True:
            x = v & 0x7F
            v >>= 7
            b.append(x | (0x80 if v else 0))
            if not v:
                return bytes(b)

    def s(field, val):
        val = val.encode()
        return varint(field << 3 | 2) + varint(len(val)) + val

    def u(field, val):
        return varint(field << 3) + varint(val)

    return s(EV["origin"], origin) + u(EV["seq"], seq) + s(EV["kind"], kind) + u(EV["term"], term) + s(EV["message"], message)


EV = {}
with open(os.path.join(ROOT, "proto", "egressgw", "v1", "peer.proto")) as f:
    text = f.read()
body = text[text.index("message Event {"):]
body = body[: body.index("}")]
for line in body.splitlines():
    line = line.split("//")[0].strip().rstrip(";")
    if "=" in line:
        lhs, num = line.split("=")
        EV[lhs.split()[-1]] = int(num)

journal = b"EGWJRNL1" + record(b"first") + record(b"") + record(b"x" * 100)
out("journal", "raw-valid", bytes([0]) + journal)
out("journal", "raw-torn", bytes([0]) + journal[:-7])
out("journal", "raw-bad-crc", bytes([0]) + journal[:20] + b"\xff" + journal[21:])
out("journal", "raw-foreign", bytes([0]) + b"egress-gateway-state 1\nterm 3\n")
out("journal", "raw-torn-header", bytes([0]) + b"EGWJ")
events = b"EGWJRNL1" + record(pb_event("n1", 1, "node_started", 0, "")) + record(pb_event("n2", 1, "master_elected", 3, "gap 412ms")) \
    + record(pb_event("n1", 2, "election_started", 4, "")) + record(pb_event("n1", 2, "duplicate", 4, ""))
out("journal", "raw-events", bytes([0]) + events)
# mode 1: n records (below(12)), each str(200): length byte + bytes; then damage below(4)
out("journal", "records-torn", bytes([1, 3, 5]) + b"hello" + bytes([0]) + bytes([20]) + b"a" * 20 + bytes([1, 40]))
out("journal", "records-flipped", bytes([1, 2, 3]) + b"abc" + bytes([3]) + b"def" + bytes([2, 1, 17, 0x40]))
# mode 2: per record below(4) != 0 -> an Event built from the input
out("journal", "events", bytes([2, 4, 1, 0, 1, 12]) + b"node_started" + bytes([3, 0, 1, 1, 2, 14]) + b"master_elected" + bytes([4, 0]))
# mode 3: u64 term, votedFor (below(64) length, below(36|37) letters), candidacy, then a body
out("journal", "state", bytes([3]) + struct.pack(">Q", 7) + bytes([2, 4, 1, 2]) +
    b"egress-gateway-state 1\nterm 7\nvoted_for egress-2\ncandidacy enabled\n")
out("journal", "state-bad-term", bytes([3]) + bytes(8) + bytes([0, 0]) + b"egress-gateway-state 1\nterm seven\nvoted_for -\n")

# --- election: byte 0 even = cluster schedule, odd = one node against an adversary ----------
rnd = random.Random(8)


def cluster(timing, seed, delay, shape, nodes, ops):
    b = bytearray([0, timing, seed, delay, shape])
    for cand, prio, rate, off in nodes:
        if cand is not None:
            b.append(cand)
        b += bytes([prio, rate]) + off.to_bytes(3, "big")
    for op in ops:
        b += bytes(op)
    return bytes(b)


ADV, DELIVER, DROP, DUP, CRASH, RESTART, ELIG, HANDOVER, PAUSE, CUT, FORGE = 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13
three = [(1, 5, 50, 100), (1, 9, 0, 5000), (1, 1, 100, 77)]
# First election, then quiet time.
out("election", "first-election", cluster(0, 1, 10, 0, three, [[ADV, 1, 0]] * 6))
# Master crashes, comes back: no preemption.
out("election", "crash-restart", cluster(0, 2, 10, 0, three, [[ADV, 1, 0]] * 4 + [[CRASH, 1], [ADV, 1, 0], [ADV, 1, 0], [RESTART, 1], [ADV, 1, 0]]))
# Handover to a non-voting candidate, with a lost and a duplicated message on the way.
out("election", "handover", cluster(1, 3, 5, 0b010, three + [(None, 10, 50, 1)],
                                   [[ADV, 0, 200]] * 3 + [[HANDOVER, 1, 1, 3], [DROP, 0], [DUP, 1, 9], [ADV, 0, 100]]))
# Five voters, partitions, pauses and outsiders.
five = [(1, p, r, o) for p, r, o in [(3, 0, 1), (3, 100, 2), (7, 50, 3), (0, 20, 4), (10, 80, 5)]]
out("election", "partitions", cluster(3, 4, 20, 0b1, five, [[ADV, 0, 150]] * 3 + [[CUT, 1, 0], [ADV, 0, 150], [PAUSE, 2, 200],
                                      [FORGE, 0, 1, 4, 0, 0] + [0] * 8 + [1, 0], [CUT, 2], [ADV, 0, 150]] + [[ADV, 0, 100]] * 3))
out("election", "random-cluster", bytes([0]) + bytes(rnd.randrange(256) for _ in range(300)))
# Adversary: shape, priority(2), hb, et, now(3), seed(8), then ops.
adv = bytes([1, 0, 0, 100, 20, 3, 0, 0, 1]) + bytes(8)
out("election", "adversary-votes", adv + bytes([0, 2, 1, 0, 2, 0, 0, 0, 0, 0, 5, 200, 4, 3, 1, 0, 7, 11, 100]))
out("election", "adversary-random", bytes([1]) + bytes(rnd.randrange(256) for _ in range(400)))
