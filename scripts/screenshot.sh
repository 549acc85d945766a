#!/usr/bin/env bash
# Starts egress-console under Xvfb against running agents and saves a screenshot of its window.
#   scripts/screenshot.sh [--after MS] [--dark] [--tls-dir DIR] ENDPOINT... OUT.png
#   scripts/screenshot.sh --demo OUT.png     # against a simulated cluster (egw-fake-agent)
# The console grabs its own window (--screenshot, QWidget::grab), so no ImageMagick is needed.
# BUILD_DIR (default: build) is where egress-console was built.
set -euo pipefail

usage() { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build}"
console="$build/console/egress-console"
after=6000
demo=0
dark=0
tls=()
args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --after) after="$2"; shift 2 ;;
    --demo) demo=1; shift ;;
    --dark) dark=1; shift ;;
    --tls-dir) tls=(--tls-dir "$2"); shift 2 ;;
    -h|--help) usage ;;
    *) args+=("$1"); shift ;;
  esac
done
[[ ${#args[@]} -ge 1 ]] || usage
out="${args[-1]}"
unset 'args[-1]'
[[ -x "$console" ]] || { echo "screenshot.sh: $console not built (set BUILD_DIR)" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "screenshot.sh: xvfb-run not installed (apt-get install xvfb)" >&2; exit 1; }

agent_pid=""
cleanup() { [[ -n "$agent_pid" ]] && kill "$agent_pid" 2>/dev/null || true; rm -rf "${tmp:-}"; }
trap cleanup EXIT
tmp="$(mktemp -d)"

if [[ $demo -eq 1 ]]; then
  fake="$build/tests/integration/console/egw-fake-agent"
  [[ -x "$fake" ]] || { echo "screenshot.sh: $fake not built" >&2; exit 1; }
  "$fake" --failover-every 3 >"$tmp/agent.out" 2>&1 &
  agent_pid=$!
  for _ in $(seq 50); do grep -q '^listening on ' "$tmp/agent.out" && break; sleep 0.1; done
  endpoint="$(sed -n 's/^listening on //p' "$tmp/agent.out")"
  [[ -n "$endpoint" ]] || { echo "screenshot.sh: the fake agent did not start" >&2; cat "$tmp/agent.out" >&2; exit 1; }
  args=("$endpoint")
fi
[[ ${#args[@]} -ge 1 ]] || usage

eps=()
for e in "${args[@]}"; do eps+=(--endpoint "$e"); done
# A private settings directory: the screenshot does not depend on (or change) the user's layout.
mkdir -p "$tmp/config/EgressGateway"
[[ $dark -eq 1 ]] && printf '[ui]\ndark=true\n' >"$tmp/config/EgressGateway/egress-console.conf"
XDG_CONFIG_HOME="$tmp/config" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1400x900x24" \
  "$console" "${eps[@]}" "${tls[@]}" --screenshot "$out" --after "$after"
echo "$out"
