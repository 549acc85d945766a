#pragma once
// A ClusterDelta (cluster.proto) applied to a ClusterState the way a client applies it, for tests
// that read the wire: header fields replaced, changed entries replaced by name or appended,
// removed ones dropped. The console's own is ClusterSnapshot::apply (console/core/cluster_types.h).
#include <algorithm>
#include <set>
#include <string>

#include "egressgw/v1/cluster.pb.h"

namespace egwtest {

inline void applyDelta(egressgw::v1::ClusterState& s, const egressgw::v1::ClusterDelta& d) {
  google::protobuf::RepeatedPtrField<egressgw::v1::NodeStatus> nodes;
  nodes.Swap(s.mutable_nodes());
  s = d.header();
  const std::set<std::string> removed(d.removed().begin(), d.removed().end());
  std::set<std::string> placed;
  for (auto& n : nodes) {
    if (removed.count(n.name())) continue;
    auto* out = s.add_nodes();
    *out = n;
    for (const auto& c : d.changed())
      if (c.name() == n.name()) {
        *out = c;
        placed.insert(c.name());
      }
  }
  for (const auto& c : d.changed())
    if (!placed.count(c.name())) *s.add_nodes() = c;
}

// The state as text, as a delta keeps it: without wall_time_ms (a change of it alone is not
// sent) and with the nodes by name (their order is not part of the contract).
inline std::string withoutWallTime(egressgw::v1::ClusterState s) {
  for (auto& n : *s.mutable_nodes()) n.clear_wall_time_ms();
  std::sort(s.mutable_nodes()->begin(), s.mutable_nodes()->end(),
            [](const auto& a, const auto& b) { return a.name() < b.name(); });
  return s.DebugString();
}

}  // namespace egwtest
