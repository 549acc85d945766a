// Membership at scale (docs/membership.md): an observer reports to its feed voter and learns the
// master from MASTER_UPDATE; a voter answers its observers and pushes every master change to them;
// a new master tells the observers whose feed was the old master.
#include "agent/node/driver.h"
#include "agent/store/event_store.h"

namespace egw {

namespace pb = egressgw::v1;

std::string Driver::clusterAddressOf(const std::string& node) const {
  if (node.empty()) return {};
  if (node == cfg_.node.name) return cfg_.node.address.str();
  if (auto a = view_.addressOf(node); IpAddress::parse(a)) return a;  // else its config entry
  for (const auto& v : cfg_.voters)
    if (v.name == node) return v.address.host;
  return {};
}

void Driver::pushMaster(const std::vector<std::string>& observers) {
  pushQueue_.insert(observers.begin(), observers.end());
  flushPushes();
}

void Driver::flushPushes() {
  if (pushQueue_.empty()) return;
  std::vector<std::string> batch;
  while (!pushQueue_.empty() && batch.size() < kPushBatch) batch.push_back(pushQueue_.extract(pushQueue_.begin()).value());
  const auto& m = election_->master();
  pb::ElectionMessage msg;
  msg.set_type(pb::MASTER_UPDATE);
  msg.set_term(election_->term());
  auto* info = msg.mutable_master_info();
  info->set_master(m);
  info->set_address(clusterAddressOf(m));
  if (m == cfg_.node.name)
    info->set_peer_endpoint(peerEndpoint_);
  else if (auto ep = endpointOf(m))
    info->set_peer_endpoint(*ep);
  for (const auto& o : batch) {
    auto copy = msg;
    // How far we hold the observer's own events: it sends what follows with its next report.
    (*copy.mutable_known_events())[o] = ports_.events->knownOf(o);
    sendTo(o, std::move(copy));
  }
}

void Driver::sendObserverReport(Time t, bool force) {
  auto s = selfStatus();
  const bool changed = force || significantChange(lastReported_, s);
  if (!feed_->reportDue(t, changed)) return;
  pb::ElectionMessage msg;
  msg.set_type(pb::STATUS_REPORT);
  msg.set_term(feed_->master().term);
  *msg.mutable_status() = s;
  // Only our own events, from where the feed stands: an observer relays nobody else's.
  auto known = ports_.events->known();
  auto mine = feedKnown_.find(cfg_.node.name);
  known[cfg_.node.name] = mine == feedKnown_.end() ? 0 : mine->second;
  for (auto& e : ports_.events->missingFor(known, 64)) *msg.add_events() = std::move(e);
  sendTo(feed_->feed(), std::move(msg));
  feed_->reported(t);
  lastReported_ = std::move(s);
}

void Driver::onMasterUpdate(const pb::ElectionMessage& m, Time t) {
  if (!feed_) {
    elog_->warn("{}: MASTER_UPDATE from {} ignored: this node is a voter or a candidate and follows the election",
                cfg_.node.name, m.from());
    return;
  }
  MasterInfo info{m.term(), m.master_info().master(), m.master_info().address(), m.master_info().peer_endpoint()};
  const auto before = feed_->master();
  switch (feed_->onUpdate(m.from(), info, t)) {
    case ObserverFeed::Update::Adopted:
      if (info.master.empty())
        elog_->warn("{} term {}: {} knows no master: selected traffic is dropped until one is elected",
                    cfg_.node.name, info.term, m.from());
      else if (info.master != before.master)
        elog_->info("{} term {}: master {} (at {}), as {} says", cfg_.node.name, info.term, info.master, info.address,
                    m.from());
      onRoleOrMaster(std::nullopt, t);
      updateDatapath();  // also when only the master's address moved
      break;
    case ObserverFeed::Update::Conflict:
      elog_->error("{} term {}: {} names master {} but {} is master in this term; ignored", cfg_.node.name, info.term,
                   m.from(), info.master, before.master);
      break;
    case ObserverFeed::Update::Stranger:
      elog_->warn("{}: MASTER_UPDATE from {}, which is no voter, ignored", cfg_.node.name, m.from());
      return;
    case ObserverFeed::Update::Same:
    case ObserverFeed::Update::Stale:
      break;
  }
  if (m.from() == feed_->feed()) {
    feedKnown_.clear();
    for (const auto& [o, s] : m.known_events()) feedKnown_[o] = s;
  }
}

}  // namespace egw
