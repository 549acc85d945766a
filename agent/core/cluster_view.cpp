#include "agent/core/cluster_view.h"

namespace egw {

namespace pb = egressgw::v1;

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
  mem.status = m.status();
  mem.lastSeen = t;
  mem.fromConfig = isVoter(m.from());
  mem.knownEvents.clear();
  for (const auto& [o, s] : m.known_events()) mem.knownEvents[o] = s;
  return fresh ? Report::Joined : Report::Accepted;
}

void ClusterView::onHeartbeat(const pb::ElectionMessage& m, Time t) {
  for (const auto& s : m.cluster()) {
    if (s.name() == self_ || s.name().empty() || s.address().empty()) continue;
    auto& mem = members_[s.name()];
    mem.status = s;
    mem.lastSeen = t;
  }
  auto& from = members_[m.from()];
  from.knownEvents.clear();
  for (const auto& [o, s] : m.known_events()) from.knownEvents[o] = s;
}

std::vector<std::string> ClusterView::expire(Time t) {
  std::vector<std::string> gone;
  for (auto it = members_.begin(); it != members_.end();) {
    if (!it->second.fromConfig && !isVoter(it->first) && t - it->second.lastSeen > timing_.expiry()) {
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
                             t - m.lastSeen < timing_.staleAfter(),
                         s.priority()};
    out.all.push_back(p);
    if (!s.voter()) out.nonVoters.push_back(p);
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

std::vector<pb::NodeStatus> ClusterView::snapshotNodes(Time t, const std::string& master) const {
  std::vector<pb::NodeStatus> out;
  for (const auto& [name, m] : members_) {
    if (m.status.name().empty() || !m.joined()) continue;  // known only from a vote request
    auto n = m.status;
    if (t - m.lastSeen > timing_.staleAfter()) {
      n.set_healthy(false);
      n.add_health_problems("no status for " + std::to_string((t - m.lastSeen) / 1000) + " s");
      if (n.role() == pb::MASTER && name != master) n.set_role(pb::FOLLOWER);
    }
    out.push_back(std::move(n));
  }
  return out;
}

std::set<std::string> ClusterView::admitted() const {
  std::set<std::string> out(voters_.begin(), voters_.end());
  for (const auto& [name, m] : members_)
    if (m.joined()) out.insert(name);
  return out;
}

}  // namespace egw
