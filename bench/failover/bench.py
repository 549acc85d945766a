#!/usr/bin/env python3
"""Failover benchmark: our egress agents against keepalived, in the testbed, with the same prober.

Driven by bench/failover/run.sh (see there and docs/bench-failover.md). Per trial: find the master,
note CLOCK_MONOTONIC, inject the fault, poll the recorder's arrivals log until a different
allowlisted source carries the traffic (or a timeout), measure the longest silence of the UDP
stream around the fault with traffic.py analyze, restore, wait until the cluster agrees on one
master and traffic flows again. Raw per-trial rows go to <out>/trials.csv, the per-trial arrival
windows to <out>/windows/, the summary to <out>/summary.txt (and stdout).
"""
import argparse
import csv
import json
import math
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TESTBED = os.path.join(ROOT, "tests/e2e/testbed/testbed.sh")
TRAFFIC = os.path.join(ROOT, "tests/e2e/testbed/traffic.py")

PREFIX = os.environ.setdefault("EGW_TB_PREFIX", "egwbf-")
RUN = os.environ.setdefault("EGW_TB_DIR", "/tmp/egwbf-run")
ARRIVALS = os.path.join(RUN, "arrivals.log")

EGRESS = ["egress-1", "egress-2", "egress-3"]
PUB = {"egress-1": "172.16.0.7", "egress-2": "172.16.0.8", "egress-3": "172.16.0.9"}
CLU = {"egress-1": "10.0.0.11", "egress-2": "10.0.0.12", "egress-3": "10.0.0.13"}
ALLOW = set(PUB.values())
VIP = "10.0.0.50"
KA_PRIO = {"egress-1": 100, "egress-2": 99, "egress-3": 98}
FAULTS = ["kill", "crash", "linkdown", "stop", "term"]


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def mono():
    return time.monotonic_ns()


def ns(n):
    return PREFIX + n


def sh(args, check=True, timeout=30, **kw):
    return subprocess.run(args, check=check, timeout=timeout, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kw)


def nsx(n, *args, check=True, timeout=30):
    return sh(["ip", "netns", "exec", ns(n), *args], check=check, timeout=timeout)


def testbed(build, *args):
    return subprocess.run([TESTBED, args[0], "--build", build, *args[1:]] if args[0] == "up"
                          else [TESTBED, *args], check=True, timeout=120)


def pct(values, p):
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = max(1, math.ceil(p / 100.0 * len(v)))
    return v[k - 1]


class Arrivals:
    """Incremental reader of the recorder's log."""

    def __init__(self, path):
        self.path = path
        self.off = 0
        self.buf = b""

    def seek_end(self):
        self.off = os.path.getsize(self.path) if os.path.exists(self.path) else 0
        self.buf = b""
        return self.off

    def poll(self):
        """New complete rows: (t, proto, src)."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, "rb") as f:
            f.seek(self.off)
            data = f.read()
        self.off += len(data)
        data = self.buf + data
        lines = data.split(b"\n")
        self.buf = lines.pop()
        rows = []
        for ln in lines:
            p = ln.split()
            if len(p) == 4:
                rows.append((int(p[0]), p[1].decode(), p[2].decode()))
        return rows

    def last_udp(self, window_s=0.3):
        """The newest UDP source seen within window_s, by reading the file's tail."""
        if not os.path.exists(self.path):
            return None, None
        size = os.path.getsize(self.path)
        with open(self.path, "rb") as f:
            f.seek(max(0, size - 8192))
            tail = f.read().split(b"\n")
        now = mono()
        for ln in reversed(tail):
            p = ln.split()
            if len(p) == 4 and p[1] == b"udp":
                t = int(p[0])
                if now - t <= window_s * 1e9:
                    return p[2].decode(), t
                return None, t
        return None, None


def boost_probes():
    """The prober and the recorder are the measuring instrument: keep them off the run queue's tail
    (SCHED_FIFO) on a loaded machine. The systems under test keep their normal priority."""
    for name in ("prober", "recorder"):
        try:
            with open(os.path.join(RUN, name + ".pid")) as f:
                pid = f.read().strip()
            sh(["chrt", "-f", "-p", "10", pid], check=False)
        except OSError:
            pass


