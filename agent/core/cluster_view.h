#pragma once
// What one agent knows about the other nodes: each member's latest status, when it was heard of,
// and which events it holds. Pure: time comes in as an argument. The driver feeds it status
// reports and the master's relayed view, and asks it the questions the election, the allowlist
// policy, the shutdown drain and the published snapshot need.
//
// A member is a configured voter or a node that joined with a status report ("joined": its
// status carries an address). A node that only asked for a vote is not a member.
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
  // Heard of within this: counts for eligibility and for "shown healthy" (3 election timeouts).
  election::Time staleAfter() const { return 3 * electionTimeout; }
  // Another candidate's allowlist verdict is believed this long (it reports every interval).
  election::Time verdictFresh() const { return 3 * electionTimeout + 2 * reportInterval; }
  // Not heard of for this long: the master drops it from the view (20 election timeouts).
  election::Time expiry() const { return 20 * electionTimeout; }
};

class ClusterView {
 public:
  using Time = election::Time;
  struct Member {
    egressgw::v1::NodeStatus status;
    Time lastSeen = 0;             // local monotonic ms
    bool fromConfig = false;       // a voter named in the config
    std::map<std::string, std::uint64_t> knownEvents;  // what it holds, per origin (replication)
    bool joined() const { return !status.address().empty(); }
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
  // A heartbeat from the master: its cluster view (every member but us) and its known events.
  void onHeartbeat(const egressgw::v1::ElectionMessage& m, Time t);

  // Members the master drops: not a voter and not heard of for timing.expiry(). Removed here.
  std::vector<std::string> expire(Time t);

  // What the election needs to know about the members that joined: all of them, and the ones
  // that are not voters (who receive heartbeats too).
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
  // The nodes of the published snapshot (without us): a member not heard of for
  // timing.staleAfter() is shown unhealthy, and never as a second master.
  std::vector<egressgw::v1::NodeStatus> snapshotNodes(Time t, const std::string& master) const;
  // Voters and joined members: who may send us more than a status report (TLS admission).
  std::set<std::string> admitted() const;
  // The address of a member's cluster side (its status), if it joined.
  std::string addressOf(const std::string& name) const;

 private:
  std::string self_;
  std::set<std::string> voters_;
  ViewTiming timing_;
  std::map<std::string, Member> members_;
};

}  // namespace egw
