#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan) if needed and runs each for a short time
# against its corpus (tests/fuzz/corpus/<target>). Fails when any target crashes, leaks, hits
# undefined behaviour or breaks one of its invariants; the input that did it is saved as
#   BUILD/fuzz-artifacts/<target>/crash-*  (reproduce: BUILD/tests/fuzz/fuzz_<target> FILE)
# Fix the bug, then copy the input into tests/fuzz/corpus/<target>/ as a regression seed: the
# unit tests test_fuzz_replay_<target> replay that directory in every normal build.
#
#   scripts/run-fuzz.sh [BUILD] [SECONDS]      defaults: build/asan, 20 seconds per target
# The fuzz targets live in the ASan build directory (scripts/sanitizer-builds.sh): every object
# there carries libFuzzer's coverage instrumentation, so `make test-asan` and `make fuzz` compile
# the project once between them.
#   FUZZ_TARGETS="config journal"              a subset
#   FUZZ_JOBS=N                                parallel fuzzing processes per target (default 1)
# New inputs that add coverage go to BUILD/fuzz-corpus/<target> (the checked-in corpus stays
# small; merge worthwhile ones by hand with -merge=1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build/asan}
SECONDS_EACH=${2:-20}
TARGETS=${FUZZ_TARGETS:-config allowlist journal election}
JOBS=${FUZZ_JOBS:-1}

source scripts/sanitizer-builds.sh
configure_sanitizer_build asan "$BUILD"
exes=()
for t in $TARGETS; do exes+=("fuzz_$t"); done
nice cmake --build "$BUILD" -j "${BUILD_JOBS:-2}" --target "${exes[@]}"

# halt_on_error and leak detection are libFuzzer's defaults with ASan; make UBSan fatal and
# symbolized as well.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

rc=0
for t in $TARGETS; do
  corpus="$BUILD/fuzz-corpus/$t"
  artifacts="$BUILD/fuzz-artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$artifacts/")
  dict="tests/fuzz/$t.dict"
  [[ -f "$dict" ]] && args+=(-dict="$dict")
  [[ "$JOBS" -gt 1 ]] && args+=(-fork="$JOBS")
  log="$BUILD/fuzz-artifacts/$t.log"
  echo "== fuzz_$t: ${SECONDS_EACH}s (corpus: tests/fuzz/corpus/$t + $corpus)"
  start=$(date +%s)
  if "$BUILD/tests/fuzz/fuzz_$t" "${args[@]}" "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    stats=$(grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" | tr '\n' ' ' || true)
    echo "   ok in $(( $(date +%s) - start ))s: $stats"
  else
    rc=1
    echo "   FAILED (log: $log); inputs:" >&2
    ls -1 "$artifacts" >&2 || true
    grep -E 'ERROR|invariant broken|runtime error|SUMMARY' "$log" | head -20 >&2 || true
  fi
done
exit $rc
