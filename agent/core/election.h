#pragma once
// The election: Raft's leader election without the log, plus pre-vote, check-quorum and leader
// leases (docs/architecture.md "Election"). A pure state machine in the style of etcd-io/raft:
// no sockets, no threads, no clock. Time comes in as `now` (milliseconds of the caller's
// monotonic clock), randomness from the seed given at construction.
//
// Driver contract, after every tick()/step()/setter:
//   1. auto r = takeReady();
//   2. if (r.persist) store it durably (fsync + rename) BEFORE sending any message of r;
//   3. send r.messages; 4. act on r.roleChanged (datapath, events).
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace egw::election {

using Time = std::int64_t;  // ms, monotonic, injected by the driver

enum class Role { Follower, PreCandidate, Candidate, Master };
const char* roleName(Role r);

enum class MsgType { PreVote, PreVoteResp, Vote, VoteResp, Heartbeat, HeartbeatResp, TimeoutNow };
const char* msgTypeName(MsgType t);

struct Message {
  MsgType type = MsgType::Heartbeat;
  std::string from;
  std::string to;
  std::uint64_t term = 0;
  bool granted = false;      // *Resp: vote granted / heartbeat accepted
  std::uint64_t round = 0;   // heartbeat round, echoed by HeartbeatResp
  int priority = 0;          // sender's priority (informational; pre-vote/vote)
  bool transfer = false;     // Vote caused by leadership transfer (TimeoutNow): voters skip the
                             // "heard from a live master" check, as in Raft's transfer
};

struct Settings {
  std::string self;
  std::vector<std::string> voters;    // fixed, odd; may or may not include self
  bool candidate = false;             // egress node allowed to stand (config + candidacy)
  int priority = 100;                 // 0..1000; higher -> shorter randomized timeout
  Time heartbeatInterval = 100;
  Time electionTimeout = 300;         // the minimum election timeout
  Time lease = 270;                   // < electionTimeout - drift margin (Config computes it)
  bool preempt = false;
};

struct HardState {
  std::uint64_t term = 0;
  std::string votedFor;               // empty: no vote in `term`
  bool operator==(const HardState&) const = default;
};

struct Ready {
  std::vector<Message> messages;
  std::optional<HardState> persist;   // durably store before sending `messages`
  std::optional<Role> roleChanged;    // the new role, when it changed since the last takeReady
  bool masterChanged = false;         // master() changed (elected, lost, new one seen)
};

// Status of another node as the driver knows it (from status reports), used by the master to
// pick a transfer target and by `preempt`.
struct PeerInfo {
  std::string name;
  bool candidate = false;
  bool eligible = false;              // healthy, enabled, allowlist not rejected
  int priority = 0;
};

class Election {
 public:
  // `restored` is what the driver loaded from disk. `restarted` = true when the node has run
  // before (state file existed or could not be read): it then grants no vote for one election
  // timeout, since it may have acked a lease it no longer remembers.
  Election(Settings s, HardState restored, bool restarted, std::uint64_t seed, Time now);

  void tick(Time now);
  void step(const Message& m, Time now);  // messages from unknown senders, stale terms etc. are ignored
  Ready takeReady();

  // Inputs from the driver.
  void setEligible(bool eligible, Time now);   // health and candidacy; a master that turns
                                               // ineligible transfers leadership, else steps down
  void setPriority(int priority);
  void setMembers(std::vector<PeerInfo> nonVoters);  // candidates/observers to send heartbeats to
  void setPeerInfo(std::vector<PeerInfo> peers);     // latest status of every known node
  // Master only: hand over to `to` (or the best eligible candidate when empty). Returns the
  // chosen target, or nullopt when there is none (the reason is in lastTransferError()).
  std::optional<std::string> transferLeadership(const std::string& to, Time now);
  const std::string& lastTransferError() const;
  // Step down at once (SIGTERM without a successor, or the driver lost its datapath).
  void stepDown(Time now);

  // Queries.
  Role role() const;
  std::uint64_t term() const;
  const std::string& master() const;           // known master of term(), empty if none
  bool leaseValid(Time now) const;             // master holds a lease acked by a voter majority
  Time leaseExpiry() const;                    // when the current lease ends (master only)
  bool isVoter() const;
  const Settings& settings() const;

 private:
  struct Impl;
  // Implementation is in election.cpp; members are declared there to keep this header stable.
  std::vector<std::uint8_t> storage_;  // placeholder replaced by the implementation
};

}  // namespace egw::election
