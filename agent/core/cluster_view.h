#pragma once
// What one agent knows about the other nodes: each member's latest status, when it was heard of,
// and which events it holds. Pure: time comes in as an argument. The driver feeds it status
// reports and the master's relayed view, and asks it the questions the election, the allowlist
// policy, the shutdown drain and the published snapshot need.
//
// A member is a configured voter or a node that joined with a status report ("joined": its
// status carries an address). A node that only asked for a vote is not a member.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/core/election.h"
#include "egressgw/v1/peer.pb.h"

namespace egw {

struct ViewTiming {
  election::Time electionTimeout = 300;
  election::Time reportInterval = 100;
  // An observer reports on change and at least this often (docs/membership.md).
  election::Time observerKeepalive = 1000;
  // Heard of within this: counts for eligibility and for "shown healthy" (3 election timeouts;
  // an observer: 4 keepalives, since its age reaches the master through its feed's digest).
  election::Time staleAfter() const { return 3 * electionTimeout; }
  election::Time observerStaleAfter() const { return 4 * observerKeepalive; }
  // Another candidate's allowlist verdict is believed this long (it reports every interval).
  election::Time verdictFresh() const { return 3 * electionTimeout + 2 * reportInterval; }
  // Not heard of for this long: the master drops it from the view (20 election timeouts; an
  // observer: 20 keepalives).
  election::Time expiry() const { return 20 * electionTimeout; }
  election::Time observerExpiry() const { return 20 * observerKeepalive; }
};

// A node that is neither voter nor candidate (a worker): it takes no part in the election.
bool isObserver(const egressgw::v1::NodeStatus& s);
// What an observer reports at once rather than with its next keepalive, and what a feed relays
// at once: everything but its clock, its counters and its journal position.
bool significantChange(const egressgw::v1::NodeStatus& before, const egressgw::v1::NodeStatus& after);

class ClusterView {
 public:
  using Time = election::Time;
  struct Member {
    egressgw::v1::NodeStatus status;
    Time lastSeen = 0;             // local monotonic ms
    bool fromConfig = false;       // a voter named in the config
    std::map<std::string, std::uint64_t> knownEvents;  // what it holds, per origin (replication; its
                                                       // whole map, updated by its changes)
    Time changedAt = 0;            // its status last changed (significantly, for an observer)
    bool direct = false;           // an observer that reports to us (we are its feed)
    bool relayPending = false;     // direct, changed since our last relay to the master
    bool joined() const { return !status.address().empty(); }
    bool observer() const { return isObserver(status); }
  };
  enum class Report { Accepted, Joined, NameMismatch };

  ClusterView(std::string self, std::vector<std::string> voters, ViewTiming timing);

  const std::string& self() const { return self_; }
  const ViewTiming& timing() const { return timing_; }
  bool isVoter(const std::string& name) const { return voters_.count(name) > 0; }
  bool joined(const std::string& name) const;
  const Member* find(const std::string& name) const;
  const std::map<std::string, Member>& members() const { return members_; }

  // A STATUS_REPORT from m.from(). Joined: the first report of a node that is not a voter.
  Report onStatusReport(const egressgw::v1::ElectionMessage& m, Time t);
  // A heartbeat from the master: the members that changed (or all of them, with `ages`) and its
  // known events. Last-seen comes from the master's ages, never from the heartbeat's arrival.
  void onHeartbeat(const egressgw::v1::ElectionMessage& m, Time t);
  // A voter's status report: the observers it relays (changes) and their ages. Joined names the
  // observers new to us.
  std::vector<std::string> onRelay(const egressgw::v1::ElectionMessage& m, Time t);
  // Ours to relay: the statuses of our direct observers that changed since the last call.
  std::vector<egressgw::v1::NodeStatus> takeRelay();
  // Ms since we heard of each member: our direct observers only, or every member (the master's
  // whole view).
  std::map<std::string, std::int64_t> ages(Time t, bool directOnly) const;
  // Statuses that changed at or after `since` (a heartbeat's changes).
  std::vector<egressgw::v1::NodeStatus> changedSince(Time since) const;
  // Our observers (we are their feed): who hears a master change from us.
  std::vector<std::string> directObservers(Time t) const;
  // Observers whose feed is `feed` (by their status), heard of within their expiry: the ones a
  // new master tells itself when `feed` was the old master.
  std::vector<std::string> observersOf(const std::string& feed, Time t) const;

  // Members dropped: not a voter and not heard of for their expiry. Removed here.
  std::vector<std::string> expire(Time t);

  // What the election needs to know about the members that joined: all of them, and the
  // candidates that are not voters (who receive heartbeats too; observers do not).
  struct PeerInfos {
    std::vector<election::PeerInfo> all, nonVoters;
  };
  PeerInfos peerInfo(Time t) const;

  // Another enabled, healthy candidate whose allowlist probe says ok, heard of recently.
  bool verifiedAlternative(Time t) const;
  // Members (not us) whose allowlist probe reaches the target, heard of recently.
  std::vector<std::string> reachers(Time t) const;
  // Members whose latest status says they route through us (the old master during a drain);
  // the new master itself is not waited for.
  std::vector<std::string> routingThroughUs(const std::string& newMaster) const;
  // The nodes of the published snapshot (without us), appended to `out`: a member not heard of
  // for its stale bound is shown unhealthy, and never as a second master. Cleared elements that
  // `out` keeps from an earlier snapshot are reused, strings and all: ten snapshots a second of
  // 1,000 nodes then allocate next to nothing.
  void snapshotNodes(Time t, const std::string& master,
                     google::protobuf::RepeatedPtrField<egressgw::v1::NodeStatus>& out) const;
  // Voters and joined members: who may send us more than a status report (TLS admission).
  std::set<std::string> admitted() const;
  // Voters and members that have reported as a voter or a candidate: names an observer
  // certificate (shared by every worker) may not speak for.
  std::set<std::string> standing() const;
  // The address of a member's cluster side (its status), if it joined.
  std::string addressOf(const std::string& name) const;

 private:
  std::string self_;
  std::set<std::string> voters_;
  ViewTiming timing_;
  // An observer that reported to us within two keepalives: we hear it ourselves.
  bool directNow(const Member& m, Time t) const;
  // A member heard of `age` ms before t (a master's or a feed's age): last-seen moves only forward.
  static Time seenAt(std::int64_t age, Time t) { return t - std::max<std::int64_t>(age, 0); }
  static void heardAgo(Member& m, std::int64_t age, Time t);
  // The member's knownEvents from its message: the whole map replaces ours, changes
  // (known_events_delta) update the origins they name.
  static void setKnownEvents(Member& m, const egressgw::v1::ElectionMessage& msg);
  Time staleAfter(const Member& m) const {
    return m.observer() ? timing_.observerStaleAfter() : timing_.staleAfter();
  }
  Time expiry(const Member& m) const { return m.observer() ? timing_.observerExpiry() : timing_.expiry(); }

  std::map<std::string, Member> members_;
};

}  // namespace egw
