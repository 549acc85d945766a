#!/usr/bin/env bash
# `make demo`: the local demo cluster (tests/e2e/testbed: 3 egress nodes, a worker with a pod, an
# external service with its own allowlist, all in network namespaces), real agents, a steady
# stream of traffic from the pod, and the console connected to the egress agents.
#
# With a display: opens egress-console; close it (or Ctrl-C) to tear everything down.
# Without one (or with --headless): prints a live status line, kills the master once, prints the
# measured gap of the failover, keeps showing status for a while, then tears down.
# Options: --headless, --tuned (20ms/60ms timing), --mode virtual-ip, --seconds N (headless run time)
set -euo pipefail
BUILD=${1:-build/release}
shift || true
HEADLESS=0
SECONDS_TO_RUN=25
TB_ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --headless) HEADLESS=1; shift ;;
    --tuned) TB_ARGS+=(--tuned); shift ;;
    --mode) TB_ARGS+=(--mode "$2"); shift 2 ;;
    --seconds) SECONDS_TO_RUN=$2; shift 2 ;;
    *) echo "demo: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ $(id -u) -ne 0 ]]; then
  echo "demo: needs root (it creates network namespaces and nftables rules)" >&2
  exit 1
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
export EGW_TB_PREFIX=egwdemo-
export EGW_TB_DIR=/tmp/egwdemo-run
TB="$ROOT/tests/e2e/testbed/testbed.sh"
ENDPOINTS=(--endpoint 10.0.0.11:7401 --endpoint 10.0.0.12:7401 --endpoint 10.0.0.13:7401)

cleanup() {
  echo
  echo "demo: tearing down"
  "$TB" down >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "demo: bringing up the testbed (namespaces ${EGW_TB_PREFIX}*)"
"$TB" up --build "$BUILD" --traffic "${TB_ARGS[@]}"
# The agents run with mutual TLS; egressctl and the console use the testbed's operator certificate.
read -r -a TLS <<<"$("$TB" ctl-args)"

ctl() { ip netns exec "${EGW_TB_PREFIX}mgmt" "$BUILD/ctl/egressctl" "${TLS[@]}" "${ENDPOINTS[@]}" "$@"; }
master_of() { ctl status -o json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["master"] or "")' 2>/dev/null || true; }

echo -n "demo: waiting for a master"
master=""
for _ in $(seq 1 100); do
  master=$(master_of)
  [[ -n $master ]] && break
  echo -n "."
  sleep 0.1
done
echo
[[ -n $master ]] || { echo "demo: no master elected; agent logs are in $EGW_TB_DIR" >&2; exit 1; }
ctl status

if [[ $HEADLESS == 0 && -n ${DISPLAY:-} ]]; then
  echo "demo: opening egress-console (close the window to stop)"
  ip netns exec "${EGW_TB_PREFIX}mgmt" "$BUILD/console/egress-console" "${TLS[@]}" "${ENDPOINTS[@]}" || true
  exit 0
fi

echo "demo: no display (or --headless): live status from the console's headless mode"
ip netns exec "${EGW_TB_PREFIX}mgmt" "$BUILD/console/egress-console" --headless "${TLS[@]}" "${ENDPOINTS[@]}" &
CONSOLE=$!
sleep 3
master=$(master_of)
before=$(python3 -c 'import time; print(time.monotonic_ns())')
echo "demo: killing the master ($master) with SIGKILL"
"$TB" kill "$master" KILL
sleep 3
new=$(master_of)
result=$(python3 "$ROOT/tests/e2e/testbed/traffic.py" analyze "$EGW_TB_DIR/arrivals.log" --since "$before" \
  --allow 172.16.0.7,172.16.0.8,172.16.0.9)
gap=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["max_gap_ms"])')
bad=$(echo "$result" | python3 -c 'import json,sys; print(",".join(json.load(sys.stdin)["outside_allowlist"]) or "none")')
echo "demo: failover $master -> ${new:-?}: traffic gap ${gap} ms (longest silence of a 5 ms UDP stream); sources outside the allowlist: $bad"
sleep "$SECONDS_TO_RUN"
kill "$CONSOLE" 2>/dev/null || true
wait "$CONSOLE" 2>/dev/null || true
