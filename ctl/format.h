#pragma once
// egressctl's output: pure functions from protobuf messages to text (table, JSON, CSV), tested
// through the binary in tests/integration/ctl.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "egressgw/v1/cluster.pb.h"
#include "egw/drift.h"

namespace egw::ctl {

std::string roleName(egressgw::v1::Role r);  // egw::roleName; "unknown" for none or a newer role
std::string candidacyName(egressgw::v1::Candidacy c);
std::string verdictName(egressgw::v1::AllowlistVerdict v);
std::string isoTime(std::int64_t ms);  // "2026-11-26T12:00:00.123Z"; "" for 0

// status -o json: {"master": NAME|null, "term": N, "nodes": [...], ...extra keys}
std::string statusJson(const egressgw::v1::ClusterState& s);
std::string statusTable(const egressgw::v1::ClusterState& s);

std::string eventJson(const egressgw::v1::Event& e, std::uint64_t cursor);  // one line, no newline
std::string eventLine(const egressgw::v1::Event& e, std::uint64_t cursor);

struct AllowlistRow {
  std::string ip, node, role, state, firstSeen;
};
// Every egress node's IP (candidacy pending, enabled or disabled) and, in virtual-ip mode, the VIP.
// firstSeen: node name -> ms of its earliest "node_joined" event (may be empty).
std::vector<AllowlistRow> allowlistRows(const egressgw::v1::ClusterState& s,
                                        const std::map<std::string, std::int64_t>& firstSeen);
std::string allowlistCsv(const std::vector<AllowlistRow>& rows);  // RFC 4180, CRLF
std::string allowlistTxt(const std::vector<AllowlistRow>& rows, const std::string& servedBy);
std::string allowlistJson(const std::vector<AllowlistRow>& rows);
std::string csvField(const std::string& f);  // egw::csv::field

// drift: the cluster's nodes and VIP as the drift computation's input (egress nodes are the
// nodes with candidacy pending, enabled or disabled; the VIP only in virtual-ip mode).
egw::DriftInput driftInput(const egressgw::v1::ClusterState& s);
// Table: IP, NODE, STATE, REASON, then the summary line.
std::string driftTable(const egw::DriftReport& r);
// {"clean": bool, "summary": "...", "allowlist": {"file", "format", "entries", "warnings": [...],
//  "skipped": [...]}, "rows": [{"ip", "node", "state", "reason", "line"}...]}
std::string driftJson(const egw::DriftReport& r, const egw::Allowlist& list, const std::string& file);

}  // namespace egw::ctl
