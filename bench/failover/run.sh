#!/usr/bin/env bash
# Failover benchmark: our egress agents (default and tuned timing) against keepalived (VRRPv3,
# unicast peers, advert_int 1 and 0.1) in the same testbed, measured by the same prober.
#
# Usage: bench/failover/run.sh [--build DIR] [--trials N] [--faults kill,linkdown,stop,term]
#                              [--configs default,tuned|none] [--keepalived 1,0.1|none]
#                              [--out DIR] [--prefix P] [--summary-only]
#   --build DIR     build tree with agent/egress-agent and ctl/egressctl (default: /work/build-failover,
#                   else build/release)
#   --trials N      trials per fault per configuration (default 30)
#   --out DIR       raw results: DIR/trials.csv (appended), DIR/windows/*.log (arrivals per trial),
#                   DIR/summary.txt, DIR/summary.md (default /tmp/egw-failover-results)
#   --prefix P      namespace prefix of this run's testbed (default egwbf-; run dir /tmp/<P>run), so two
#                   runs (e.g. ours and keepalived at the same time, under the same load) can coexist
#   --faults        kill (SIGKILL of the master's daemon), crash (the master drops off both networks at
#                   once), linkdown (the master's pub0 down), stop (SIGSTOP, SIGCONT after the trial),
#                   term (SIGTERM: planned handover)
# Needs root. Installs keepalived (Debian package) if missing and keepalived is requested.
# Uses its own testbed prefix (egwbf-) and run dir (/tmp/egwbf-run); always tears it down on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PREFIX=egwbf-
TESTBED=$ROOT/tests/e2e/testbed/testbed.sh

BUILD=
KA=1,0.1
ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --keepalived) KA=$2; shift 2 ;;
    --trials|--faults|--configs|--out|--switch-timeout|--hold|--ready-timeout) ARGS+=("$1" "$2"); shift 2 ;;
    --summary-only) ARGS+=("$1"); shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
export EGW_TB_PREFIX=$PREFIX
export EGW_TB_DIR=/tmp/${PREFIX}run
if [[ -z $BUILD ]]; then
  if [[ -x /work/build-failover/agent/egress-agent ]]; then BUILD=/work/build-failover; else BUILD=$ROOT/build/release; fi
fi
BUILD=$(cd "$BUILD" && pwd)
for b in agent/egress-agent ctl/egressctl; do
  [[ -x $BUILD/$b ]] || { echo "run.sh: $BUILD/$b missing (cmake --build $BUILD --target egress-agent egressctl)" >&2; exit 2; }
done
[[ $(id -u) == 0 ]] || { echo "run.sh: needs root (network namespaces)" >&2; exit 2; }

if [[ $KA != none ]] && ! command -v keepalived >/dev/null; then
  echo "run.sh: installing keepalived" >&2
  apt-get install -y --no-install-recommends keepalived >/dev/null ||
    { apt-get update >/dev/null && apt-get install -y --no-install-recommends keepalived >/dev/null; }
fi

cleanup() {
  # keepalived instances of this run (pid files in the run dir), then the testbed
  for f in "$EGW_TB_DIR"/ka-*.pid; do
    [[ -f $f ]] || continue
    pid=$(cat "$f" 2>/dev/null || true)
    [[ -n $pid ]] && { kill -CONT "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; }
  done
  "$TESTBED" down --build "$BUILD" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "run.sh: $(date -u +%FT%TZ) build $BUILD; load: $(uptime)" >&2
python3 "$HERE/bench.py" --build "$BUILD" --keepalived "$KA" "${ARGS[@]}"