def ext_diag():
    boost_probes()
    """A dynamic set at the service that remembers which outside-allowlist sources it dropped."""
    nsx("ext", "nft", "add", "set", "inet", "partner", "seen",
        "{ type ipv4_addr . inet_proto . inet_service; flags dynamic; size 1024; }")
    nsx("ext", "nft", "insert", "rule", "inet", "partner", "input", "ip", "daddr", "198.51.100.10", "ip", "saddr",
        "!=", "@allowlist", "add", "@seen", "{ ip saddr . meta l4proto . th dport }")


def blocked_sources(flush=False):
    r = nsx("ext", "nft", "-j", "list", "set", "inet", "partner", "seen", check=False)
    out = []
    try:
        for item in json.loads(r.stdout)["nftables"]:
            for e in (item.get("set") or {}).get("elem", []):
                v = e["elem"]["val"] if isinstance(e, dict) and "elem" in e else e
                c = v["concat"]
                out.append(f"{c[0]}/{c[1]}/{c[2]}")
    except Exception:
        pass
    if flush:
        nsx("ext", "nft", "flush", "set", "inet", "partner", "seen", check=False)
    return sorted(set(out))


def blocked_count():
    """Packets the external service's own allowlist dropped (sources outside it) so far."""
    r = nsx("ext", "nft", "-j", "list", "chain", "inet", "partner", "input", check=False)
    try:
        for item in json.loads(r.stdout)["nftables"]:
            rule = item.get("rule")
            if rule:
                for e in rule["expr"]:
                    if "counter" in e:
                        return e["counter"]["packets"]
    except Exception:
        pass
    return -1


def node_off(node):
    """The node drops off both networks at once (as a power loss looks to everyone else)."""
    nsx(node, "sh", "-c", "ip link set clu0 down & ip link set pub0 down & wait")


def node_on(node):
    nsx(node, "ip", "link", "set", "clu0", "up")
    nsx(node, "ip", "link", "set", "pub0", "up")
    # routes through a link that went down are gone
    nsx(node, "ip", "route", "replace", "198.51.100.0/24", "via", "172.16.0.1", "dev", "pub0")
    nsx(node, "ip", "route", "replace", "10.244.1.0/24", "via", "10.0.0.21", "dev", "clu0")


# ---------------------------------------------------------------- our agents

class Ours:
    impl = "ours"

    def __init__(self, build, config):
        self.build = build
        self.config = config  # default | tuned
        self.ctl = os.path.join(build, "ctl/egressctl")
        self.et = 0.3 if config == "default" else 0.06
        self.stopped = set()

    def up(self):
        args = ["up", "--traffic"] + (["--tuned"] if self.config == "tuned" else [])
        testbed(self.build, *args)
        ext_diag()

    def status(self, endpoint):
        # The testbed runs the agents with mutual TLS (its operator certificate, see ctl-args).
        tls = os.path.join(RUN, "tls", "operator")
        tls_args = ["--tls-dir", tls] if os.path.exists(os.path.join(tls, "ca.pem")) else []
        r = sh(["ip", "netns", "exec", ns("mgmt"), self.ctl, *tls_args, "--endpoint", endpoint, "--timeout",
                "400ms", "status", "-o", "json"], check=False, timeout=5)
        if r.returncode != 0:
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            return None

    def master(self):
        """The master every agent agrees on, if all egress nodes are up and healthy; else None."""
        masters = set()
        view = None
        for ep in [CLU[n] + ":7401" for n in EGRESS] + ["10.0.0.21:7401"]:
            s = self.status(ep)
            if s is None:
                return None
            masters.add(s.get("master"))
            if ep.startswith(CLU["egress-1"]):
                view = s
        if len(masters) != 1 or None in masters:
            return None
        m = masters.pop()
        nodes = {x["name"]: x for x in view.get("nodes", [])}
        for n in EGRESS:
            x = nodes.get(n)
            if not x or not x.get("healthy") or not x.get("candidate"):
                return None
        return m

    def pid(self, node):
        with open(os.path.join(RUN, node + ".pid")) as f:
            return int(f.read())

    def inject(self, fault, node):
        if fault == "kill":
            os.kill(self.pid(node), signal.SIGKILL)
        elif fault == "term":
            os.kill(self.pid(node), signal.SIGTERM)
        elif fault == "stop":
            os.kill(self.pid(node), signal.SIGSTOP)
            self.stopped.add(node)
        elif fault == "linkdown":
            nsx(node, "ip", "link", "set", "pub0", "down")
        elif fault == "crash":
            node_off(node)

    def restore(self, fault, node):
        if fault in ("kill", "term"):
            pid = self.pid(node)
            deadline = time.time() + 5
            while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
                try:  # reap-less check: a zombie of our child cannot exist (testbed started it)
                    with open(f"/proc/{pid}/stat") as f:
                        if f.read().split()[2] == "Z":
                            break
                except OSError:
                    break
                time.sleep(0.02)
            subprocess.run([TESTBED, "start", "--build", self.build, node], check=True)
        elif fault == "stop":
            os.kill(self.pid(node), signal.SIGCONT)
            self.stopped.discard(node)
        elif fault in ("linkdown", "crash"):
            node_on(node)

    def settle(self):
        return max(0.5, 3 * self.et)

    def resume_all(self):
        for n in list(self.stopped):
            try:
                os.kill(self.pid(n), signal.SIGCONT)
            except OSError:
                pass

    def down(self):
        self.resume_all()


