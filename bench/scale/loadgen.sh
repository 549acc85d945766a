#!/usr/bin/env bash
# bench/scale/loadgen.sh: 3 real voter agents (--no-datapath, default timers 100/300 ms) and
# bench_scale_loadgen playing N observers over the real gRPC peer protocol (docs/bench-scale.md).
# Two steady windows in one run: (a) the baseline, the voters alone; (b) with the N observers.
# For each: every voter's CPU (% of one core, utime+stime from /proc/PID/stat; the master marked),
# the generator's CPU, the peer payload the generator sent and received (serialized messages and
# acks), the bytes on lo, and the elections in the window. Then it SIGKILLs the master and reports
# when the last simulated observer received the new master (generator's clock against the kill).
#
# As root it runs in a private network namespace (unshare --net), so the lo counters are exactly
# this benchmark's traffic; without root (or with --no-netns) they are the whole host's loopback.
#
# Usage: bench/scale/loadgen.sh [--observers N (1000)] [--seconds S (60)] [--endpoints E (1)]
#                               [--channels C (1)] [--agent PATH] [--no-netns] [--keep]
#   --endpoints, --channels: passed to bench_scale_loadgen (see its --help)
#   --agent: the egress-agent binary for the voters (default build/release/agent/egress-agent),
#            e.g. a saved copy of an older build to measure it beside the current one
set -euo pipefail
N=1000
SECS=60
ENDPOINTS=1
CHANNELS=1
NETNS=1
KEEP=0
AGENT=
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --observers) N=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --endpoints) ENDPOINTS=$2; shift 2 ;;
    --channels) CHANNELS=$2; shift 2 ;;
    --agent) AGENT=$2; shift 2 ;;
    --no-netns) NETNS=0; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "loadgen.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${AGENT:-$ROOT/build/release/agent/egress-agent}
GEN=$ROOT/build/release/bench/scale/bench_scale_loadgen
for b in "$AGENT" "$GEN"; do
  [[ -x $b ]] || { echo "loadgen.sh: $b is not built (cmake --build build/release --target bench_scale_loadgen)" >&2; exit 2; }
done

if [[ $NETNS == 1 && -z ${EGW_LOADGEN_NETNS:-} ]]; then
  if [[ $EUID -eq 0 ]]; then
    exec unshare --net env EGW_LOADGEN_NETNS=1 bash "$0" "${ARGS[@]}"
  fi
  echo "loadgen.sh: not root: no private network namespace; lo counts the whole host's loopback" >&2
fi
if [[ -n ${EGW_LOADGEN_NETNS:-} ]]; then
  ip link set lo up
  LO_SCOPE="lo of a private netns: this benchmark only"
else
  LO_SCOPE="the host's lo: everything on this machine"
fi

DIR=$(mktemp -d /tmp/egw-loadgen.XXXXXX)
X=$((10 + $$ % 10)) Y=$(( ($$ / 10) % 250 + 1 ))   # 127.10-19.y.0/24: no test or other bench uses it
declare -A PID
GPID=
cleanup() {
  [[ -n $GPID ]] && kill -9 "$GPID" 2>/dev/null || true
  for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $KEEP == 1 ]]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT INT TERM
fail() { echo "loadgen.sh: $*" >&2; exit 1; }

VOTERS=(egress-1 egress-2 egress-3)
voters="" gen_voters=""
for i in 1 2 3; do
  voters+="  - { name: egress-$i, address: \"127.$X.$Y.$i:7400\" }"$'\n'
  gen_voters+="${gen_voters:+,}egress-$i=127.$X.$Y.$i:7400"
done
for i in 1 2 3; do
  n=egress-$i h=127.$X.$Y.$i
  {
    echo "node: { name: $n, address: $h, egress: { interface: lo, ip: $h }, candidate: true }"
    echo "listen: { peer: \"$h:7400\", api: \"$h:7401\" }"
    echo "voters:"
    printf '%s' "$voters"
    echo "state_dir: $DIR/state-$n"
    echo "log: { level: info }"
  } > "$DIR/$n.yaml"
  "$AGENT" --config "$DIR/$n.yaml" --no-datapath >>"$DIR/$n.log" 2>&1 &
  PID[$n]=$!
  disown
done
echo "== 3 voters ($("$AGENT" --version 2>/dev/null | head -1)) on 127.$X.$Y.1-3, $N observers from bench_scale_loadgen;" \
     "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

elections() { cat "$DIR"/egress-*.log | grep -c "elected master" || true; }
master() { grep -h "elected master" "$DIR"/egress-*.log | sort | tail -1 | awk '{print $5}'; }
deadline=$((SECONDS + 30))
until [[ $(elections) -gt 0 ]]; do
  (( SECONDS < deadline )) || fail "no master elected within 30 s (logs: --keep)"
  sleep 0.5
done
sleep 5

HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$1/status" 2>/dev/null || echo 0; }
lo_bytes() { awk '$1 == "lo:" {print $2}' /proc/net/dev; }
pct() { awk -v t="$1" -v hz="$HZ" -v s="$SECS" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }
field() { grep -o " $1=[^ ]*" <<<"$2" | cut -d= -f2; }
gen_stats() {  # the generator's counters: a fresh "stats" line
  local before
  before=$(grep -c '^stats' "$DIR/gen.out" || true)
  kill -USR1 "$GPID"
  for _ in $(seq 100); do
    [[ $(grep -c '^stats' "$DIR/gen.out" || true) -gt $before ]] && break
    sleep 0.05
  done
  grep '^stats' "$DIR/gen.out" | tail -1
}

