// What the driver tells others about itself and the cluster: its own status (in every status
// report and heartbeat) and the published state (API, metrics, TLS admission).
#include "agent/core/codec.h"
#include "agent/node/driver.h"
#include "agent/store/event_store.h"
#include "egw/utf8.h"
#include "egw/version.h"

namespace egw {

namespace pb = egressgw::v1;

pb::NodeStatus Driver::selfStatus() const {
  auto* dp = ports_.datapath;
  pb::NodeStatus s;
  s.set_name(cfg_.node.name);
  s.set_address(cfg_.node.address.str());
  s.set_peer_endpoint(peerEndpoint_);
  s.set_api_endpoint(apiEndpoint_);
  std::optional<IpAddress> eip = cfg_.node.egress.ip;
  if (!eip && dp) eip = dp->egressIp();
  if (eip) s.set_egress_ip(eip->str());
  s.set_egress_interface(cfg_.node.egress.interface);
  s.set_role(codec::toProto(election_->role(), observer_));
  s.set_term(term());
  s.set_candidacy(codec::toProto(persisted_.candidacy));
  s.set_voter(cfg_.isVoter());
  s.set_healthy(verdict_.healthy);
  for (const auto& p : verdict_.problems) s.add_health_problems(p);
  s.set_allowlist(codec::toProto(probe_.verdict));
  s.set_allowlist_detail(toValidUtf8(probe_.detail));
  if (dp) {
    auto c = dp->counters();
    s.mutable_snat()->set_packets(c.snatPackets);
    s.mutable_snat()->set_bytes(c.snatBytes);
    s.mutable_marked()->set_packets(c.markedPackets);
    s.mutable_marked()->set_bytes(c.markedBytes);
  }
  s.set_version(kVersion);
  s.set_priority(priority_);
  s.set_wall_time_ms(ports_.clock->wallMs());
  s.set_event_seq(ports_.events ? ports_.events->lastLocalSeq() : 0);
  s.set_datapath_ready(!dp || health_.datapathApplied);
  s.set_protocol(kProtocolVersion);
  s.set_master(master());
  if (feed_) s.set_feed(feed_->feed());
  if (!tlsName_.empty()) s.set_tls_name(tlsName_);
  return s;
}

void Driver::publishState() {
  const auto t = now();
  PublishedState p;
  auto& s = p.state;
  s.Swap(&spareState_);
  s.Clear();  // keeps its node objects for reuse (ClusterView::snapshotNodes)
  s.set_master(master());
  s.set_term(term());
  s.set_master_since_ms(master().empty() ? 0 : masterSinceMs_);
  s.set_served_by(cfg_.node.name);
  s.set_protocol(kProtocolVersion);
  s.set_mode(modeName(cfg_.mode));
  if (cfg_.virtualIp) s.set_virtual_ip(cfg_.virtualIp->address.address().str());
  s.set_lease_ms(cfg_.election.lease().count());
  s.set_lease_refresh_ms(cfg_.election.leaseRefresh().count());
  s.set_drift_margin_ms(cfg_.election.driftMargin().count());
  s.set_last_failover_gap_ms(lastFailoverGapMs_);
  s.set_partial(observer_);  // an observer holds no view of the others (docs/membership.md)
  for (const auto& v : cfg_.voters) s.add_voters(v.name);
  *s.add_nodes() = selfStatus();
  view_.snapshotNodes(t, master(), *s.mutable_nodes());
  p.admitted = view_.admitted();
  p.standing = view_.standing();
  if (observer_ && !master().empty()) p.admitted.insert(master());  // a non-voting master tells us itself
  p.failovers = failovers_;
  p.messages = messageCounts_;
  auto& r = p.readiness;
  r.self = cfg_.node.name;
  r.role = election_->role();
  r.master = master();
  r.term = term();
  r.leaseValid = election_->leaseValid(t);
  r.datapathEnabled = ports_.datapath != nullptr;
  r.datapathInSync = ports_.datapath && ports_.datapath->inSync();
  r.datapathProblem = health_.lastApplyError;
  r.electionTimeoutMs = cfg_.election.electionTimeout.count();
  sink_.publish(p);
  spareState_.Swap(&p.state);
}

}  // namespace egw
