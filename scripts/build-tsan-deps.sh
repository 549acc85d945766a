#!/usr/bin/env bash
# Builds abseil and gRPC with -fsanitize=thread, from the Debian 12 source packages of exactly
# the versions installed, into a prefix that the TSan build (scripts/run-sanitizers.sh tsan) links
# instead of the system libraries. Prints the prefix on its last line.
#
# Why: Debian's libgrpc/libgrpc++/libabsl are not instrumented, and gRPC's C++ API is mostly
# header templates that are compiled into our binaries (instrumented) and then run on gRPC's
# threads. TSan cannot see the ordering gRPC's completion queue and abseil's mutexes give those
# threads, so every hand-over through gRPC is reported (11,886 reports in one run). With gRPC core
# and abseil instrumented, TSan sees every lock and atomic they use, and what remains is ours.
# (protobuf is not rebuilt: it has no threads of its own; cmake/tsan_protobuf_abi.h keeps its
# layout.)
#
# Only what our binaries load is built: all of abseil (gRPC's CMake project needs its config), and
# of gRPC the target grpc++ with what it links (grpc, gpr, address_sorting, upb): 836 of gRPC's
# 1,229 compile steps (grpc_unsecure, grpc++_unsecure, reflection, channelz, alts and the error
# details are a second copy of the core or unused). No debug information (RECIPE 3): a TSan report
# names gRPC's and abseil's functions from their symbols, and the frames worth a file and line are
# ours; -g1 made this build about 12 % slower (33 sampled gRPC objects: 19.1 s against 17.1 s). The libraries are copied into PREFIX/lib with their sonames; our
# TSan build compiles and links against Debian's headers and libraries of the same versions, and
# its tests run with LD_LIBRARY_PATH=PREFIX/lib (scripts/run-sanitizers.sh checks with ldd that
# every gRPC and abseil library resolves there). So the TSan build of our code does not wait for
# this one; only the TSan test run does.
#
# The prefix is a cache keyed by the two source versions, RECIPE (below) and the compiler:
#   ${EGW_TSAN_DEPS_CACHE:-/var/cache/egress-gateway}/tsan-deps-<key>
# A finished prefix has a .complete stamp; an interrupted build is redone from scratch. Sources
# come from deb.debian.org (the package mirror) and are checked against their .dsc.
# Measured on the 2-core development machine: see README "Development" (RECIPE 1, which built all
# of gRPC with full debug information, took 23 minutes), nothing after.
#
# Usage: scripts/build-tsan-deps.sh [--print-prefix]
set -euo pipefail
CACHE=${EGW_TSAN_DEPS_CACHE:-/var/cache/egress-gateway}
MIRROR=${EGW_DEBIAN_MIRROR:-http://deb.debian.org/debian}
JOBS=${BUILD_JOBS:-$(nproc)}

srcver() { dpkg-query -W -f='${source:Version}' "$1" 2>/dev/null; }
GRPC_VER=$(srcver libgrpc++-dev)
ABSL_VER=$(srcver libabsl-dev)
if [[ -z $GRPC_VER || -z $ABSL_VER ]]; then
  echo "build-tsan-deps: libgrpc++-dev and libabsl-dev must be installed (scripts/install-deps.sh)" >&2
  exit 1
fi
# Bump RECIPE when a change to this script changes what it builds.
RECIPE=3
KEY=$(printf '%s\n' "$GRPC_VER" "$ABSL_VER" "$RECIPE" "$(g++ --version | head -1)" | sha256sum | cut -c1-12)
PREFIX=$CACHE/tsan-deps-$KEY
# --print-prefix: where the prefix is (or would be), without building anything
if [[ ${1:-} == --print-prefix ]]; then
  echo "$PREFIX"
  exit 0
fi
if [[ -f $PREFIX/.complete ]]; then
  echo "build-tsan-deps: abseil $ABSL_VER and gRPC $GRPC_VER with TSan: cached" >&2
  echo "$PREFIX"
  exit 0
fi

# One build at a time: CI starts this script in the background at the start of its run, and the
# TSan phase calls it again later; the second caller waits here and then finds the prefix done.
mkdir -p "$CACHE"
exec 9>"$CACHE/tsan-deps-$KEY.lock"
if ! flock -n 9; then
  echo "build-tsan-deps: another build of $PREFIX is running; waiting for it" >&2
  flock 9
fi
if [[ -f $PREFIX/.complete ]]; then
  echo "build-tsan-deps: abseil $ABSL_VER and gRPC $GRPC_VER with TSan: built by the other run" >&2
  echo "$PREFIX"
  exit 0
fi

WORK=$CACHE/tsan-deps-$KEY.work
rm -rf "$PREFIX" "$WORK"
mkdir -p "$WORK" "$PREFIX"
trap 'echo "build-tsan-deps: failed; the partial build is in $WORK" >&2' ERR

# fetch SOURCE VERSION: downloads the .dsc and its files from the mirror and unpacks them.
fetch() {
  local src=$1 ver=$2 upstream dsc dir
  upstream=${ver#*:}
  dsc="${src}_${upstream}.dsc"
  dir="$MIRROR/pool/main/${src:0:1}/$src"
  echo "== fetch $src $ver" >&2
  (cd "$WORK" && curl -fsSLO "$dir/$dsc")
  # the Files section of the .dsc: md5 size name
  awk '/^Files:/{f=1;next} /^[^ ]/{f=0} f && NF==3{print $3}' "$WORK/$dsc" | while read -r file; do
    (cd "$WORK" && curl -fsSLO "$dir/$file")
  done
  (cd "$WORK" && dpkg-source --no-check -x "$dsc" "$src" >/dev/null)
}

# gcc, as the TSan build of our code; -O1 keeps TSan's slowdown small (-O0 compiles no faster).
FLAGS="-fsanitize=thread -O1 -fno-omit-frame-pointer"
common=(-G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS"
        -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread
        -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH="$PREFIX"
        -DCMAKE_INSTALL_RPATH="$PREFIX/lib" -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DBUILD_SHARED_LIBS=ON -DCMAKE_CXX_STANDARD=17)

fetch abseil "$ABSL_VER"
echo "== abseil: configure, build, install" >&2
cmake -S "$WORK/abseil" -B "$WORK/abseil-build" "${common[@]}" -DBUILD_TESTING=OFF >/dev/null
nice cmake --build "$WORK/abseil-build" -j "$JOBS" >"$WORK/abseil-build.log" ||
  { tail -30 "$WORK/abseil-build.log" >&2; exit 1; }
cmake --install "$WORK/abseil-build" >/dev/null
echo "   abseil done at $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2

fetch grpc "$GRPC_VER"
echo "== gRPC core and C++ library: configure, build, copy (the long part)" >&2
# Debian's own provider settings; only the libraries (the code generators come from Debian).
cmake -S "$WORK/grpc" -B "$WORK/grpc-build" "${common[@]}" \
  -DgRPC_ABSL_PROVIDER=package -DgRPC_CARES_PROVIDER=package -DgRPC_PROTOBUF_PROVIDER=package \
  -DgRPC_RE2_PROVIDER=package -DgRPC_SSL_PROVIDER=package -DgRPC_ZLIB_PROVIDER=package \
  -DgRPC_BENCHMARK_PROVIDER=none -DgRPC_BUILD_TESTS=OFF -DgRPC_BACKWARDS_COMPATIBILITY_MODE=OFF \
  -DgRPC_BUILD_CODEGEN=OFF -DgRPC_BUILD_CSHARP_EXT=OFF -DgRPC_INSTALL=ON >/dev/null
# Only grpc++ and what it links; its libraries are copied, not installed (gRPC's install rules
# want every target built). Built with the install RPATH, so they find each other in PREFIX/lib.
nice cmake --build "$WORK/grpc-build" -j "$JOBS" --target grpc++ >"$WORK/grpc-build.log" &
build=$!
# progress: the build's own step counter, once a minute
while kill -0 $build 2>/dev/null; do
  sleep 60
  kill -0 $build 2>/dev/null && echo "   $(grep -o '^\[[0-9]*/[0-9]*\]' "$WORK/grpc-build.log" | tail -1)" >&2
done
if ! wait $build; then
  tail -30 "$WORK/grpc-build.log" >&2
  exit 1
fi
for lib in grpc++ grpc gpr address_sorting upb; do
  found=$(find "$WORK/grpc-build" -maxdepth 1 -name "lib$lib.so*" | wc -l)
  if [[ $found -eq 0 ]]; then
    echo "build-tsan-deps: lib$lib.so was not built" >&2
    exit 1
  fi
  cp -a "$WORK/grpc-build/lib$lib.so"* "$PREFIX/lib/"
done
touch "$PREFIX/.complete"
rm -rf "$WORK"
echo "build-tsan-deps: abseil $ABSL_VER and gRPC $GRPC_VER with TSan in $PREFIX ($((SECONDS / 60)) min $((SECONDS % 60)) s)" >&2
echo "$PREFIX"