# ---------------------------------------------------------------- keepalived

KA_CONF = """global_defs {{
  router_id {name}
  vrrp_version 3
  vrrp_garp_master_repeat 3
  vrrp_garp_master_refresh 0
  script_user root
}}
vrrp_instance egw {{
  state BACKUP
  nopreempt
  interface clu0
  virtual_router_id 51
  priority {prio}
  advert_int {advert}
  unicast_src_ip {src}
  unicast_peer {{
{peers}
  }}
  virtual_ipaddress {{
    {vip}/24 dev clu0
  }}
  track_interface {{
    pub0
  }}
  notify_master "{gate} open"
  notify_backup "{gate} close"
  notify_fault "{gate} close"
  notify_stop "{gate} close"
}}
"""

# The usual keepalived SNAT gateway: the SNAT rule is the same on every node, and notify scripts open
# the forward path for the selected traffic on the master and close it elsewhere. (A daemon that
# is SIGKILLed or frozen runs no script: its node keeps forwarding whatever still reaches it.)
KA_GATE = """#!/bin/sh
case $1 in
  open) exec nft flush chain ip kabench gate ;;
  close) exec nft 'flush chain ip kabench gate; add rule ip kabench gate oifname "pub0" ip saddr 10.244.0.0/16 counter drop' ;;
esac
"""


