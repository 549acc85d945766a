#include "agent/core/cluster_view.h"

#include <algorithm>

namespace egw {

namespace pb = egressgw::v1;

bool isObserver(const pb::NodeStatus& s) { return !s.voter() && s.candidacy() == pb::CANDIDACY_NONE; }

bool significantChange(const pb::NodeStatus& before, const pb::NodeStatus& after) {
  auto strip = [](pb::NodeStatus s) {
    s.clear_wall_time_ms();
    s.clear_snat();
    s.clear_marked();
    s.clear_event_seq();
    return s.SerializeAsString();
  };
  return strip(before) != strip(after);
}

ClusterView::ClusterView(std::string self, std::vector<std::string> voters, ViewTiming timing)
    : self_(std::move(self)), voters_(voters.begin(), voters.end()), timing_(timing) {}

bool ClusterView::joined(const std::string& name) const {
  auto it = members_.find(name);
  return it != members_.end() && it->second.joined();
}

const ClusterView::Member* ClusterView::find(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? nullptr : &it->second;
}

std::string ClusterView::addressOf(const std::string& name) const {
  auto it = members_.find(name);
  return it == members_.end() ? std::string() : it->second.status.address();
}

ClusterView::Report ClusterView::onStatusReport(const pb::ElectionMessage& m, Time t) {
  if (!m.has_status() || m.status().name() != m.from()) return Report::NameMismatch;
  auto& mem = members_[m.from()];
  const bool fresh = mem.lastSeen == 0 && !mem.fromConfig;
  const bool observer = isObserver(m.status());
  // A voter or a candidate reports every interval and its counters are shown live: every report
  // is a change. An observer's keepalive is not.
  const bool changed = fresh || !observer || significantChange(mem.status, m.status());
  mem.status = m.status();
  mem.lastSeen = t;
  mem.fromConfig = isVoter(m.from());
  if (changed) mem.changedAt = t;
  if (observer) {
    mem.direct = true;
    mem.relayPending = mem.relayPending || changed;
  }
  setKnownEvents(mem, m);
  return fresh ? Report::Joined : Report::Accepted;
}

void ClusterView::heardAgo(Member& m, std::int64_t age, Time t) { m.lastSeen = std::max(m.lastSeen, seenAt(age, t)); }

bool ClusterView::directNow(const Member& m, Time t) const {
  return m.direct && t - m.lastSeen <= 2 * timing_.observerKeepalive;
}

void ClusterView::onHeartbeat(const pb::ElectionMessage& m, Time t) {
  for (const auto& s : m.cluster()) {
    if (s.name() == self_ || s.name().empty() || s.address().empty()) continue;
    auto [it, fresh] = members_.try_emplace(s.name());
    auto& mem = it->second;
    if (!directNow(mem, t)) {
      // What our own observer told us is at least as new as what the master relays of it.
      mem.status = s;
      mem.changedAt = t;
    }
    if (auto a = m.ages().find(s.name()); a != m.ages().end())
      heardAgo(mem, a->second, t);
    else if (fresh)
      mem.lastSeen = t;
  }
  auto& from = members_[m.from()];
  from.lastSeen = t;
  setKnownEvents(from, m);
}

void ClusterView::setKnownEvents(Member& m, const pb::ElectionMessage& msg) {
  // In place: a whole map has one entry per origin (up to 1,000), and rebuilding it would
  // allocate each node anew several times a second.
  const auto& known = msg.known_events();
  if (msg.known_events_delta()) {
    for (const auto& [o, s] : known) m.knownEvents[o] = s;
    return;
  }
  std::size_t matched = 0;
  for (const auto& [o, s] : known) {
    auto [it, added] = m.knownEvents.try_emplace(o, s);
    if (!added) it->second = s;
    ++matched;
  }
  if (m.knownEvents.size() == matched) return;
  std::erase_if(m.knownEvents, [&](const auto& kv) { return !known.contains(kv.first); });
}

std::vector<std::string> ClusterView::onRelay(const pb::ElectionMessage& m, Time t) {
  std::vector<std::string> joined;
  for (const auto& s : m.relayed()) {
    if (s.name() == self_ || s.name().empty() || s.address().empty() || isVoter(s.name())) continue;
    auto [it, fresh] = members_.try_emplace(s.name());
    auto& mem = it->second;
    if (directNow(mem, t)) continue;
    mem.status = s;
    mem.changedAt = t;
    if (fresh) {
      auto a = m.ages().find(s.name());
      mem.lastSeen = a == m.ages().end() ? t : seenAt(a->second, t);
      joined.push_back(s.name());
    }
  }
  for (const auto& [name, age] : m.ages()) {
    auto it = members_.find(name);
    if (it == members_.end() || name == self_ || directNow(it->second, t)) continue;
    heardAgo(it->second, age, t);
  }
  return joined;
}

std::vector<pb::NodeStatus> ClusterView::takeRelay() {
  std::vector<pb::NodeStatus> out;
  for (auto& [name, m] : members_)
    if (m.relayPending) {
      out.push_back(m.status);
      m.relayPending = false;
    }
  return out;
}

std::map<std::string, std::int64_t> ClusterView::ages(Time t, bool directOnly) const {
  std::map<std::string, std::int64_t> out;
  for (const auto& [name, m] : members_) {
    if (name == self_ || !m.joined() || (directOnly && !directNow(m, t))) continue;
    out[name] = t - m.lastSeen;
  }
  return out;
}

std::vector<pb::NodeStatus> ClusterView::changedSince(Time since) const {
  // At `since` itself too: a change in the same millisecond as the last heartbeat, after it.
  std::vector<pb::NodeStatus> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && m.joined() && m.changedAt >= since) out.push_back(m.status);
  return out;
}

