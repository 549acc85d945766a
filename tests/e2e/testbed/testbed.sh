#!/usr/bin/env bash
# The seed's picture on one machine, inside network namespaces (nothing in the host namespace,
# no route out):
#
#   pod (10.244.1.10) -- worker (10.0.0.21) --+-- br-cluster (10.0.0.0/24) --+-- egress-1 10.0.0.11 | 172.16.0.7 --+
#                                             |                              +-- egress-2 10.0.0.12 | 172.16.0.8 --+-- br-public -- ext: 172.16.0.1, 198.51.100.10
#                                  mgmt 10.0.0.100 (console, egressctl)      +-- egress-3 10.0.0.13 | 172.16.0.9 --+   (allowlist: 172.16.0.7-9)
#
# With --local-pod, a second pod (10.244.11.10) sits behind egress-1 itself (its local traffic).
#
# Usage: testbed.sh up [--build DIR] [--tuned] [--mode primary-ip|virtual-ip] [--no-agents] [--traffic]
#                      [--local-pod] [--capture] [--arp-probe]
#        testbed.sh down | start NODE | kill NODE [SIGNAL] | exec NODE CMD... | prober | status
#        testbed.sh add-node [--priority N] NAME CLUSTER_ADDR EGRESS_IP   (e.g. add-node egress-4 10.0.0.14 172.16.0.5)
#   --capture: every frame entering a public bridge port -> $RUN/capture.log (traffic.py capture)
#   --arp-probe: the service asks for the VIP (172.16.0.100) every 20 ms, so the capture shows who answers
# Every namespace name starts with $EGW_TB_PREFIX (default "egwtb-"); `up` tears down leftovers first.
set -euo pipefail

P=${EGW_TB_PREFIX:-egwtb-}
RUN=${EGW_TB_DIR:-/tmp/${P}run}
BUILD=${EGW_BUILD:-build/release}
HERE=$(cd "$(dirname "$0")" && pwd)

ns() { echo "${P}$1"; }
nsx() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
log() { echo "testbed: $*" >&2; }

