#pragma once
// The election: Raft's leader election without the log, plus pre-vote, check-quorum and leader
// leases (DESIGN.md "Election"; the protocol as built and its timing: docs/election.md). A pure
// state machine in the style of etcd-io/raft: no sockets, no threads, no clock. Time comes in as
// `now` (milliseconds of the caller's monotonic clock), randomness from the seed given at
// construction.
//
// Driver contract, after every tick()/step()/setter/transferLeadership()/stepDown():
//   1. auto r = takeReady();
//   2. if (r.persist) store it durably (fsync + rename) BEFORE sending any message of r;
//   3. if (r.leaseChanged && !leaseValid(now)) cut the kernel fence short BEFORE sending: a
//      handover sends TimeoutNow in the same Ready in which the lease is given up;
//   4. send r.messages;
//   5. act on r.roleChanged / r.masterChanged / r.leaseChanged (datapath, events); on a renewal
//      (leaseChanged and leaseValid) extend the fence to leaseExpiry().
// Egress with the master's IP is allowed only while leaseValid(now): role() == Master alone is
// not enough (a new master has no lease until a voter majority acked its first heartbeat round).
// Call tick(now) at nextTick() at the latest (earlier or more often is harmless).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "egw/vocabulary.h"

namespace egw::election {

using Time = std::int64_t;  // ms, monotonic, injected by the driver

// The node's role in the election: egw::Role (egw/vocabulary.h, one spelling everywhere) without
// Observer, which is not an election state (an observer runs the election as a Follower that is
// neither voter nor candidate; the driver reports it as Observer).
using egw::Role;
using egw::roleName;

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

// Why an incoming message was ignored (counted per reason; also listed in Ready::rejected so the
// driver can log them with its context).
enum class Reject {
  Malformed,      // empty sender, unknown type, term 0, round from the future
  SelfAddressed,  // from == self
  Misrouted,      // to != self
  UnknownSender,  // not a voter and not a member given by setMembers
  StaleTerm,      // term below ours (a stale heartbeat/vote request is still answered with our term)
  InLease,        // (pre-)vote refused: heard from a live master within electionTimeout, or
                  // restarted less than electionTimeout ago
  NotVoter,       // vote request to a non-voter, or vote response from a non-voter
  NotEligible,    // TimeoutNow to a node that may not stand
  Conflict,       // a second master in our own term (a broken peer): ignored
  Count_
};
const char* rejectName(Reject r);

struct Rejection {
  Reject reason = Reject::Malformed;
  MsgType type = MsgType::Heartbeat;
  std::string from;
  std::uint64_t term = 0;  // the message's term
};

struct Ready {
  std::vector<Message> messages;
  std::optional<HardState> persist;   // durably store before sending `messages`
  std::optional<Role> roleChanged;    // the new role, when it changed since the last takeReady
                                      // (also set for Master -> Follower -> Master in one call)
  bool masterChanged = false;         // master() changed (elected, lost, new one seen)
  bool leaseChanged = false;          // leaseValid()/leaseExpiry() changed: gained, renewed or
                                      // lost (see the driver contract above)
  std::vector<Rejection> rejected;    // messages ignored since the last takeReady (for logging)
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
  // The node starts as a Follower, NOT eligible: call setEligible(true, now) once it is healthy.
  Election(Settings s, HardState restored, bool restarted, std::uint64_t seed, Time now);
  ~Election();
  Election(Election&&) noexcept;
  Election& operator=(Election&&) noexcept;
  Election(const Election&) = delete;
  Election& operator=(const Election&) = delete;

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
  Time leaseExpiry() const;                    // when the current lease ends (master only);
                                               // without a lease: a time not after it was lost
                                               // (0 if never held), so expiry - now <= 0
  bool isVoter() const;
  const Settings& settings() const;

  // Additions for drivers and tests.
  bool eligible() const;
  const HardState& hardState() const;
  // The latest local time at which tick() must be called next (heartbeat due, lease end, election
  // timeout, master loss). Calling tick() earlier or more often is harmless.
  Time nextTick() const;
  std::uint64_t rejectedCount(Reject r) const;
  std::uint64_t rejectedTotal() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace egw::election
