#!/usr/bin/env bash
# systemd-analyze verify on the agent's unit, with ExecStart pointed at the built binary (verify
# checks that every Exec*= command exists). Also checks the hardening the unit promises, so a
# careless edit that widens it fails here. Usage: check_systemd_unit.sh UNIT AGENT_BINARY
set -euo pipefail
unit=$1 agent=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze not installed: skipped"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s|/usr/sbin/egress-agent|$agent|g" "$unit" > "$tmp/egress-agent.service"
# --man=no: the man page is checked by the package test, where it is installed.
if ! out=$(systemd-analyze verify --man=no "$tmp/egress-agent.service" 2>&1); then
  echo "$out"; echo "FAIL: systemd-analyze verify"; exit 1
fi
# verify exits 0 on some warnings: any line naming our unit is a finding.
if grep -q "egress-agent.service" <<<"$out"; then echo "$out"; echo "FAIL: systemd-analyze verify warnings"; exit 1; fi

want() { grep -qx "$1" "$unit" || { echo "FAIL: $unit lacks '$1'"; exit 1; }; }
want "Type=notify"
want "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW"
want "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW"
want "ProtectSystem=strict"
want "ProtectHome=yes"
want "PrivateTmp=yes"
want "NoNewPrivileges=yes"
want "StateDirectory=egress-gateway"
want "ConfigurationDirectory=egress-gateway"
want "Restart=on-failure"
want 'ExecReload=/bin/kill -HUP $MAINPID'
# The exposure score systemd computes from the sandboxing (lower is better; 10 = none).
if score=$(systemd-analyze security --offline=true --no-pager "$tmp/egress-agent.service" 2>/dev/null | sed -n 's/.*Overall exposure level for egress-agent.service: \([0-9.]*\).*/\1/p'); then
  [[ -n "$score" ]] && echo "systemd-analyze security: exposure $score"
fi
echo "ok: $unit"