class Keepalived:
    impl = "keepalived"

    def __init__(self, build, advert):
        self.build = build
        self.advert = advert
        self.config = f"advert_int {advert}"
        self.procs = {}
        self.stopped = set()

    def up(self):
        testbed(self.build, "up", "--no-agents", "--traffic")
        ext_diag()
        nsx("worker", "ip", "route", "replace", "198.51.100.0/24", "via", VIP, "dev", "clu0")
        for n in EGRESS:
            r = subprocess.run(["ip", "netns", "exec", ns(n), "nft", "-f", "-"], input=(
                "table ip kabench {\n chain post {\n  type nat hook postrouting priority 100;\n"
                f"  oifname \"pub0\" ip saddr 10.244.0.0/16 snat to {PUB[n]}\n }}\n"
                # packets NAT skips (conntrack INVALID, e.g. a FIN/RST of a flow the old master
                # carried) would otherwise leave with the pod's own address
                " chain leak {\n  type filter hook postrouting priority 101;\n"
                "  oifname \"pub0\" ip saddr 10.244.0.0/16 counter drop\n }\n"
                " chain gate {\n  type filter hook forward priority 0;\n"
                "  oifname \"pub0\" ip saddr 10.244.0.0/16 counter drop\n }\n}\n"),
                text=True, check=True)
            gate = os.path.join(RUN, "ka-gate.sh")
            with open(gate, "w") as f:
                f.write(KA_GATE)
            os.chmod(gate, 0o755)
            with open(os.path.join(RUN, f"ka-{n}.conf"), "w") as f:
                f.write(KA_CONF.format(gate=gate, name=n, prio=KA_PRIO[n], advert=self.advert, src=CLU[n], vip=VIP,
                                       peers="\n".join(f"    {CLU[p]}" for p in EGRESS if p != n)))
            self.start(n)

    def start(self, n):
        for suf in ("pid", "vrrp.pid", "chk.pid", "bfd.pid"):
            try:
                os.unlink(os.path.join(RUN, f"ka-{n}.{suf}"))
            except OSError:
                pass
        logf = open(os.path.join(RUN, f"ka-{n}.log"), "a")
        p = subprocess.Popen(["ip", "netns", "exec", ns(n), "keepalived", "-n", "-l", "-D",
                              "-f", os.path.join(RUN, f"ka-{n}.conf"),
                              "-p", os.path.join(RUN, f"ka-{n}.pid"),
                              "-r", os.path.join(RUN, f"ka-{n}.vrrp.pid"),
                              "-c", os.path.join(RUN, f"ka-{n}.chk.pid"),
                              "-b", os.path.join(RUN, f"ka-{n}.bfd.pid")],
                             stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        self.procs[n] = p

    def holders(self):
        h = []
        for n in EGRESS:
            r = nsx(n, "ip", "-o", "-4", "addr", "show", "dev", "clu0", check=False)
            if f" {VIP}/" in r.stdout:
                h.append(n)
        return h

    def master(self):
        for n in EGRESS:
            p = self.procs.get(n)
            if p is None or p.poll() is not None or n in self.stopped:
                return None
            if not os.path.exists(os.path.join(RUN, f"ka-{n}.vrrp.pid")):
                return None
        h = self.holders()
        return h[0] if len(h) == 1 else None

    def inject(self, fault, node):
        p = self.procs[node]
        if fault == "kill":    # the whole process group: parent and VRRP child die at once (a crash)
            os.killpg(p.pid, signal.SIGKILL)
        elif fault == "term":  # as `systemctl stop`: the parent tells its child, which sends priority 0
            os.kill(p.pid, signal.SIGTERM)
        elif fault == "stop":
            os.killpg(p.pid, signal.SIGSTOP)
            self.stopped.add(node)
        elif fault == "linkdown":  # pub0 is a track_interface: the master goes to FAULT
            nsx(node, "ip", "link", "set", "pub0", "down")
        elif fault == "crash":
            node_off(node)

    def restore(self, fault, node):
        p = self.procs[node]
        if fault in ("kill", "term"):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            # a SIGKILLed keepalived leaves its VIP behind (the kernel keeps the address)
            nsx(node, "ip", "addr", "del", f"{VIP}/24", "dev", "clu0", check=False)
            nsx(node, os.path.join(RUN, "ka-gate.sh"), "close", check=False)  # as a node's boot would
            self.start(node)
        elif fault == "stop":
            os.killpg(p.pid, signal.SIGCONT)
            self.stopped.discard(node)
        elif fault in ("linkdown", "crash"):
            node_on(node)

    def settle(self):
        return 3.5 * float(self.advert) + 0.5

    def down(self):
        for n, p in self.procs.items():
            try:
                os.killpg(p.pid, signal.SIGCONT)
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                p.wait(timeout=3)
            except Exception:
                pass
        self.procs = {}


# ---------------------------------------------------------------- trials

def wait_ready(impl, arr, timeout):
    """Until one master is agreed and the stream arrives from its public IP."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = impl.master()
        if m:
            src, _ = arr.last_udp(0.2)
            if src == PUB[m]:
                return m
        time.sleep(0.05)
    return None


def analyze(path, since, until):
    r = sh([sys.executable, TRAFFIC, "analyze", path, "--since", str(since), "--until", str(until),
            "--allow", ",".join(sorted(ALLOW))])
    return json.loads(r.stdout)


def trial(impl, fault, idx, arr, outdir, args):
    m = wait_ready(impl, arr, args.ready_timeout)
    if not m:
        return None
    old_ip = PUB[m]
    blocked0 = blocked_count()
    blocked_sources(flush=True)
    start_off = arr.seek_end()
    time.sleep(0.2)           # some stream before the fault, so the gap straddling it is seen
    arr.poll()
    t0 = mono()
    impl.inject(fault, m)
    t_switch, new_src = None, None
    deadline = t0 + args.switch_timeout * 1e9
    while mono() < deadline:
        for t, proto, src in arr.poll():
            if proto == "udp" and t > t0 and src != old_ip and src in ALLOW and t_switch is None:
                t_switch, new_src = t, src
        if t_switch:
            break
        time.sleep(0.005)
    t_fault_end = (t_switch or mono()) + int(args.hold * 1e9)
    while mono() < t_fault_end:
        time.sleep(0.02)
    arr.poll()
    t_restore = mono()
    impl.restore(fault, m)
    m2 = wait_ready(impl, arr, args.ready_timeout)
    time.sleep(impl.settle())
    t_end = mono()
    # the window of this trial: from 0.2 s before the fault to the end of its restore
    win = os.path.join(outdir, "windows", f"{impl.impl}-{impl.config.replace(' ', '')}-{fault}-{idx:03d}-{t0}.log")
    with open(ARRIVALS, "rb") as f, open(win, "wb") as o:
        f.seek(start_off)
        o.write(f.read())
    a = analyze(win, t0 - 150_000_000, t_fault_end)
    seqs = set()
    with open(win) as f:
        for ln in f:
            p = ln.split()
            if len(p) == 4 and p[1] == "udp" and t0 - 150_000_000 <= int(p[0]) <= t_fault_end:
                seqs.add(int(p[3]))
    lost = (max(seqs) - min(seqs) + 1 - len(seqs)) if seqs else -1
    full = analyze(win, t0 - 150_000_000, t_end)
    after = [s for s in full["sources"] if t_switch and s["first_ns"] > t_switch and s["ip"] == old_ip]
    restore_gap = analyze(win, t_restore, t_end)["max_gap_ms"]
    blocked = blocked_count() - blocked0 if blocked0 >= 0 else -1
    blocked_src = blocked_sources()
    row = {
        "impl": impl.impl, "config": impl.config, "fault": fault, "trial": idx,
        "old_master": m, "old_ip": old_ip, "new_ip": new_src or "",
        "switched": int(t_switch is not None),
        "gap_ms": a["max_gap_ms"] if t_switch else round(args.switch_timeout * 1000, 1),
        "lost_datagrams": lost,
        "switch_ms": round((t_switch - t0) / 1e6, 1) if t_switch else "",
        "outside_allowlist": " ".join(full["outside_allowlist"]),
        "blocked_by_service": blocked,
        "blocked_sources": " ".join(blocked_src),
        "old_master_returned": int(bool(after)),
        "returned": " ".join(full["returned"]),
        "restore_gap_ms": restore_gap,
        "next_master": m2 or "",
        "t_fault_ns": t0,
        "valid": int(pre_fault_ok(win, t0, old_ip)),
        "old_tail_ms": old_tail_ms(win, t0, old_ip, t_switch),
        "load1": open("/proc/loadavg").read().split()[0],
        "window": os.path.basename(win),
    }
    return row


def pre_fault_ok(win, t0, old_ip):
    """The trial is valid only if the master we faulted was carrying the stream right before the
    fault (last arrival within 100 ms before t0, from old_ip). Otherwise a switch (or a stall) was
    already under way and the trial measures that instead."""
    last = None
    try:
        with open(win) as f:
            for ln in f:
                p = ln.split()
                if len(p) == 4 and p[1] == "udp" and t0 - 200_000_000 <= int(p[0]) <= t0:
                    last = (int(p[0]), p[2])
    except OSError:
        return True
    return last is not None and last[1] == old_ip and t0 - last[0] <= 100_000_000


def old_tail_ms(win, t0, old_ip, t_switch):
    """How long the faulted master's IP still arrived after the fault (until the switch): the time
    it kept carrying traffic (ours: until its lease element expired; keepalived: unfenced)."""
    last = None
    try:
        with open(win) as f:
            for ln in f:
                p = ln.split()
                if len(p) == 4 and p[1] == "udp" and p[2] == old_ip and int(p[0]) >= t0 \
                        and (t_switch is None or int(p[0]) <= t_switch):
                    last = int(p[0])
    except OSError:
        return ""
    return round((last - t0) / 1e6, 1) if last else 0.0


FIELDS = ["impl", "config", "fault", "trial", "old_master", "old_ip", "new_ip", "switched", "gap_ms",
          "lost_datagrams", "switch_ms", "outside_allowlist", "blocked_by_service", "blocked_sources", "old_master_returned", "returned",
          "restore_gap_ms", "next_master", "t_fault_ns", "valid", "old_tail_ms", "load1", "window"]


def summarize(rows, faults, columns):
    out = []
    by = {}
    for r in rows:
        by.setdefault((r["fault"], r["impl"] + " " + r["config"]), []).append(r)
    for fault in faults:
        cols = [c for c in columns if (fault, c) in by]
        if not cols:
            continue
        out.append(f"\n== fault: {fault} ==  (gap = longest silence of the 5 ms UDP stream, ms)")
        w = 27
        out.append("".ljust(16) + "".join(c.ljust(w) for c in cols))
        stats = {}
        for c in cols:
            rs = by[(fault, c)]
            g = [float(r["gap_ms"]) for r in rs]
            stats[c] = {"n": len(rs), "p50": pct(g, 50), "p95": pct(g, 95), "p99": pct(g, 99), "max": max(g),
                        "noswitch": sum(1 for r in rs if not r["switched"]),
                        "bad": sum(1 for r in rs if r["outside_allowlist"] or (r["blocked_by_service"] not in ("", -1) and int(r["blocked_by_service"]) > 0)),
                        "ret": sum(1 for r in rs if r["old_master_returned"] or r["returned"])}
        for k in ("n", "p50", "p95", "p99", "max"):
            out.append(k.ljust(16) + "".join((str(stats[c][k]) if k == "n" else f"{stats[c][k]:.1f}").ljust(w) for c in cols))
        for c in cols:
            rs = by[(fault, c)]
            sw = [float(r["switch_ms"]) for r in rs if r["switch_ms"] not in ("", None)]
            tl = [float(r["old_tail_ms"]) for r in rs if r["old_tail_ms"] not in ("", None)]
            stats[c]["sw"] = f"{pct(sw, 50):.0f}/{max(sw):.0f}" if sw else "-"
            stats[c]["tail"] = f"{pct(tl, 50):.0f}/{max(tl):.0f}" if tl else "-"
        out.append("switch p50/max".ljust(16) + "".join(stats[c]["sw"].ljust(w) for c in cols))
        out.append("old IP p50/max".ljust(16) + "".join(stats[c]["tail"].ljust(w) for c in cols))
        out.append("no switch".ljust(16) + "".join(str(stats[c]["noswitch"]).ljust(w) for c in cols))
        out.append("outside allow".ljust(16) + "".join(str(stats[c]["bad"]).ljust(w) for c in cols))
        out.append("old returned".ljust(16) + "".join(str(stats[c]["ret"]).ljust(w) for c in cols))
        for ka, ours in (("keepalived advert_int 1", "ours default"), ("keepalived advert_int 0.1", "ours tuned")):
            if ka in stats and ours in stats:
                r50 = stats[ka]["p50"] / stats[ours]["p50"] if stats[ours]["p50"] else float("inf")
                r99 = stats[ka]["p99"] / stats[ours]["p99"] if stats[ours]["p99"] else float("inf")
                out.append(f"ratio {ka} / {ours}: p50 x{r50:.1f}, p99 x{r99:.1f}")
    return "\n".join(out)


def markdown(rows, faults, columns):
    out = ["| fault | metric | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    by = {}
    for r in rows:
        by.setdefault((r["fault"], r["impl"] + " " + r["config"]), []).append(r)
    for fault in faults:
        for k in ("n", "p50", "p95", "p99", "max", "switch p50/max", "old IP carried p50/max", "no switch",
                  "outside allowlist", "old master returned"):
            cells = []
            for c in columns:
                rs = by.get((fault, c))
                if not rs:
                    cells.append("–")
                    continue
                g = [float(r["gap_ms"]) for r in rs]
                sw = [float(r["switch_ms"]) for r in rs if r["switch_ms"] not in ("", None)] or [0]
                tl = [float(r["old_tail_ms"]) for r in rs if r["old_tail_ms"] not in ("", None)] or [0]
                v = {"switch p50/max": f"{pct(sw, 50):.0f} / {max(sw):.0f}",
                     "old IP carried p50/max": f"{pct(tl, 50):.0f} / {max(tl):.0f}",
                     "n": len(g), "p50": pct(g, 50), "p95": pct(g, 95), "p99": pct(g, 99), "max": max(g),
                     "no switch": sum(1 for r in rs if not r["switched"]),
                     "outside allowlist": sum(1 for r in rs if r["outside_allowlist"] or int(r["blocked_by_service"] or 0) > 0),
                     "old master returned": sum(1 for r in rs if r["old_master_returned"] or r["returned"])}[k]
                cells.append(f"{v:.1f}" if isinstance(v, float) else str(v))
            out.append(f"| {fault} | {k} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--faults", default="kill,linkdown,stop,term")
    ap.add_argument("--configs", default="default,tuned")
    ap.add_argument("--keepalived", default="1,0.1")
    ap.add_argument("--out", default="/tmp/egw-failover-results")
    ap.add_argument("--switch-timeout", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=0.5)
    ap.add_argument("--ready-timeout", type=float, default=30.0)
    ap.add_argument("--summary-only", action="store_true", help="re-print the summary of <out>/trials.csv")
    args = ap.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    for f in faults:
        if f not in FAULTS:
            sys.exit(f"unknown fault {f}")
    configs = [c for c in args.configs.split(",") if c and c != "none"]
    kas = [] if args.keepalived in ("none", "") else [a for a in args.keepalived.split(",") if a]
    os.makedirs(os.path.join(args.out, "windows"), exist_ok=True)
    csv_path = os.path.join(args.out, "trials.csv")
    columns = [f"ours {c}" for c in configs] + [f"keepalived advert_int {a}" for a in kas]

    if not args.summary_only:
        new = not os.path.exists(csv_path)
        fcsv = open(csv_path, "a", newline="")
        wr = csv.DictWriter(fcsv, fieldnames=FIELDS)
        if new:
            wr.writeheader()
        plan = [Ours(args.build, c) for c in configs] + [Keepalived(args.build, a) for a in kas]
        for impl in plan:
            log(f"== {impl.impl} {impl.config}: testbed up")
            impl.up()
            arr = Arrivals(ARRIVALS)
            try:
                if not wait_ready(impl, arr, 60):
                    log(f"!! {impl.impl} {impl.config}: no master with traffic after 60 s; skipped")
                    continue
                for fault in faults:
                    done = fails = 0
                    while done < args.trials and fails < 10:
                        row = trial(impl, fault, done + 1, arr, args.out, args)
                        if row is None:
                            fails += 1
                            log(f"!! {impl.impl} {impl.config} {fault}: cluster not ready; retry")
                            continue
                        wr.writerow(row)
                        fcsv.flush()
                        if not row["valid"]:
                            fails += 1
                            log(f"!! {impl.impl} {impl.config} {fault}: invalid trial (master not carrying before the fault); again")
                            continue
                        done += 1
                        log(f"{impl.impl} {impl.config} {fault} #{done}: {row['old_master']} -> {row['new_ip'] or '-'} "
                            f"gap {row['gap_ms']} ms, switch {row['switch_ms']} ms, outside {row['outside_allowlist'] or '-'}"
                            f"/{row['blocked_by_service']}, returned {row['returned'] or '-'}, restore gap {row['restore_gap_ms']} ms")
            finally:
                impl.down()
                subprocess.run([TESTBED, "down", "--build", impl.build], check=False)
        fcsv.close()

    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        if "valid" not in r or r["valid"] in ("", None):
            win = os.path.join(args.out, "windows", r["window"])
            r["valid"] = int(pre_fault_ok(win, int(r["t_fault_ns"]), r["old_ip"]))
        r["valid"] = int(r["valid"])
        if r.get("old_tail_ms") in ("", None):
            sw = int(r["t_fault_ns"]) + int(float(r["switch_ms"]) * 1e6) if r["switch_ms"] else None
            r["old_tail_ms"] = old_tail_ms(os.path.join(args.out, "windows", r["window"]),
                                           int(r["t_fault_ns"]), r["old_ip"], sw)
    invalid = [r for r in rows if not r["valid"]]
    rows = [r for r in rows if r["valid"]]
    for r in rows:
        r["switched"] = int(r["switched"])
        r["old_master_returned"] = int(r["old_master_returned"])
    allcols = sorted({r["impl"] + " " + r["config"] for r in rows},
                     key=lambda c: (c.startswith("keepalived"), c != "ours default", c != "keepalived advert_int 1", c))
    text = summarize(rows, FAULTS, allcols)
    md = markdown(rows, [f for f in FAULTS if any(r["fault"] == f for r in rows)], allcols)
    with open(os.path.join(args.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(md + "\n")
    note = (f"\n{len(invalid)} trial(s) excluded: the faulted master was not carrying the stream in the "
            "100 ms before the fault (a switch or a stall already under way): "
            + ", ".join(f"{r['impl']} {r['config']} {r['fault']} #{r['trial']}" for r in invalid))
    with open(os.path.join(args.out, "summary.txt"), "a") as f:
        f.write(note + "\n")
    print(text)
    print(note)
    print()
    print(md)


if __name__ == "__main__":
    main()
