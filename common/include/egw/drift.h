#pragma once
// Allowlist drift: the operator's copy of the external allowlist against the cluster's egress IPs
// and probe verdicts. A pure function; egressctl and the console render its rows.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "egw/allowlist.h"

namespace egw {

enum class DriftState : std::uint8_t {
  Ok,          // a node's egress IP (or the VIP) on the list, and the probe accepted it
  Missing,     // an egress node's IP (or the VIP) not on the list: black-holed if it became master
  Stale,       // on the list, but no node's egress IP any more (someone else may get the address)
  Unverified,  // on the list, but the probe failed or has not run
  Rejected,    // on the list, but the probe says the external service refuses it
};
std::string_view driftStateName(DriftState s);  // "ok" | "missing" | "stale" | "unverified" | "rejected"

enum class NodeCandidacy : std::uint8_t { None, Pending, Enabled, Disabled };  // None: not an egress node

struct DriftNode {
  std::string name;
  std::string egressIp;  // as reported; empty when the node reports none
  NodeCandidacy candidacy = NodeCandidacy::None;
  bool master = false;
  AllowlistVerdict verdict = AllowlistVerdict::Unknown;
  std::string verdictDetail;  // the probe's own words, quoted in the reason
};

struct DriftInput {
  std::vector<DriftNode> nodes;     // in display order
  std::optional<std::string> vip;   // virtual-ip mode: the VIP ("172.16.0.100" or "172.16.0.100/24")
};

struct DriftRow {
  std::string ip;        // an address, or a CIDR for a network entry of the list ("" for a node without IP)
  std::string node;      // node name(s), ", "-joined; "" for stale entries
  DriftState state = DriftState::Ok;
  std::string reason;    // one sentence for an operator
  int line = 0;          // the allowlist line that covers ip; 0 when not on the list
  bool operator==(const DriftRow&) const = default;
};

struct DriftReport {
  std::vector<DriftRow> rows;  // egress nodes in input order, then the VIP, then stale entries in file order
  std::size_t count(DriftState s) const;
  bool clean() const;          // every row ok
  // "clean: 3 addresses on the allowlist and accepted by the probe" or
  // "drift: 1 missing, 1 stale, 1 unverified (of 5 addresses)".
  std::string summary() const;
};

// Nodes with candidacy None are not egress nodes: their IPs are not expected on the list (an
// entry that matches one is stale). A CIDR entry covers the node IPs inside it and is stale only
// when it covers no egress IP and not the VIP. The VIP is not probed separately (probes leave
// from each node's own egress IP), so on the list it is ok.
DriftReport computeDrift(const Allowlist& list, const DriftInput& cluster);

}  // namespace egw
