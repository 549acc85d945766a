#!/usr/bin/env bash
# make bench: the benchmarks that need no root, in turn, each printing its figures beside the
# baseline it measures in the same run (docs/bench.md). The ones that need root (network
# namespaces) or take long are listed at the end with their commands.
#
# Usage: scripts/bench.sh [BUILD]   (default build/release)
#   BENCHES="scale election"         which ones (default: scale election console)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/release}
export EGW_BINARY_DIR=${EGW_BINARY_DIR:-$PWD/$BUILD} EGW_SOURCE_DIR=${EGW_SOURCE_DIR:-$PWD}
rc=0
for b in ${BENCHES:-scale election console}; do
  case $b in
    scale) cmd=("$BUILD/bench/scale/bench_scale_sim") ;;               # docs/bench-scale.md
    election) cmd=("$BUILD/bench/election/bench_election" --trials 10) ;;  # docs/bench.md
    console) cmd=("$BUILD/bench/console/bench_console") ;;
    *) echo "bench.sh: unknown benchmark '$b' (scale, election, console)" >&2; exit 2 ;;
  esac
  if [[ ! -x ${cmd[0]} ]]; then
    echo "bench.sh: ${cmd[0]} is not built (cmake --build $BUILD)" >&2
    rc=1
    continue
  fi
  echo "######## $b: ${cmd[*]}"
  start=$SECONDS
  "${cmd[@]}" || rc=1
  echo "######## $b: $((SECONDS - start)) s"
done
cat <<'MORE'

Also (root, network namespaces; see docs/bench.md and docs/bench-failover.md):
  build/release/bench/datapath/bench_datapath            kernel datapath: 10k CIDRs, master switch, lease refresh
  bench/failover/run.sh --trials 30                      traffic gap of a pod per fault, against keepalived

Long (minutes; see docs/bench-scale.md):
  bench/scale/real.sh --observers 150 --seconds 120      3 voters + 150 real observer agents
  bench/scale/loadgen.sh --observers 1000 --seconds 60   3 voters + 1,000 simulated observers over gRPC
                                                         (root: a private netns, so lo counts only it)
MORE
exit $rc
