#include "console/core/proto_convert.h"

#include "egw/wire_vocabulary.h"

namespace pb = egressgw::v1;

namespace egw::console {
namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

Candidacy fromProto(pb::Candidacy c) {
  switch (c) {
    case pb::CANDIDACY_NONE: return Candidacy::None;
    case pb::CANDIDACY_PENDING: return Candidacy::Pending;
    case pb::CANDIDACY_ENABLED: return Candidacy::Enabled;
    case pb::CANDIDACY_DISABLED: return Candidacy::Disabled;
    default: return Candidacy::Unknown;
  }
}

AllowlistVerdict fromProto(pb::AllowlistVerdict v) {
  switch (v) {
    case pb::ALLOWLIST_OK: return AllowlistVerdict::Ok;
    case pb::ALLOWLIST_UNVERIFIED: return AllowlistVerdict::Unverified;
    case pb::ALLOWLIST_REJECTED: return AllowlistVerdict::Rejected;
    default: return AllowlistVerdict::Unknown;
  }
}

NodeInfo fromProto(const pb::NodeStatus& n) {
  NodeInfo o;
  o.name = qs(n.name());
  o.address = qs(n.address());
  o.apiEndpoint = qs(n.api_endpoint());
  o.egressIp = qs(n.egress_ip());
  o.egressInterface = qs(n.egress_interface());
  o.role = egw::roleFromProto(n.role());
  o.term = n.term();
  o.candidacy = fromProto(n.candidacy());
  o.voter = n.voter();
  o.healthy = n.healthy();
  for (const std::string& p : n.health_problems()) o.healthProblems << qs(p);
  o.allowlist = fromProto(n.allowlist());
  o.allowlistDetail = qs(n.allowlist_detail());
  o.snatBytes = n.snat().bytes();
  o.snatPackets = n.snat().packets();
  o.markedBytes = n.marked().bytes();
  o.markedPackets = n.marked().packets();
  o.version = qs(n.version());
  o.priority = n.priority();
  o.wallTimeMs = n.wall_time_ms();
  o.datapathReady = n.datapath_ready();
  o.protocol = n.protocol();
  return o;
}

ClusterSnapshot fromProto(const pb::ClusterState& s) {
  ClusterSnapshot o;
  o.master = qs(s.master());
  o.term = s.term();
  o.masterSinceMs = s.master_since_ms();
  o.nodes.reserve(s.nodes_size());
  for (const pb::NodeStatus& n : s.nodes()) o.nodes << fromProto(n);
  o.servedBy = qs(s.served_by());
  o.protocol = s.protocol();
  o.mode = qs(s.mode());
  o.virtualIp = qs(s.virtual_ip());
  o.lastFailoverGapMs = s.last_failover_gap_ms();
  o.leaseMs = s.lease_ms();
  o.leaseRefreshMs = s.lease_refresh_ms();
  o.driftMarginMs = s.drift_margin_ms();
  o.partial = s.partial();
  for (const std::string& v : s.voters()) o.voters << qs(v);
  return o;
}

ClusterDelta fromProto(const pb::ClusterDelta& d) {
  ClusterDelta o;
  o.header = fromProto(d.header());
  o.changed.reserve(d.changed_size());
  for (const pb::NodeStatus& n : d.changed()) o.changed << fromProto(n);
  for (const std::string& name : d.removed()) o.removed << qs(name);
  return o;
}

ClusterEvent fromProto(const pb::Event& e) {
  return ClusterEvent{qs(e.origin()), e.seq(),  e.time_ms(),     qs(e.kind()),
                      qs(e.node()),   e.term(), qs(e.message()), e.gap_ms()};
}

}  // namespace egw::console
