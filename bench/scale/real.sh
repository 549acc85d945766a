#!/usr/bin/env bash
# bench/scale/real.sh: 3 voters + N observer agents as real processes on this machine (loopback,
# --no-datapath, default timers 100/300 ms): their CPU over a steady window (from /proc), the
# bytes on lo, the elections during that window, and after a SIGKILL of the master how long until
# the last observer follows the new one (from the agents' own log lines, ms timestamps).
# docs/bench-scale.md. No root needed.
#
# Usage: bench/scale/real.sh [--observers N (150)] [--seconds S (120)] [--agent PATH] [--keep]
#   --agent: another build's egress-agent, e.g. the protocol 1 baseline of docs/bench-scale.md
set -euo pipefail
N=150
SECS=120
AGENT=$(cd "$(dirname "$0")/../.." && pwd)/build/release/agent/egress-agent
KEEP=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --observers) N=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --agent) AGENT=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) echo "real.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -x $AGENT ]] || { echo "real.sh: $AGENT is not an executable (build egress-agent first)" >&2; exit 2; }
(( N >= 0 && N <= 240 )) || { echo "real.sh: --observers must be 0..240 (one /24)" >&2; exit 2; }

DIR=$(mktemp -d /tmp/egw-scale.XXXXXX)
X=$((200 + $$ % 50)) Y=$(( ($$ / 50) % 250 + 1 ))   # 127.200-249.y.0/24: never the tests' ranges
declare -A PID
cleanup() {
  for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $KEEP == 1 ]]; then echo "kept $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT INT TERM

voters=""
for i in 1 2 3; do voters+="  - { name: egress-$i, address: \"127.$X.$Y.$i:7400\" }"$'\n'; done
config() {  # config NAME HOST VOTER
  {
    if [[ $3 == 1 ]]; then
      echo "node: { name: $1, address: $2, egress: { interface: lo, ip: $2 }, candidate: true }"
    else
      echo "node: { name: $1, address: $2 }"
    fi
    echo "listen: { peer: \"$2:7400\", api: \"$2:7401\" }"
    echo "voters:"
    printf '%s' "$voters"
    echo "state_dir: $DIR/state-$1"
    echo "log: { level: info }"
  } > "$DIR/$1.yaml"
}
start() {  # start NAME
  "$AGENT" --config "$DIR/$1.yaml" --no-datapath >>"$DIR/$1.log" 2>&1 &
  PID[$1]=$!
  disown  # no "Killed" line from the shell when the bench kills it
}
for i in 1 2 3; do config "egress-$i" "127.$X.$Y.$i" 1; start "egress-$i"; done
for i in $(seq 1 "$N"); do config "worker-$i" "127.$X.$Y.$((10 + i))" 0; start "worker-$i"; done
echo "== $(basename "$AGENT") ($("$AGENT" --version 2>/dev/null | head -1)): 3 voters + $N observers on 127.$X.$Y.0/24"

# Settled: every observer logged the master it follows.
deadline=$((SECONDS + 60))
while :; do
  following=$(grep -l "following master" "$DIR"/worker-*.log 2>/dev/null | wc -l || true)
  [[ $following -ge $N ]] && break
  (( SECONDS < deadline )) || { echo "real.sh: only $following of $N observers follow a master after 60 s" >&2; exit 1; }
  sleep 1
done
sleep 5

ticks() {  # utime+stime of a pid, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
lo_bytes() { awk '$1 == "lo:" {print $2}' /proc/net/dev; }
elections() { cat "$DIR"/egress-*.log | grep -c "elected master" || true; }
declare -A T0
for n in "${!PID[@]}"; do T0[$n]=$(ticks "${PID[$n]}"); done
b0=$(lo_bytes)
e0=$(elections)
echo "   steady window: $SECS s"
sleep "$SECS"
hz=$(getconf CLK_TCK)
b1=$(lo_bytes)
e1=$(elections)
master=$(grep -h "elected master" "$DIR"/egress-*.log | sort | tail -1 | awk '{print $5}')
total=0 obs=0 obs_max=0 rss_max=0
for n in "${!PID[@]}"; do
  d=$(( $(ticks "${PID[$n]}") - T0[$n] ))
  total=$((total + d))
  if [[ $n == worker-* ]]; then
    obs=$((obs + d))
    (( d > obs_max )) && obs_max=$d
    rss=$(awk '/VmRSS/ {print $2}' "/proc/${PID[$n]}/status")
    (( rss > rss_max )) && rss_max=$rss
  fi
done
pct() { awk -v t="$1" -v hz="$hz" -v s="$SECS" 'BEGIN {printf "%.1f", 100 * t / hz / s}'; }
mt=$(( $(ticks "${PID[$master]}") - T0[$master] ))
echo "   all agents:      $(pct $total) % of a core"
echo "   master ($master): $(pct $mt) % of a core"
if (( N > 0 )); then
  echo "   observers:       mean $(awk -v t=$obs -v n=$N -v hz=$hz -v s=$SECS 'BEGIN {printf "%.2f", 100 * t / n / hz / s}') %, max $(pct $obs_max) % of a core; max RSS $((rss_max / 1024)) MB"
fi
echo "   bytes on lo:     $(awk -v b=$((b1 - b0)) -v s=$SECS 'BEGIN {printf "%.1f", b / s / 1e6}') MB/s (the whole host's loopback)"
echo "   elections:       $((e1 - e0)) in the window"

# SIGKILL the master; the last observer to log the successor.
t0=$(date +%s%3N)
kill -9 "${PID[$master]}"
unset "PID[$master]"
sleep 5
new=$(for f in "$DIR"/egress-*.log; do [[ $f == */$master.log ]] || grep -h "elected master" "$f" || true; done | sort | tail -1 | awk '{print $5}')
last=0 missing=0
for i in $(seq 1 "$N"); do
  line=$(grep "following master $new\$" "$DIR/worker-$i.log" | tail -1 || true)
  if [[ -z $line ]]; then missing=$((missing + 1)); continue; fi
  t=$(date -d "$(echo "$line" | awk '{print $1 " " $2}')" +%s%3N)
  (( t - t0 > last )) && last=$((t - t0))
done
if [[ -z $new ]]; then
  echo "   SIGKILL of $master: no new master within 5 s (logs: --keep)"
  exit 1
fi
el=$(grep -h "elected master" "$DIR/$new.log" | tail -1)
te=$(date -d "$(echo "$el" | awk '{print $1 " " $2}')" +%s%3N)
echo "   SIGKILL of $master: $new elected $((te - t0)) ms after the kill ($(echo "$el" | sed 's/.*: elected master //'));"
echo "   the last observer followed it $last ms after the kill, $((last - (te - t0))) ms after the election ($missing of $N did not within 5 s)"
