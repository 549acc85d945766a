#!/usr/bin/env bash
# The agent's parts may include only what docs/architecture.md "Parts and libraries" allows:
# every #include "agent/<part>/..." of a file in agent/<part>/ must name an allowed part, and the
# pure core includes no header that reaches sockets, threads, clocks or files.
# Usage: check_layering.sh SOURCE_DIR      Exit 1 with one line per violation.
set -euo pipefail
src=${1:?usage: check_layering.sh SOURCE_DIR}
declare -A allowed=(
  [core]="core"
  [store]="core store"
  [security]="security"
  [peer]="core security peer"
  [api]="core store security api"
  [datapath]="core datapath"
  [probe]="core probe"
  [node]="core store security peer api datapath probe node"
)
bad=0
for part in "${!allowed[@]}"; do
  [ -d "$src/agent/$part" ] || { echo "agent/$part: missing"; bad=1; continue; }
  while IFS=: read -r file line text; do
    dep=$(sed -E 's#.*"agent/([a-z]+)/.*#\1#' <<<"$text")
    if [[ " ${allowed[$part]} " != *" $dep "* ]]; then
      echo "${file#$src/}:$line: agent/$part may not include agent/$dep ($text)"
      bad=1
    fi
  done < <(grep -Hn '#include "agent/' "$src/agent/$part"/*.h "$src/agent/$part"/*.cpp 2>/dev/null || true)
done
# Any include not by full path from the repository root (the old "core/x.h", "io/x.h").
while IFS= read -r hit; do
  echo "${hit#$src/}: include by full path from the repository root (\"agent/<part>/...\")"
  bad=1
done < <(grep -Hn -E '#include "(core|io|node|peer|api|datapath|store|security|probe)/' "$src"/agent/*/*.h "$src"/agent/*/*.cpp 2>/dev/null || true)
# The pure core: no sockets, threads, clocks, files or gRPC.
while IFS= read -r hit; do
  echo "${hit#$src/}: agent/core is pure (no sockets, threads, clocks, files or gRPC)"
  bad=1
done < <(grep -Hn -E '#include <(grpcpp/|thread>|mutex>|condition_variable>|fstream>|sys/|netlink/|nftables/|unistd\.h>)' "$src"/agent/core/*.h "$src"/agent/core/*.cpp 2>/dev/null || true)
# No file in agent/ over 600 lines (issue 15: one job per part).
while read -r n file; do
  [ "$file" = total ] && continue
  if [ "$n" -gt 600 ]; then echo "${file#$src/}: $n lines (more than 600: split it)"; bad=1; fi
done < <(wc -l "$src"/agent/*/*.h "$src"/agent/*/*.cpp "$src"/agent/*.cpp)
if [ "$bad" = 0 ]; then echo "layering: ok ($(ls "$src"/agent/*/*.cpp | wc -l) sources in $(ls -d "$src"/agent/*/ | wc -l) parts)"; fi
exit "$bad"
