#include "agent/core/observer_feed.h"

#include <algorithm>

namespace egw {

namespace {

std::uint64_t fnv1a(const std::string& a, const std::string& b) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (unsigned char c : a) mix(c);
  mix(0);
  for (unsigned char c : b) mix(c);
  // FNV-1a alone spreads similar names (w1, w2, ...) poorly in the high bits: finish with
  // splitmix64's mixer.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace

std::vector<std::string> rendezvousOrder(const std::string& self, std::vector<std::string> voters) {
  std::sort(voters.begin(), voters.end());
  voters.erase(std::unique(voters.begin(), voters.end()), voters.end());
  std::stable_sort(voters.begin(), voters.end(),
                   [&](const std::string& a, const std::string& b) { return fnv1a(self, a) > fnv1a(self, b); });
  return voters;
}

ObserverFeed::ObserverFeed(std::string self, std::vector<std::string> voters, Time keepalive, Time now)
    : self_(std::move(self)), keepalive_(std::max<Time>(keepalive, 1)), heardFromFeed_(now) {
  order_ = rendezvousOrder(self_, std::move(voters));
  if (order_.empty()) order_.push_back(std::string());  // no voter configured: the config refuses this
}

bool ObserverFeed::isVoter(const std::string& n) const {
  return std::find(order_.begin(), order_.end(), n) != order_.end();
}

ObserverFeed::Update ObserverFeed::onUpdate(const std::string& from, const MasterInfo& m, Time t) {
  const bool voter = isVoter(from);
  // A master that is not a voter (a non-voting candidate) announces itself after its election.
  if (!voter && !(from == m.master && m.term > master_.term)) return Update::Stranger;
  if (from == feed()) heardFromFeed_ = t;
  if (m.term < master_.term) return Update::Stale;
  if (m.term == master_.term) {
    if (m.master == master_.master) {
      if (m.master.empty() || (m.address == master_.address && m.endpoint == master_.endpoint)) return Update::Same;
      master_ = m;  // the master's address moved (a reload): follow it
      return Update::Adopted;
    }
    if (!master_.master.empty() && !m.master.empty()) return Update::Conflict;
    // "No master" in the term whose master we know: the sender has not heard that master yet (a
    // voter that moved to the new term by voting) or stopped hearing it. Neither is a reason to
    // drop the route: a dead or frozen master no longer SNATs (its lease fence closes), so the
    // traffic is dropped there as it would be here. A new term decides.
    if (m.master.empty()) return Update::Same;
  }
  master_ = m;
  return Update::Adopted;
}

bool ObserverFeed::onTick(Time t) {
  if (t - heardFromFeed_ < 3 * keepalive_ || order_.size() < 2) return false;
  const auto silent = t - heardFromFeed_;
  const auto old = feed();
  index_ = (index_ + 1) % order_.size();
  heardFromFeed_ = t;
  lastSwitch_ = old + " silent for " + std::to_string(silent) + " ms; reporting to " + feed() + " now";
  return true;
}

ObserverFeed::Time ObserverFeed::nextDeadline() const {
  return std::min(lastReport_ + keepalive_, heardFromFeed_ + 3 * keepalive_);
}

}  // namespace egw
