#!/usr/bin/env bash
# The test suite under sanitizers (README.md "Development").
#
#   scripts/run-sanitizers.sh asan [BUILD]       ASan+UBSan (clang), default BUILD build/asan:
#       builds everything (the fuzz targets too: the same objects serve scripts/run-fuzz.sh), runs
#       the unit and integration tests. The e2e tests run once, in the release build (make test).
#   scripts/run-sanitizers.sh asan-full [BUILD]  the same, then (as root) the e2e tests under ASan.
#   scripts/run-sanitizers.sh tsan [BUILD]       ThreadSanitizer (gcc), default BUILD build/tsan:
#       builds only the agent driver and console client tests and what they start, and runs them
#       against abseil and gRPC built with TSan (scripts/build-tsan-deps.sh, cached) through
#       LD_LIBRARY_PATH; our build does not need that prefix, only the test run does.
#
# Every error is fatal (halt_on_error), leaks are reported (detect_leaks), and reports of every
# process, including the agents the tests start, go to BUILD/sanitizer-logs/<kind>.<pid>: a test
# cannot swallow a child's report, since the run fails when any report file exists.
# Known reports from uninstrumented third-party code are suppressed in tests/sanitizers/*.supp,
# each entry with its reason; nothing is disabled wholesale.
#   SAN_TESTS=REGEX        run only matching tests (ctest -R)
#   SAN_TARGETS="t1 t2"    build only these targets (with SAN_TESTS, to check a few tests quickly)
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
KIND=${1:?usage: run-sanitizers.sh asan|asan-full|tsan [BUILD]}
JOBS=${BUILD_JOBS:-2}

source scripts/sanitizer-builds.sh
e2e=0
case $KIND in
  asan) ;;
  asan-full)
    KIND=asan
    e2e=1
    ;;
  tsan)
    # The agent driver (agent processes, election, Cluster API, metrics) and the console client.
    TSAN_TARGETS=(egress-agent tsan_canary
      test_agent_reload test_agent_bad_peer_input test_agent_voter_restart test_agent_port_in_use
      test_election_multiproc test_cluster_service test_metrics
      test_grpc_agent_client test_client_vs_agent_api)
    ;;
  *)
    echo "unknown kind '$KIND' (asan, asan-full or tsan)" >&2
    exit 2
    ;;
esac

BUILD=${2:-build/$KIND}
LOGS=$BUILD/sanitizer-logs
configure_sanitizer_build "$KIND" "$BUILD"
echo "== build ($KIND, $BUILD)"
start=$SECONDS
if [[ -n ${SAN_TARGETS:-} ]]; then
  # shellcheck disable=SC2086  # a list of target names
  nice cmake --build "$BUILD" -j "$JOBS" --target $SAN_TARGETS
elif [[ $KIND == asan ]]; then
  # everything but the e2e drivers, which are not in "all" of a sanitizer build
  nice cmake --build "$BUILD" -j "$JOBS"
  if [[ $e2e -eq 1 ]]; then
    nice cmake --build "$BUILD" -j "$JOBS" --target egw_e2e_tests
  fi
else
  nice cmake --build "$BUILD" -j "$JOBS" --target "${TSAN_TARGETS[@]}"
fi
echo "   built in $((SECONDS - start)) s"

if [[ $KIND == tsan ]]; then
  # abseil and gRPC built with TSan from Debian's sources (cached): with Debian's uninstrumented
  # gRPC every hand-over through it is a false report. CI starts this build in the background
  # at the start of its run; then this waits for it.
  start=$SECONDS
  deps=$(scripts/build-tsan-deps.sh | tail -1)
  echo "   instrumented abseil and gRPC: $deps (waited $((SECONDS - start)) s)"
  export LD_LIBRARY_PATH=$deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # Every gRPC and abseil library a test and the agent load must come from there, or TSan is
  # blind to gRPC's synchronization and the run means nothing.
  for exe in "$BUILD/agent/egress-agent" "$BUILD/tests/sanitizers/tsan_canary"; do
    stray=$(ldd "$exe" | awk '/lib(grpc|gpr|upb|address_sorting|absl_)/ && $3 !~ "^'"$deps"'/lib/" {print $1 " => " $3}')
    if [[ -n $stray ]]; then
      echo "these libraries of $exe do not come from the instrumented prefix $deps/lib:" >&2
      echo "$stray" >&2
      exit 1
    fi
  done
