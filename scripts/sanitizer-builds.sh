# Sourced by scripts/run-sanitizers.sh and scripts/run-fuzz.sh: how the sanitizer build
# directories are configured, in one place.
#
# asan (build/asan): clang, ASan+UBSan, and libFuzzer's coverage instrumentation on every object
#   (EGW_FUZZ). One build directory serves the ASan test run and the fuzz targets, so CI compiles
#   the project once for both. -O1 (ASan's recommendation: faster tests and fuzzers) and line
#   tables only (-gline-tables-only: all a sanitizer stack needs; full debug information makes
#   every object and link several times larger).
# tsan (build/tsan): gcc, ThreadSanitizer, compiled and linked against Debian's gRPC and abseil;
#   its tests run with the instrumented builds of the same versions (scripts/build-tsan-deps.sh)
#   on LD_LIBRARY_PATH. gcc, because those are built with gcc and the TSan runtime must match.

# configure_sanitizer_build KIND BUILD: configures BUILD unless it already is.
configure_sanitizer_build() {
  local kind=$1 build=$2
  [[ -f $build/build.ninja ]] && return 0
  case $kind in
    asan)
      cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        -DCMAKE_C_FLAGS_DEBUG="-O1 -gline-tables-only" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -gline-tables-only" \
        -DEGW_SANITIZE=ON -DEGW_FUZZ=ON -DEGW_BUILD_BENCH=OFF >/dev/null
      ;;
    tsan)
      cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_FLAGS_DEBUG="-O1 -g1" -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" \
        -DEGW_TSAN=ON -DEGW_BUILD_BENCH=OFF >/dev/null
      ;;
    *)
      echo "unknown sanitizer build '$kind'" >&2
      return 2
      ;;
  esac
}