down() {
  if [[ -d $RUN ]]; then
    for pidf in "$RUN"/*.pid; do
      [[ -f $pidf ]] || continue
      local pid; pid=$(cat "$pidf")
      kill -CONT "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
    done
    sleep 0.3
    for pidf in "$RUN"/*.pid; do
      [[ -f $pidf ]] || continue
      kill -KILL "$(cat "$pidf")" 2>/dev/null || true
      rm -f "$pidf"
    done
  fi
  for n in $(ip netns list | awk '{print $1}' | grep "^${P}" || true); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$n" 2>/dev/null || true
  done
}

veth() {  # veth NSA IFA NSB IFB
  ip link add "$2" netns "$(ns "$1")" type veth peer name "$4" netns "$(ns "$3")"
}

sysctls() {
  local n=$1
  nsx "$n" sysctl -qw net.ipv4.ip_forward=1
  nsx "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0
  nsx "$n" sysctl -qw net.ipv4.conf.default.rp_filter=0
  nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  nsx "$n" ip link set lo up
}

# Mutual TLS (docs/security.md): scripts/make-certs.sh writes $RUN/tls/NAME/{ca,node,node-key}.pem
# for every egress node (SAN: its cluster address), the workers' shared $RUN/tls/observer/, and
# $RUN/tls/{operator,viewer}/ for egressctl and the console (see ctl-args). EGW_TB_TLS=0: no
# certificates, the agents run with `insecure: true`.
make_certs() {  # make_certs NAME ADDR [observer]
  [[ ${EGW_TB_TLS:-1} == 1 ]] || return 0
  local mk="$HERE/../../../scripts/make-certs.sh"
  local own=(node "$1" --ip "$2")
  [[ ${3:-} == observer ]] && own=(observer)
  { "$mk" --dir "$RUN/tls" "${own[@]}" && "$mk" --dir "$RUN/tls" operator && "$mk" --dir "$RUN/tls" viewer; } \
    >>"$RUN/make-certs.log" 2>&1 || { log "make-certs.sh failed: $(tail -3 "$RUN/make-certs.log")"; exit 1; }
}

# An egress node gets a config of its own. The worker runs as every worker of a real cluster does
# (docs/membership.md "One config for every worker"): no name or address in the file (its name
# from $NODE_NAME, its address from the route to egress-1), the shared observer certificate.
write_config() {  # write_config NAME ADDR [EGRESS_IP]
  local name=$1 addr=$2 eip=${3:-} hb=100ms et=300ms cert=$1
  if [[ $TUNED == 1 ]]; then hb=20ms; et=60ms; fi
  [[ -z $eip ]] && cert=observer
  make_certs "$name" "$addr" "$cert"
  local f="$RUN/$name.yaml"
  {
    if [[ -n $eip ]]; then
      echo "node:"
      echo "  name: $name"
      echo "  address: $addr"
      echo "  egress: { interface: pub0, ip: $eip, gateway: 172.16.0.1 }"
      echo "  candidate: true"
      echo "  priority: ${PRIO[$name]:-100}"
      echo "listen: { peer: \"$addr:7400\", api: \"$addr:7401\", metrics: \"$addr:7402\" }"
    else
      echo "node: {}"
      echo "listen: { peer: \":7400\", api: \":7401\", metrics: \":7402\" }"
    fi
    echo "voters:"
    echo "  - { name: egress-1, address: \"10.0.0.11:7400\" }"
    echo "  - { name: egress-2, address: \"10.0.0.12:7400\" }"
    echo "  - { name: egress-3, address: \"10.0.0.13:7400\" }"
    echo "election: { heartbeat_interval: $hb, election_timeout: $et }"
    echo "mode: $MODE"
    if [[ $MODE == virtual-ip ]]; then echo "virtual_ip: { address: 172.16.0.100/24, interface: pub0 }"; fi
    echo "policies:"
    echo "  - { name: partner-api, sources: [10.244.0.0/16], destinations: [198.51.100.0/24] }"
    echo "datapath: { table: egress_gateway, fwmark: 0x4000, route_table: 4000, no_master: drop }"
    echo "allowlist: { probe: { target: \"198.51.100.10:443\", interval: 2s, timeout: 1s } }"
    if [[ ${EGW_TB_TLS:-1} == 1 ]]; then
      echo "tls: { ca: $RUN/tls/$cert/ca.pem, cert: $RUN/tls/$cert/node.pem, key: $RUN/tls/$cert/node-key.pem }"
    else
      echo "insecure: true"
    fi
    echo "state_dir: $RUN/state-$name"
    echo "log: { level: ${EGW_TB_LOG:-info} }"
  } > "$f"
}

start_agent() {
  local n=$1
  [[ -f $RUN/build-dir ]] && BUILD=$(cat "$RUN/build-dir")
  [[ -f $RUN/$n.yaml ]] || { log "no config for $n"; exit 1; }
  # exec in the background job so $! is the agent's own pid (ip netns exec execs, no fork)
  # Agents run at a raised priority, as in production (the systemd unit sets Nice=-10): an agent
  # starved of CPU misses lease renewals and causes failovers that are not the product's.
  (export NODE_NAME=$n; exec nice -n -10 ip netns exec "$(ns "$n")" "$BUILD/agent/egress-agent" --config "$RUN/$n.yaml" >>"$RUN/$n.log" 2>&1) &
  echo $! > "$RUN/$n.pid"
}

up() {
  down
  mkdir -p "$RUN"
  rm -rf "$RUN"/*
  for n in net ext egress-1 egress-2 egress-3 worker pod mgmt; do ip netns add "$(ns "$n")"; done
  sysctls net
  nsx net ip link add br-cluster type bridge
  nsx net ip link add br-public type bridge
  nsx net ip link set br-cluster up
  nsx net ip link set br-public up

  # external service: the router of the public network and the service itself
  sysctls ext
  veth ext pub0 net ext-pub
  nsx net ip link set ext-pub master br-public up
  nsx ext ip addr add 172.16.0.1/24 dev pub0
  nsx ext ip link set pub0 up
  nsx ext ip addr add 198.51.100.10/32 dev lo   # (no dummy driver on every kernel)
  # its own allowlist, as the external service's owner keeps it
  nsx ext nft -f - <<NFT
table inet partner {
  set allowlist { type ipv4_addr; elements = { 172.16.0.7, 172.16.0.8, 172.16.0.9 } }
  set refused { type ipv4_addr; size 1024; flags dynamic; }
  set refused_from { type ether_addr . ipv4_addr; size 1024; flags dynamic; }
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr 198.51.100.10 ip saddr != @allowlist add @refused { ip saddr } add @refused_from { ether saddr . ip saddr } counter drop
  }
}
NFT
  # In virtual-ip mode traffic leaves with the VIP, which the operator puts on the list too
  # (egressctl allowlist export lists it).
  if [[ $MODE == virtual-ip ]]; then nsx ext nft add element inet partner allowlist '{ 172.16.0.100 }'; fi

  local i=1
  for ip in 172.16.0.7 172.16.0.8 172.16.0.9; do
    wire_egress "egress-$i" "10.0.0.1$i" "$ip"
    i=$((i + 1))
  done

  sysctls worker
  veth worker clu0 net w1-clu
  nsx net ip link set w1-clu master br-cluster up
  nsx worker ip addr add 10.0.0.21/24 dev clu0
  nsx worker ip link set clu0 up
  sysctls pod
  veth worker pod0 pod eth0
  nsx worker ip addr add 10.244.1.1/24 dev pod0
  nsx worker ip link set pod0 up
  nsx pod ip addr add 10.244.1.10/24 dev eth0
  nsx pod ip link set eth0 up
  nsx pod ip route add default via 10.244.1.1

  sysctls mgmt
  veth mgmt clu0 net m-clu
  nsx net ip link set m-clu master br-cluster up
  nsx mgmt ip addr add 10.0.0.100/24 dev clu0
  nsx mgmt ip link set clu0 up

  if [[ $LOCAL_POD == 1 ]]; then add_local_pod; fi
  if [[ $CAPTURE == 1 ]]; then start_capture; fi
  if [[ $ARP_PROBE == 1 ]]; then start_arp_probe; fi

  echo "$BUILD" > "$RUN/build-dir"
  write_config egress-1 10.0.0.11 172.16.0.7
  write_config egress-2 10.0.0.12 172.16.0.8
  write_config egress-3 10.0.0.13 172.16.0.9
  write_config worker 10.0.0.21
  (exec ip netns exec "$(ns ext)" python3 "$HERE/traffic.py" recorder --out "$RUN/arrivals.log" >>"$RUN/recorder.log" 2>&1) &
  echo $! > "$RUN/recorder.pid"
  if [[ $TRAFFIC == 1 ]]; then start_prober; fi
  if [[ $AGENTS == 1 ]]; then
    for n in egress-1 egress-2 egress-3 worker; do start_agent "$n"; done
  fi
  log "up: namespaces ${P}*, run dir $RUN, mode $MODE, $([[ $TUNED == 1 ]] && echo tuned || echo default) timing"
}

start_prober() {
  (exec ip netns exec "$(ns pod)" python3 "$HERE/traffic.py" prober >>"$RUN/prober.log" 2>&1) &
  echo $! > "$RUN/prober.pid"
  if ip netns list | grep -q "^$(ns lpod)\b"; then
    (exec ip netns exec "$(ns lpod)" python3 "$HERE/traffic.py" prober --tag local >>"$RUN/prober-local.log" 2>&1) &
    echo $! > "$RUN/prober-local.pid"
  fi
}

# A pod behind an egress node: its traffic is selected on that node itself (prerouting), so
# while the node is master it leaves directly, SNATed, and is fenced with the node's lease.
# The other nodes route the pod's CIDR back through its node, as a cluster's pod routes do.
add_local_pod() {
  local node=egress-1 addr=10.0.0.11
  ip netns add "$(ns lpod)"
  sysctls lpod
  veth "$node" lpod0 lpod eth0
  nsx "$node" ip addr add 10.244.11.1/24 dev lpod0
  nsx "$node" ip link set lpod0 up
  nsx lpod ip addr add 10.244.11.10/24 dev eth0
  nsx lpod ip link set eth0 up
  nsx lpod ip route add default via 10.244.11.1
  for n in $(ip netns list | awk '{print $1}' | grep "^${P}egress-" | sed "s/^${P}//"); do
    [[ $n == "$node" ]] || nsx "$n" ip route add 10.244.11.0/24 via "$addr"
  done
}

# Frames entering the public bridge's ports (one line each, kernel-timed), and ARP requests for
# the VIP from the service: a frozen node that still answers for the VIP shows up here.
start_capture() {
  (exec ip netns exec "$(ns net)" python3 "$HERE/traffic.py" capture --out "$RUN/capture.log" >>"$RUN/capture.err" 2>&1) &
  echo $! > "$RUN/capture.pid"
  for _ in $(seq 50); do grep -q "capture: ports" "$RUN/capture.err" 2>/dev/null && return; sleep 0.1; done
  log "capture did not start: $(cat "$RUN/capture.err")"; exit 1
}

start_arp_probe() {
  (exec ip netns exec "$(ns ext)" python3 "$HERE/traffic.py" arp-probe --iface pub0 --ip 172.16.0.100 --every-ms 20 >>"$RUN/arp-probe.log" 2>&1) &
  echo $! > "$RUN/arp-probe.pid"
}

# An egress node's namespace wiring (the namespace exists): cluster and public veths on the
# bridges, addresses, the way back to the pods (a cluster's pod routes) and the node's own route
# to the service (allowlist probes from its egress IP). Port names e<N>-clu/e<N>-pub, N from NAME.
wire_egress() {  # wire_egress NAME CLUSTER_ADDR EGRESS_IP
  local n=$1 addr=$2 eip=$3 i=${1##*-}
  sysctls "$n"
  veth "$n" clu0 net "e$i-clu"
  veth "$n" pub0 net "e$i-pub"
  nsx net ip link set "e$i-clu" master br-cluster up
  nsx net ip link set "e$i-pub" master br-public up
  nsx "$n" ip addr add "$addr/24" dev clu0
  nsx "$n" ip addr add "$eip/24" dev pub0
  nsx "$n" ip link set clu0 up
  nsx "$n" ip link set pub0 up
  nsx "$n" ip route add 10.244.1.0/24 via 10.0.0.21
  nsx "$n" ip route add 198.51.100.0/24 via 172.16.0.1 dev pub0
}

# A fourth egress node joining later, as in the seed's last picture: same wiring as the first
# three, a candidate but not a voter, so its agent starts with candidacy `pending`. Its public
# IP is NOT on the service's allowlist: the operator exports it and the service's owner adds it.
add_node() {  # add_node NAME CLUSTER_ADDR EGRESS_IP
  local n=$1 addr=$2 eip=$3
  [[ -f $RUN/build-dir ]] && BUILD=$(cat "$RUN/build-dir")
  PRIO[$n]=${NODE_PRIO:-100}
  ip netns add "$(ns "$n")"
  wire_egress "$n" "$addr" "$eip"
  if ip netns list | grep -q "^$(ns lpod)\b"; then nsx "$n" ip route add 10.244.11.0/24 via 10.0.0.11; fi
  write_config "$n" "$addr" "$eip"
  start_agent "$n"
  log "added $n ($addr, egress $eip): a non-voting candidate, pending until enabled"
}

# egressctl's client settings for this testbed, for scripts and tests:
#   egressctl $(testbed.sh ctl-args) --endpoint 10.0.0.11:7401 status
ctl_args() {
  if [[ -f $RUN/tls/operator/ca.pem ]]; then echo "--tls-dir $RUN/tls/operator"; fi
}

status() {
  for f in "$RUN"/*.yaml; do
    local n; n=$(basename "$f" .yaml)
    local pid="-"
    [[ -f $RUN/$n.pid ]] && pid=$(cat "$RUN/$n.pid")
    echo "$n pid=$pid"
  done
}

cmd=${1:-}
shift || true
TUNED=0
MODE=primary-ip
AGENTS=1
TRAFFIC=0
LOCAL_POD=0
CAPTURE=0
ARP_PROBE=0
declare -A PRIO=([egress-1]=100 [egress-2]=100 [egress-3]=100)
while [[ $# -gt 0 && $1 == --* ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --tuned) TUNED=1; shift ;;
    --mode) MODE=$2; shift 2 ;;
    --no-agents) AGENTS=0; shift ;;
    --traffic) TRAFFIC=1; shift ;;
    --local-pod) LOCAL_POD=1; shift ;;
    --capture) CAPTURE=1; shift ;;
    --arp-probe) ARP_PROBE=1; shift ;;
    --priority) NODE_PRIO=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
# BUILD is needed only to start agents; relative paths are taken from the repository root.
if [[ $cmd == up || $cmd == start ]]; then
  [[ $BUILD == /* ]] || BUILD="$HERE/../../../$BUILD"
  BUILD=$(cd "$BUILD" && pwd) || { log "build directory $BUILD not found (use --build DIR)"; exit 1; }
fi
case $cmd in
  up) up ;;
  down) down; rm -rf "$RUN" ;;
  start) start_agent "$1" ;;
  prober) start_prober ;;
  kill) sig=${2:-KILL}; kill -"$sig" "$(cat "$RUN/$1.pid")" ;;
  exec) n=$1; shift; nsx "$n" "$@" ;;
  add-node) add_node "$@" ;;
  ctl-args) ctl_args ;;
  status) status ;;
  *) sed -n '2,/^set -euo/{/^#/p}' "$0"; exit 2 ;;
esac