fi

rm -rf "$LOGS"
mkdir -p "$LOGS"
LOGS=$(cd "$LOGS" && pwd)
SUPP=$SRC/tests/sanitizers
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0:log_path=$LOGS/asan:log_exe_name=1"
export LSAN_OPTIONS="suppressions=$SUPP/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan:log_exe_name=1"
# die_after_fork=0: gRPC's event engine registers pthread_atfork handlers, unconditionally, that
# restart its thread pool in a forked child. The tests start agents with QProcess (fork, then exec
# at once), so each child starts gRPC's threads in a copy of a multi-threaded process for the
# moment before exec, and TSan by default kills such a child ("starting new threads after
# multi-threaded fork is not supported"). Nothing runs in those threads before exec replaces it.
export TSAN_OPTIONS="die_after_fork=0:halt_on_error=1:second_deadlock_stack=1:suppressions=$SUPP/tsan.supp:print_suppressions=0:log_path=$LOGS/tsan:log_exe_name=1"

rc=0
cd "$BUILD"
filter=()
[[ -n ${SAN_TESTS:-} ]] && filter=(-R "$SAN_TESTS")
if [[ $KIND == asan ]]; then
  echo "== unit + integration tests (ASan+UBSan)"
  ctest -LE e2e "${filter[@]}" --output-on-failure -j "$(nproc)" --timeout 900 || rc=1
  if [[ $e2e -eq 1 ]] && ctest -N -L e2e "${filter[@]}" | grep -q "Total Tests: [1-9]"; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "e2e tests need root (ip netns, nftables); run as root" >&2
      rc=1
    else
      echo "== e2e tests (ASan+UBSan, network namespaces)"
      ctest -L e2e "${filter[@]}" --output-on-failure --timeout 1200 || rc=1
    fi
  fi
else
  echo "== agent driver and console client tests (TSan)"
  regex=$(IFS='|'; echo "^(${TSAN_TARGETS[*]:2})\$")
  [[ -n ${SAN_TESTS:-} ]] && regex=$SAN_TESTS
  # gcc 12's TSan runtime knows the address layout of up to 28 bits of mmap randomization; with
  # more (vm.mmap_rnd_bits=32 on some 6.x kernels) every process fails at start ("unexpected
  # memory mapping"). Then run the tests, and the agents they start, without ASLR.
  norand=()
  if [[ $(sysctl -n vm.mmap_rnd_bits 2>/dev/null || echo 28) -gt 28 ]]; then
    echo "vm.mmap_rnd_bits > 28: running under setarch -R (no ASLR) for TSan"
    norand=(setarch "$(uname -m)" -R)
  fi
  "${norand[@]}" ctest -R "$regex" --output-on-failure -j "$(nproc)" --timeout 900 || rc=1
  if [[ -z ${SAN_TESTS:-} ]]; then
    # The canary's deliberate race on a gRPC callback thread must be reported; its report goes
    # to a directory of its own, so it does not count against the run.
    echo "== TSan canary (a deliberate race on a gRPC thread must be reported)"
    canary_logs=$PWD/sanitizer-canary
    rm -rf "$canary_logs" && mkdir -p "$canary_logs"
    TSAN_OPTIONS="${TSAN_OPTIONS/log_path=$LOGS/log_path=$canary_logs}:exitcode=0" \
      "${norand[@]}" tests/sanitizers/tsan_canary >/dev/null || true
    if grep -qs 'tsan_canary.cpp' "$canary_logs"/tsan.* && grep -qs 'data race' "$canary_logs"/tsan.*; then
      echo "   reported, as it must be"
    else
      echo "the TSan canary's race was not reported: this TSan run cannot see races on gRPC's threads" >&2
      rc=1
    fi
  fi
fi

reports=$(find "$LOGS" -type f | sort)
if [[ -n $reports ]]; then
  echo "== sanitizer reports ($KIND):" >&2
  for f in $reports; do
    echo "--- $f" >&2
    head -80 "$f" >&2
  done
  rc=1
fi
[[ $rc -eq 0 ]] && echo "== $KIND: clean"
exit $rc