ROWS=()
window() {  # window LABEL: one steady window of SECS seconds
  local label=$1 m g0 g1 s0 s1 b0 b1 e0 e1 row n d
  declare -A T0
  m=$(master)
  for n in "${VOTERS[@]}"; do T0[$n]=$(ticks "${PID[$n]}"); done
  [[ -n $GPID ]] && { g0=$(ticks "$GPID"); s0=$(gen_stats); }
  b0=$(lo_bytes) e0=$(elections)
  echo "   $label: steady window of $SECS s (master $m)"
  sleep "$SECS"
  b1=$(lo_bytes) e1=$(elections)
  [[ -n $GPID ]] && { kill -0 "$GPID" 2>/dev/null || fail "the generator exited: $(cat "$DIR/gen.err")"; g1=$(ticks "$GPID"); s1=$(gen_stats); }
  row="| $label |"
  for n in "${VOTERS[@]}"; do
    d=$(( $(ticks "${PID[$n]}") - T0[$n] ))
    row+=" $(pct $d) %$([[ $n == "$m" ]] && echo " (master)"), $(rss_mb "${PID[$n]}") MB |"
  done
  if [[ -n $GPID ]]; then
    local payload=0 k
    for k in report_bytes ack_bytes update_bytes; do payload=$((payload + $(field $k "$s1") - $(field $k "$s0"))); done
    local reports=$(( $(field reports "$s1") - $(field reports "$s0") ))
    local updates=$(( $(field updates "$s1") - $(field updates "$s0") ))
    row+=" $(pct $((g1 - g0))) % |"
    row+=" $(awk -v r=$reports -v u=$updates -v s="$SECS" 'BEGIN {printf "%.0f / %.0f", r / s, u / s}') |"
    row+=" $(awk -v b=$payload -v s="$SECS" 'BEGIN {printf "%.3f", b / s / 1e6}') MB/s |"
    row+=" $(( $(field failed_rpcs "$s1") - $(field failed_rpcs "$s0") )) |"
  else
    row+=" — | — | — | — |"
  fi
  row+=" $(awk -v b=$((b1 - b0)) -v s="$SECS" 'BEGIN {printf "%.3f", b / s / 1e6}') MB/s | $((e1 - e0)) |"
  ROWS+=("$row")
}

# (a) the baseline: the voters alone.
window "baseline: 3 voters, 0 observers"

# (b) the voters with N simulated observers.
: >"$DIR/gen.out"
"$GEN" --voters "$gen_voters" --observers "$N" --listen "127.$X.$Y.10" --endpoints "$ENDPOINTS" \
  --channels "$CHANNELS" >"$DIR/gen.out" 2>"$DIR/gen.err" &
GPID=$!
deadline=$((SECONDS + 60))
until grep -q '^settled' "$DIR/gen.out"; do
  kill -0 "$GPID" 2>/dev/null || fail "the generator exited: $(cat "$DIR/gen.err")"
  (( SECONDS < deadline )) || fail "not every observer follows a master after 60 s: $(gen_stats)"
  sleep 0.5
done
echo "   generator: $(grep ^listening "$DIR/gen.out" | awk '{sub(/,.*/, ",...", $2); print}'); $(grep ^settled "$DIR/gen.out")"
sleep 5
window "$N observers (generator)"

# SIGKILL the master; when did the last simulated observer receive its successor?
old=$(master)
t0=$(date +%s%3N)
kill -9 "${PID[$old]}"
unset "PID[$old]"
sleep 5
s=$(gen_stats)
new=$(field master "$s")
[[ $new != "$old" && $new != - ]] || fail "no observer follows a new master 5 s after the SIGKILL of $old: $s"
el=$(grep -h "elected master" "$DIR/$new.log" | tail -1)
te=$(date -d "$(awk '{print $1 " " $2}' <<<"$el")" +%s%3N)
following=$(field following "$s") late=$(field late "$s")
first=$(field first_ms "$s") p50=$(field p50_ms "$s") p90=$(field p90_ms "$s") last=$(field last_ms "$s")
kill -TERM "$GPID"
rc=0
wait "$GPID" || rc=$?
GPID=
[[ $rc == 0 ]] || fail "the generator failed (exit $rc): $(cat "$DIR/gen.err")"

echo
echo "| phase | egress-1 CPU, RSS | egress-2 | egress-3 | generator CPU | reports / updates per s | peer payload (generator) | bytes on lo | elections |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "CPU: % of one core over the window. Bytes on lo: $LO_SCOPE (packets with their TCP/IP and HTTP/2"
echo "headers, counted once). Peer payload: serialized messages and acks the generator sent and received."
echo "SIGKILL of $old: $new elected $((te - t0)) ms after the kill; $following of $N observers follow it;"
echo "received it after the kill: first $((first - t0)) ms, median $((p50 - t0)), p90 $((p90 - t0)), last $((last - t0)) ms"
echo "(the last $((last - te)) ms after the election); $late of them only after their own feed failed over (3 silent keepalives)."
(( following == N )) || fail "$((N - following)) observers did not receive the new master within 5 s"
