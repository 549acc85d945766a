#!/usr/bin/env bash
# The systemd unit's privilege model, on a real datapath: the agent as an unprivileged user with
# only CAP_NET_ADMIN and CAP_NET_RAW (ambient, bounding set reduced, no_new_privs; what
# User=/AmbientCapabilities=/CapabilityBoundingSet=/NoNewPrivileges= give it) in a network
# namespace of its own: it programs nftables, the policy rule and the sysctls, becomes master,
# /readyz says "datapath applied", and SIGTERM removes everything again.
# Usage: check_unprivileged_agent.sh AGENT_BINARY   (root: network namespaces)
set -euo pipefail
agent=$1
[[ $(id -u) -eq 0 ]] || { echo "needs root (ip netns): skipped"; exit 77; }
command -v setpriv >/dev/null || { echo "setpriv (util-linux) missing: skipped"; exit 77; }
ns=egw-unpriv-$$
dir=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$dir/log" 2>/dev/null | tail -20; exit 1; }

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add eth0 type veth peer name eth0p
ip -n "$ns" link add eth1 type veth peer name eth1p
ip -n "$ns" addr add 10.0.0.11/24 dev eth0
ip -n "$ns" addr add 172.16.0.7/24 dev eth1
for l in eth0 eth0p eth1 eth1p; do ip -n "$ns" link set "$l" up; done
ip -n "$ns" route add default via 172.16.0.1 dev eth1
ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=0   # the agent must fix it (manage_sysctls)

cp "$agent" "$dir/egress-agent"
mkdir "$dir/state"
chown nobody:nogroup "$dir/state"
chmod 755 "$dir"
cat >"$dir/agent.yaml" <<YAML
node: { name: egress-1, address: 10.0.0.11, egress: { interface: eth1, ip: 172.16.0.7 }, candidate: true }
listen: { peer: "10.0.0.11:7400", api: "10.0.0.11:7401", metrics: "127.0.0.1:7402" }
insecure: true
voters:
  - { name: egress-1, address: "10.0.0.11:7400" }
policies:
  - { name: partner, sources: [10.244.0.0/16], destinations: [198.51.100.0/24] }
datapath: { manage_sysctls: true }
state_dir: $dir/state
YAML
chmod 644 "$dir/agent.yaml"

ip netns exec "$ns" setpriv --reuid=nobody --regid=nogroup --clear-groups \
  --inh-caps=-all,+net_admin,+net_raw --ambient-caps=-all,+net_admin,+net_raw \
  --bounding-set=-all,+net_admin,+net_raw --no-new-privs \
  "$dir/egress-agent" --config "$dir/agent.yaml" >"$dir/log" 2>&1 &
pid=$!

ready=
for _ in $(seq 100); do
  ready=$(ip netns exec "$ns" curl -s -m 1 http://127.0.0.1:7402/readyz || true)
  [[ $ready == "ready: master, term "*", datapath applied" ]] && break
  kill -0 "$pid" 2>/dev/null || fail "the agent exited"
  sleep 0.2
done
[[ $ready == "ready: master, term "*", datapath applied" ]] || fail "readyz: '$ready'"
echo "readyz: $ready"
caps=$(awk '/^CapEff/ {print $2}' /proc/$pid/status)
[[ $caps == 0000000000003000 ]] || fail "effective capabilities $caps, expected CAP_NET_ADMIN|CAP_NET_RAW only"
[[ $(stat -c %U /proc/$pid) == nobody ]] || fail "not running as nobody"
ip netns exec "$ns" nft list table inet egress_gateway >/dev/null || fail "no nft table"
ip -n "$ns" rule | grep -q "fwmark 0x4000/0x4000 lookup 4000" || fail "no policy rule"
[[ $(ip netns exec "$ns" sysctl -n net.ipv4.ip_forward) == 1 ]] || fail "ip_forward not fixed"

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
wait "$pid" || fail "exit status $? after SIGTERM"
pid=
ip netns exec "$ns" nft list table inet egress_gateway >/dev/null 2>&1 && fail "nft table left after SIGTERM"
ip -n "$ns" rule | grep -q "lookup 4000" && fail "policy rule left after SIGTERM"
echo "ok: unprivileged agent with CAP_NET_ADMIN+CAP_NET_RAW ran the datapath and removed it"
