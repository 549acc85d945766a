#!/usr/bin/env bash
# The Debian packages on a fresh Debian 12: builds them in BUILD (cpack), makes a minbase root
# with debootstrap, installs them there with apt (so dpkg-shlibdeps' dependencies must resolve
# from the archive), and runs the binaries, the config check, the unit check and a purge.
#
# Usage: package_test.sh BUILD_DIR        (root; debootstrap; network to the Debian mirror)
#        EGW_PKGTEST_PREBUILT=1 package_test.sh BUILD_DIR   uses BUILD_DIR/packages/*.deb as they are
# Cache (EGW_PKGTEST_CACHE, default /var/cache/egress-gateway-pkgtest): the debootstrapped root
# as a tarball and apt's downloaded .debs, so a warm run neither debootstraps nor downloads.
# Each run unpacks a fresh root from the tarball. Exit 77: skipped (not root, no debootstrap).
set -euo pipefail
build=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${EGW_PKGTEST_CACHE:-/var/cache/egress-gateway-pkgtest}
t0=$(date +%s)
phase() { echo "=== [$(($(date +%s) - t0)) s] $*"; }
die() { echo "FAIL: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || { echo "needs root (chroot, mounts): skipped"; exit 77; }
command -v debootstrap >/dev/null || { echo "debootstrap not installed (apt-get install debootstrap): skipped"; exit 77; }

# The mirror this machine's apt uses (deb822 or one-line format), for debootstrap and the root.
mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)
[[ -n $mirror ]] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

if [[ ${EGW_PKGTEST_PREBUILT:-0} == 1 ]]; then
  phase "packages: the ones in $build/packages (EGW_PKGTEST_PREBUILT=1, e.g. from make package)"
else
  phase "packages: cpack in $build"
  cmake --build "$build" --target egw_packaged -j 2 >/dev/null
  rm -f "$build"/packages/*.deb
  (cd "$build" && cpack -G DEB >/dev/null)
fi
mapfile -t debs < <(ls "$build"/packages/*.deb)
printf '  %s\n' "${debs[@]##*/}"
version=$(sed -n 's/^project(EgressGateway VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
for p in egress-agent egressctl; do
  [[ -f $build/packages/${p}_${version}-1_amd64.deb ]] || die "no ${p}_${version}-1_amd64.deb"
done
have_console=0
[[ -f $build/packages/egress-console_${version}-1_amd64.deb ]] && have_console=1
# Dependencies are dpkg-shlibdeps' (library packages with versions), not hand-listed.
deps=$(dpkg-deb -f "$build/packages/egress-agent_${version}-1_amd64.deb" Depends)
echo "  egress-agent Depends: $deps"
for lib in libgrpc++1.51 libprotobuf32 libnftables1 libnl-route-3-200 libyaml-cpp0.7 libc6; do
  grep -q "$lib" <<<"$deps" || die "egress-agent does not depend on $lib (shlibdeps)"
done

mkdir -p "$cache/archives/partial"
if [[ ! -f $cache/bookworm-minbase.tar ]]; then
  phase "debootstrap --variant=minbase bookworm from $mirror (cold cache)"
  rm -rf "$cache/rootfs.new"
  debootstrap --variant=minbase bookworm "$cache/rootfs.new" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; die "debootstrap failed"; }
  tar -C "$cache/rootfs.new" -cf "$cache/bookworm-minbase.tar.tmp" . && mv "$cache/bookworm-minbase.tar.tmp" "$cache/bookworm-minbase.tar"
  rm -rf "$cache/rootfs.new"
fi

root=$(mktemp -d /var/tmp/egw-pkgtest.XXXXXX)
mounts=()
cleanup() {
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$root"
}
trap cleanup EXIT
phase "fresh root in $root"
tar -C "$root" -xf "$cache/bookworm-minbase.tar"
for m in proc sys dev; do
  mount --rbind "/$m" "$root/$m" && mount --make-rslave "$root/$m"
  mounts+=("$root/$m")
done
mount --bind "$cache/archives" "$root/var/cache/apt/archives" && mounts+=("$root/var/cache/apt/archives")
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$mirror" "$mirror" >"$root/etc/apt/sources.list"
# Keep downloaded .debs in the (shared) cache; no services start in a chroot.
echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/99keep"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/tmp/debs" && cp "${debs[@]}" "$root/tmp/debs/"
root_debs=()
for d in "${debs[@]}"; do root_debs+=("/tmp/debs/${d##*/}"); done
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

