#!/usr/bin/env bash
# Runs the whole suite: unit and integration tests in parallel, then the e2e tests (root,
# network namespaces) one at a time. Fails when any test fails.
set -euo pipefail
BUILD=${1:-build/release}
cd "$BUILD"
jobs=$(nproc)
rc=0
echo "== unit + integration tests"
ctest -LE e2e --output-on-failure -j "$jobs" --timeout 600 || rc=1
if ctest -N -L e2e | grep -q "Total Tests: [1-9]"; then
  echo "== e2e tests (network namespaces, root)"
  if [[ $(id -u) -ne 0 ]]; then
    echo "e2e tests need root (ip netns, nftables); run as root" >&2
    rc=1
  else
    ctest -L e2e --output-on-failure --timeout 900 || rc=1
  fi
fi
exit $rc