std::vector<std::string> ClusterView::directObservers(Time t) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && m.joined() && m.observer() && directNow(m, t)) out.push_back(name);
  return out;
}

std::vector<std::string> ClusterView::observersOf(const std::string& feed, Time t) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && m.joined() && m.observer() && m.status.feed() == feed && t - m.lastSeen <= expiry(m))
      out.push_back(name);
  return out;
}

std::vector<std::string> ClusterView::expire(Time t) {
  std::vector<std::string> gone;
  for (auto it = members_.begin(); it != members_.end();) {
    if (!it->second.fromConfig && !isVoter(it->first) && t - it->second.lastSeen > expiry(it->second)) {
      gone.push_back(it->first);
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
  return gone;
}

ClusterView::PeerInfos ClusterView::peerInfo(Time t) const {
  PeerInfos out;
  for (const auto& [name, m] : members_) {
    const auto& s = m.status;
    if (!m.joined()) continue;  // never reported itself: not a member
    const bool enabled = s.candidacy() == pb::CANDIDACY_ENABLED;
    election::PeerInfo p{name, enabled,
                         enabled && s.healthy() && s.allowlist() != pb::ALLOWLIST_REJECTED &&
                             t - m.lastSeen < staleAfter(m),
                         s.priority()};
    out.all.push_back(p);
    if (!s.voter() && !isObserver(s)) out.nonVoters.push_back(p);
  }
  return out;
}

bool ClusterView::verifiedAlternative(Time t) const {
  for (const auto& [name, m] : members_) {
    const auto& s = m.status;
    if (name == self_ || !m.joined() || t - m.lastSeen > timing_.verdictFresh()) continue;
    if (s.candidacy() == pb::CANDIDACY_ENABLED && s.healthy() && s.allowlist() == pb::ALLOWLIST_OK) return true;
  }
  return false;
}

std::vector<std::string> ClusterView::reachers(Time t) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && m.joined() && t - m.lastSeen <= timing_.verdictFresh() &&
        m.status.allowlist() == pb::ALLOWLIST_OK)
      out.push_back(name);
  return out;
}

std::vector<std::string> ClusterView::routingThroughUs(const std::string& newMaster) const {
  std::vector<std::string> out;
  for (const auto& [name, m] : members_)
    if (name != self_ && name != newMaster && m.status.master() == self_) out.push_back(name);
  return out;
}

void ClusterView::snapshotNodes(Time t, const std::string& master,
                                google::protobuf::RepeatedPtrField<pb::NodeStatus>& out) const {
  for (const auto& [name, m] : members_) {
    if (m.status.name().empty() || !m.joined()) continue;  // known only from a vote request
    auto& n = *out.Add();
    n = m.status;
    if (t - m.lastSeen > staleAfter(m)) {
      n.set_healthy(false);
      n.add_health_problems("no status for " + std::to_string((t - m.lastSeen) / 1000) + " s");
      if (n.role() == pb::MASTER && name != master) n.set_role(pb::FOLLOWER);
    }
  }
}

std::set<std::string> ClusterView::standing() const {
  std::set<std::string> out(voters_.begin(), voters_.end());
  for (const auto& [name, m] : members_)
    if (m.joined() && !m.observer()) out.insert(name);
  return out;
}

std::set<std::string> ClusterView::admitted() const {
  std::set<std::string> out(voters_.begin(), voters_.end());
  for (const auto& [name, m] : members_)
    if (m.joined()) out.insert(name);
  return out;
}

}  // namespace egw