phase "apt-get install ${debs[*]##*/}"
in_root apt-get update -qq
# bash-completion: to exercise egressctl's completion as a shell on the node would; systemd: a
# node has it, and systemd-analyze verify --root needs its units (sysinit.target, ...).
in_root apt-get install -y -qq --no-install-recommends "${root_debs[@]}" bash-completion systemd >"$root/tmp/apt.log" 2>&1 ||
  { tail -30 "$root/tmp/apt.log"; die "apt-get install of the packages failed"; }

phase "checks in the root"
out=$(in_root egress-agent --version) || die "egress-agent --version"
echo "  $out"
[[ $out == "egress-agent $version "* ]] || die "egress-agent --version: '$out', expected version $version"
out=$(in_root egressctl --help) || die "egressctl --help exited $?"
grep -q "allowlist" <<<"$out" || die "egressctl --help does not list its commands"
echo "  egressctl --help: ok ($(wc -l <<<"$out") lines)"
out=$(in_root egress-agent --config /etc/egress-gateway/agent.yaml --check) || die "--check of the installed config: $out"
echo "  $out"
if ((have_console)); then
  out=$(in_root egress-console --help) || die "egress-console --help exited $?"
  grep -q -- "--endpoint" <<<"$out" || die "egress-console --help"
  echo "  egress-console --help: ok"
  for f in /usr/share/applications/egress-console.desktop /usr/share/icons/hicolor/64x64/apps/egress-console.png \
           /usr/share/man/man1/egress-console.1.gz; do
    [[ -f $root$f ]] || die "missing $f"
  done
else
  echo "  egress-console: not built in $build (EGW_BUILD_CONSOLE=OFF), its package not checked"
fi
for f in /usr/sbin/egress-agent /usr/bin/egressctl /lib/systemd/system/egress-agent.service \
         /usr/share/man/man8/egress-agent.8.gz /usr/share/man/man1/egressctl.1.gz \
         /usr/share/bash-completion/completions/egressctl /usr/share/doc/egress-agent/examples/agent.yaml; do
  [[ -f $root$f ]] || die "missing $f"
done
in_root dpkg-query -W -f='${Conffiles}\n' egress-agent | grep -q '/etc/egress-gateway/agent.yaml' ||
  die "/etc/egress-gateway/agent.yaml is not a conffile"
in_root getent passwd egress-gateway >/dev/null || die "postinst did not create the egress-gateway user"
owner=$(in_root stat -c %U:%a /var/lib/egress-gateway)
[[ $owner == egress-gateway:750 ]] || die "/var/lib/egress-gateway is $owner, expected egress-gateway:750"
zcat "$root/usr/share/man/man8/egress-agent.8.gz" | grep -q "^\.TH EGRESS-AGENT 8 .*Egress Gateway $version" ||
  die "egress-agent.8: no version in the title line"
# Completion as bash-completion loads it on demand (from the completions dir, by command name).
cat >"$root/tmp/complete.sh" <<'SH'
source /usr/share/bash-completion/bash_completion
_completion_loader egressctl
c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
      COMPREPLY=(); _egressctl; echo "${COMPREPLY[*]}"; }
c egressctl ""
c egressctl --endpoint 10.0.0.11:7401 ha
c egressctl allowlist export --format ""
c egressctl drift --format ""
c egressctl candidacy ""
SH
want=$'status events allowlist drift candidacy handover\nhandover\ncsv txt json\nauto csv txt\nenable disable'
got=$(in_root bash /tmp/complete.sh) || die "bash completion: $got"
[[ $got == "$want" ]] || die "bash completion: got"$'\n'"$got"$'\n'"expected"$'\n'"$want"
echo "  files, conffile, user, state dir, man pages, bash completion: ok"

phase "systemd-analyze verify (installed unit, root $root)"
if command -v systemd-analyze >/dev/null; then
  # --root: ExecStart and friends are resolved inside the new root, as on an installed node.
  out=$(systemd-analyze verify --man=no --root="$root" /lib/systemd/system/egress-agent.service 2>&1) ||
    { echo "$out"; die "systemd-analyze verify"; }
  if grep -q "egress-agent.service" <<<"$out"; then echo "$out"; die "systemd-analyze verify: warnings"; fi
  echo "  ok"
else
  echo "  systemd-analyze not installed on this host: not run"
fi

phase "purge"
in_root apt-get purge -y -qq egress-agent >/dev/null 2>&1 || die "apt-get purge egress-agent"
[[ ! -e $root/var/lib/egress-gateway && ! -e $root/etc/egress-gateway/agent.yaml ]] || die "purge left state or config behind"
phase "ok"
