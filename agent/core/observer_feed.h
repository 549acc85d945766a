#pragma once
// How an observer (a node that is neither voter nor candidate: every worker) learns who is master
// without taking part in the election (docs/membership.md). Pure: time comes in as an argument.
//
// The observer reports its status to one voter, its feed, chosen by rendezvous hashing so that
// observers spread evenly over the voters and a voter added or removed moves only its share.
// The feed answers every report with a MASTER_UPDATE and pushes one when its master changes; a
// newly elected master pushes one to the observers whose feed was the old master. Three
// keepalives without a word from the feed: the next voter in the observer's order becomes it.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/core/election.h"

namespace egw {

struct MasterInfo {
  std::uint64_t term = 0;
  std::string master;    // "" none
  std::string address;   // the master's cluster address (next hop of the route)
  std::string endpoint;  // its peer endpoint
  bool operator==(const MasterInfo&) const = default;
};

// The voters ordered for `self`, best first: by a 64-bit FNV-1a hash of "self\0voter" (stable
// across builds and platforms, unlike std::hash), ties by name.
std::vector<std::string> rendezvousOrder(const std::string& self, std::vector<std::string> voters);

class ObserverFeed {
 public:
  using Time = election::Time;
  enum class Update {
    Adopted,   // the master (or its term, or its address) changed: route accordingly
    Same,      // nothing new (or "no master" in the term whose master we know); the feed is alive
    Stale,     // an older term than ours: ignored
    Conflict,  // another master in the same term: ignored (the election allows one per term)
    Stranger,  // neither a voter nor the master it names: ignored
  };

  // `keepalive`: how often a report goes out without a change; silence of 3 keepalives moves on.
  ObserverFeed(std::string self, std::vector<std::string> voters, Time keepalive, Time now);

  const std::string& feed() const { return order_[index_]; }
  const std::vector<std::string>& order() const { return order_; }
  const MasterInfo& master() const { return master_; }
  Time keepalive() const { return keepalive_; }
  // Why the feed last changed ("n2 silent for 3000 ms"), for the log; "" before the first change.
  const std::string& lastSwitch() const { return lastSwitch_; }

  Update onUpdate(const std::string& from, const MasterInfo& m, Time t);
  // True when the feed changed (its silence lasted 3 keepalives): report to the new one at once.
  bool onTick(Time t);
  // A report is due: the status changed, or a keepalive passed since the last one.
  bool reportDue(Time t, bool changed) const { return changed || t - lastReport_ >= keepalive_; }
  void reported(Time t) { lastReport_ = t; }
  Time nextDeadline() const;

 private:
  bool isVoter(const std::string& n) const;

  std::string self_;
  std::vector<std::string> order_;
  std::size_t index_ = 0;
  Time keepalive_;
  Time heardFromFeed_;   // the feed's last word, or when it became the feed
  Time lastReport_ = -1'000'000'000;
  MasterInfo master_;
  std::string lastSwitch_;
};

}  // namespace egw
