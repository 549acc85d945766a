#include "agent/core/election.h"

#include <algorithm>
#include <array>
#include <deque>
#include <limits>
#include <map>
#include <random>

// Protocol and timing argument: docs/election.md. The comments here state local contracts only.

namespace egw::election {

namespace {
constexpr Time kNever = std::numeric_limits<Time>::max();
constexpr Time kLongAgo = std::numeric_limits<Time>::min() / 2;
constexpr int kMaxPriority = 1000;
constexpr std::uint64_t kMaxTerm = std::uint64_t{1} << 62;
}  // namespace

struct Election::Impl {
  Settings s;
  HardState hs;
  Role role = Role::Follower;
  std::string master;
  bool eligible = false;
  std::mt19937_64 rng;

  std::vector<std::string> members;  // non-voters we heartbeat and accept messages from
  std::vector<PeerInfo> peers;

  // Follower side. lastHeard: when we last heard a live master (or sent our own heartbeat as
  // master, or were constructed after a restart); no vote is granted within electionTimeout of it.
  Time lastHeard = kLongAgo;
  std::string lastHeardFrom;  // that master (empty after a restart: nobody is exempt)
  Time electionDeadline = kNever;

  // Campaign (PreCandidate / Candidate).
  std::vector<std::string> granted;
  std::vector<std::string> refused;

  // Master side.
  std::uint64_t round = 0;
  std::deque<std::pair<std::uint64_t, Time>> sentRounds;  // rounds that may still yield a lease
  std::map<std::string, std::uint64_t> acked;             // voter -> highest acked round
  Time becameMasterAt = 0;
  Time nextHeartbeat = kNever;
  bool haveLease = false;
  Time leaseEnd = 0;

  // Output since the last takeReady.
  Ready out;
  HardState persisted;
  std::string reportedMaster;
  bool reportedLease = false;
  Time reportedLeaseEnd = 0;
  bool roleTransition = false;

  std::array<std::uint64_t, static_cast<std::size_t>(Reject::Count_)> rejects{};
  std::string transferError;

  // --- helpers -------------------------------------------------------------------------------

  bool isVoter(const std::string& n) const { return std::find(s.voters.begin(), s.voters.end(), n) != s.voters.end(); }
  bool selfVoter() const { return isVoter(s.self); }
  bool isMember(const std::string& n) const { return std::find(members.begin(), members.end(), n) != members.end(); }
  bool known(const std::string& n) const { return isVoter(n) || isMember(n); }
  std::size_t quorum() const { return s.voters.size() / 2 + 1; }
  bool standing() const { return s.candidate && eligible; }
  // Whether a (pre-)vote for `candidate` must be refused because we heard from a live master
  // within electionTimeout. That master itself is exempt: it asks only after it has given up its
  // lease (stepped down, lost check-quorum, learned a higher term, or crashed).
  bool inLease(Time now, const std::string& candidate) const {
    return now - lastHeard < s.electionTimeout && (lastHeardFrom.empty() || candidate != lastHeardFrom);
  }

  // [electionTimeout, 2*electionTimeout): an offset of up to 3/4 of the timeout that shrinks as
  // priority grows (so the preferred node usually times out first), plus a random quarter that
  // everyone keeps (so equal priorities rarely collide; a quarter of the timeout is far above a
  // round trip). Modulo instead of std::uniform_int_distribution: the sequence must be the same
  // with every standard library, since golden traces depend on it.
  Time randomizedTimeout() {
    const Time et = std::max<Time>(s.electionTimeout, 4);
    const Time jitter = et / 4;
    const int p = std::clamp(s.priority, 0, kMaxPriority);
    const Time offset = (et - jitter) * (kMaxPriority - p) / kMaxPriority;
    return et + offset + static_cast<Time>(rng() % static_cast<std::uint64_t>(jitter));
  }
  void resetElectionTimer(Time now) { electionDeadline = now + randomizedTimeout(); }

  void setRole(Role r) {
    if (r != role) roleTransition = true;
    role = r;
  }

  void send(MsgType type, const std::string& to, std::uint64_t term, bool granted = false, std::uint64_t rnd = 0,
            bool transfer = false) {
    Message m;
    m.type = type;
    m.from = s.self;
    m.to = to;
    m.term = term;
    m.granted = granted;
    m.round = rnd;
    m.priority = s.priority;
    m.transfer = transfer;
    out.messages.push_back(std::move(m));
  }

  void reject(Reject why, const Message& m) {
    ++rejects[static_cast<std::size_t>(why)];
    out.rejected.push_back(Rejection{why, m.type, m.from, m.term});
  }

  void relinquishLease(Time now) {
    if (haveLease) leaseEnd = std::min(leaseEnd, now);
    haveLease = false;
    sentRounds.clear();
    acked.clear();
    nextHeartbeat = kNever;
  }

  // Adopts `term` (when higher) and becomes a Follower of `newMaster` (may be empty). Does not
  // touch the election timer: only a live master or a granted vote resets it.
  void becomeFollower(std::uint64_t term, const std::string& newMaster, Time now) {
    if (term > hs.term) {
      hs.term = term;
      hs.votedFor.clear();
    }
    if (role == Role::Master) relinquishLease(now);
    setRole(Role::Follower);
    master = newMaster;
    granted.clear();
    refused.clear();
  }

  void startPreVote(Time now) {
    setRole(Role::PreCandidate);
    master.clear();
    granted.clear();
    refused.clear();
    resetElectionTimer(now);
    if (selfVoter() && !inLease(now, s.self)) granted.push_back(s.self);
    for (const auto& v : s.voters)
      if (v != s.self) send(MsgType::PreVote, v, hs.term + 1);
    if (granted.size() >= quorum()) startVote(now, false);
  }

  void startVote(Time now, bool transfer) {
    hs.term += 1;
    hs.votedFor = selfVoter() ? s.self : std::string();
    setRole(Role::Candidate);
    master.clear();
    granted.clear();
    refused.clear();
    resetElectionTimer(now);
    if (selfVoter()) granted.push_back(s.self);
    for (const auto& v : s.voters)
      if (v != s.self) send(MsgType::Vote, v, hs.term, false, 0, transfer);
    if (granted.size() >= quorum()) becomeMaster(now);
  }

  void becomeMaster(Time now) {
    setRole(Role::Master);
    master = s.self;
    granted.clear();
    refused.clear();
    acked.clear();
    sentRounds.clear();
    haveLease = false;
    becameMasterAt = now;
    electionDeadline = kNever;
    sendHeartbeats(now);
  }

  void sendHeartbeats(Time now) {
    ++round;
    sentRounds.emplace_back(round, now);
    while (!sentRounds.empty() && sentRounds.front().second + s.lease <= now) sentRounds.pop_front();
    if (selfVoter()) {
      acked[s.self] = round;
      lastHeard = now;  // we are the live master: refuse non-transfer votes like our voters do
      lastHeardFrom = s.self;
    }
    for (const auto& v : s.voters)
      if (v != s.self) send(MsgType::Heartbeat, v, hs.term, false, round);
    for (const auto& n : members)
      if (n != s.self && !isVoter(n)) send(MsgType::Heartbeat, n, hs.term, false, round);
    nextHeartbeat = now + std::max<Time>(s.heartbeatInterval, 1);
    updateLease();
  }

  // Lease = send time of the newest round acked by a voter majority + lease.
  void updateLease() {
    std::vector<std::uint64_t> rounds;
    for (const auto& [voter, r] : acked)
      if (isVoter(voter)) rounds.push_back(r);
    if (rounds.size() < quorum()) return;
    std::sort(rounds.begin(), rounds.end(), std::greater<>());
    const std::uint64_t r = rounds[quorum() - 1];
    for (const auto& [sr, t] : sentRounds) {
      if (sr != r) continue;
      const Time end = t + s.lease;
      if (!haveLease || end > leaseEnd) {
        haveLease = true;
        leaseEnd = end;
      }
      return;
    }
  }

  Time quorumDeadline() const { return haveLease ? leaseEnd : becameMasterAt + s.lease; }

  std::optional<PeerInfo> bestTarget() const {
    std::optional<PeerInfo> best;
    for (const auto& p : peers) {
      if (p.name == s.self || !known(p.name) || !p.candidate || !p.eligible) continue;
      if (!best || p.priority > best->priority || (p.priority == best->priority && p.name < best->name)) best = p;
    }
    return best;
  }

  std::optional<std::string> transfer(const std::string& to, Time now) {
    transferError.clear();
    if (role != Role::Master) {
      transferError = "not the master";
      return std::nullopt;
    }
    std::string target;
    if (to.empty()) {
      auto best = bestTarget();
      if (!best) {
        transferError = "no eligible candidate to hand over to";
        return std::nullopt;
      }
      target = best->name;
    } else {
      if (to == s.self) {
        transferError = "cannot hand over to self";
        return std::nullopt;
      }
      if (!known(to)) {
        transferError = "unknown node " + to;
        return std::nullopt;
      }
      auto it = std::find_if(peers.begin(), peers.end(), [&](const PeerInfo& p) { return p.name == to; });
      if (it == peers.end()) {
        transferError = "no status known for " + to;
        return std::nullopt;
      }
      if (!it->candidate || !it->eligible) {
        transferError = to + " is not an eligible candidate";
        return std::nullopt;
      }
      target = to;
    }
    // Give the lease up before TimeoutNow leaves: the target's voters will grant transfer votes
    // without waiting out our lease (docs/election.md "Transfer").
    send(MsgType::TimeoutNow, target, hs.term);
    becomeFollower(hs.term, std::string(), now);
    resetElectionTimer(now);
    return target;
  }

  void stepDown(Time now) {
    if (role == Role::Follower) return;
    becomeFollower(hs.term, std::string(), now);
    resetElectionTimer(now);
  }

  // --- message handling ----------------------------------------------------------------------

  bool validate(const Message& m) {
    const auto type = static_cast<int>(m.type);
    // A term near 2^64 is garbage (terms grow by one per election) and would overflow term + 1.
    if (m.from.empty() || type < 0 || type > static_cast<int>(MsgType::TimeoutNow) || m.term == 0 ||
        m.term > kMaxTerm) {
      reject(Reject::Malformed, m);
      return false;
    }
    if (m.from == s.self) {
      reject(Reject::SelfAddressed, m);
      return false;
    }
    if (m.to != s.self) {
      reject(Reject::Misrouted, m);
      return false;
    }
    if (!known(m.from)) {
      reject(Reject::UnknownSender, m);
      return false;
    }
    return true;
  }

  void step(const Message& m, Time now) {
    if (!validate(m)) return;

    // Pre-votes never change the voter's term; their answers carry the term asked for (ours + 1),
    // except a refusal from a voter that is further ahead, which carries its own term.
    if (m.type == MsgType::PreVote) return handlePreVote(m, now);
    if (m.type == MsgType::PreVoteResp) {
      if (m.term == hs.term + 1) return handlePreVoteResp(m, now);
      if (m.term == hs.term) return;  // a late answer to a pre-vote we already won
      if (m.term < hs.term) return reject(Reject::StaleTerm, m);
      if (m.granted) return reject(Reject::Malformed, m);
      return adoptTermFromResponse(m.term, now);
    }

    if (m.term > hs.term) {
      switch (m.type) {
        case MsgType::Vote:
          if (!selfVoter()) return reject(Reject::NotVoter, m);
          if (inLease(now, m.from) && !m.transfer) {
            // Sticky master: neither adopt the term nor vote (a partitioned node cannot depose).
            reject(Reject::InLease, m);
            return send(MsgType::VoteResp, m.from, m.term, false);
          }
          becomeFollower(m.term, std::string(), now);
          break;
        case MsgType::Heartbeat:
        case MsgType::TimeoutNow:
          becomeFollower(m.term, m.from, now);
          break;
        default:
          return adoptTermFromResponse(m.term, now);  // responses of a term we were not part of
      }
    } else if (m.term < hs.term) {
      reject(Reject::StaleTerm, m);
      // Tell a stale master or candidate our term (as etcd does with check-quorum): without it
      // a node left behind in a higher term could never follow the master again.
      if (m.type == MsgType::Heartbeat) send(MsgType::HeartbeatResp, m.from, hs.term, false, m.round);
      if (m.type == MsgType::Vote && selfVoter()) send(MsgType::VoteResp, m.from, hs.term, false);
      return;
    }

    switch (m.type) {
      case MsgType::Vote:
        return handleVote(m, now);
      case MsgType::Heartbeat:
        return handleHeartbeat(m, now);
      case MsgType::HeartbeatResp:
        return handleHeartbeatResp(m, now);
      case MsgType::VoteResp:
        return handleVoteResp(m, now);
      case MsgType::TimeoutNow:
        return handleTimeoutNow(m, now);
      case MsgType::PreVote:
      case MsgType::PreVoteResp:
        break;  // handled above
    }
  }

  // A response told us of a higher term. A master learns this when a node was left behind in a
  // higher term by failed campaigns: that node can neither win nor follow us. Rather than leave
  // the cluster masterless until timeouts fire, a standing master campaigns again at once; its
  // voters still in its lease grant it (inLease exempts the master they heard from), and a
  // voter that follows a newer master refuses, so this never deposes anyone.
  void adoptTermFromResponse(std::uint64_t term, Time now) {
    const bool wasMaster = role == Role::Master;
    becomeFollower(term, std::string(), now);
    if (wasMaster && standing()) startPreVote(now);
  }

  void handlePreVote(const Message& m, Time now) {
    if (!selfVoter()) return reject(Reject::NotVoter, m);
    if (m.term < hs.term) {
      reject(Reject::StaleTerm, m);
      return send(MsgType::PreVoteResp, m.from, hs.term, false);
    }
    // Pre-votes never change our term or vote.
    bool grant = true;
    if (inLease(now, m.from)) {
      reject(Reject::InLease, m);
      grant = false;
    } else if (m.term == hs.term && !hs.votedFor.empty() && hs.votedFor != m.from) {
      grant = false;
    } else if (role == Role::Master) {
      grant = false;
    }
    send(MsgType::PreVoteResp, m.from, m.term, grant);
  }

  void handleVote(const Message& m, Time now) {
    if (!selfVoter()) return reject(Reject::NotVoter, m);
    if (inLease(now, m.from) && !m.transfer) {
      reject(Reject::InLease, m);
      return send(MsgType::VoteResp, m.from, hs.term, false);
    }
    const bool grant = role != Role::Master && (hs.votedFor.empty() || hs.votedFor == m.from);
    if (grant) {
      hs.votedFor = m.from;  // persisted (Ready::persist) before the response is sent
      resetElectionTimer(now);
    }
    send(MsgType::VoteResp, m.from, hs.term, grant);
  }

  void handleHeartbeat(const Message& m, Time now) {
    if (role == Role::Master) return reject(Reject::Conflict, m);
    if (role != Role::Follower) becomeFollower(hs.term, m.from, now);
    master = m.from;
    lastHeard = now;
    lastHeardFrom = m.from;
    resetElectionTimer(now);
    if (selfVoter()) send(MsgType::HeartbeatResp, m.from, hs.term, true, m.round);
  }

  void handleHeartbeatResp(const Message& m, Time) {
    if (role != Role::Master || !m.granted) return;
    if (!isVoter(m.from)) return reject(Reject::NotVoter, m);
    if (m.round > round) return reject(Reject::Malformed, m);
    auto& a = acked[m.from];
    a = std::max(a, m.round);
    updateLease();
  }

  // A voter majority said no. Retrying changes no term on anyone (pre-vote first), so the next
  // attempt comes after half the usual timeout: a voter that refused because it had just
  // restarted or just heard a master that is gone since must not cost a full extra timeout.
  void lostCampaign(Time now) {
    becomeFollower(hs.term, std::string(), now);
    electionDeadline = now + randomizedTimeout() - s.electionTimeout / 2;
  }

  static void tally(std::vector<std::string>& list, const std::string& who) {
    if (std::find(list.begin(), list.end(), who) == list.end()) list.push_back(who);
  }

  void handlePreVoteResp(const Message& m, Time now) {
    if (role != Role::PreCandidate) return;
    if (!isVoter(m.from)) return reject(Reject::NotVoter, m);
    tally(m.granted ? granted : refused, m.from);
    if (granted.size() >= quorum()) {
      startVote(now, false);
    } else if (refused.size() >= quorum()) {
      lostCampaign(now);
    }
  }

  void handleVoteResp(const Message& m, Time now) {
    if (role != Role::Candidate) return;
    if (!isVoter(m.from)) return reject(Reject::NotVoter, m);
    tally(m.granted ? granted : refused, m.from);
    if (granted.size() >= quorum()) {
      becomeMaster(now);
    } else if (refused.size() >= quorum()) {
      lostCampaign(now);
    }
  }

  void handleTimeoutNow(const Message& m, Time now) {
    if (role == Role::Master) return reject(Reject::Conflict, m);
    if (!master.empty() && master != m.from) return reject(Reject::Conflict, m);
    if (!standing()) return reject(Reject::NotEligible, m);
    startVote(now, true);
  }

  void tick(Time now) {
    if (role == Role::Master) {
      if (now >= quorumDeadline()) {
        // Check-quorum: no voter majority acked within the lease.
        becomeFollower(hs.term, std::string(), now);
        resetElectionTimer(now);
        return;
      }
      if (now >= nextHeartbeat) sendHeartbeats(now);
      if (s.preempt && haveLease && now < leaseEnd) {
        auto best = bestTarget();
        if (best && best->priority > s.priority) transfer(best->name, now);
      }
      return;
    }
    if (!master.empty() && now - lastHeard >= s.electionTimeout) master.clear();
    if (now < electionDeadline) return;
    if (standing()) {
      startPreVote(now);
    } else {
      if (role != Role::Follower) becomeFollower(hs.term, std::string(), now);
      resetElectionTimer(now);
    }
  }

  Time nextTick() const {
    if (role == Role::Master) return std::min(nextHeartbeat, quorumDeadline());
    Time t = electionDeadline;
    if (!master.empty()) t = std::min(t, lastHeard + s.electionTimeout);
    return t;
  }

  Ready take() {
    Ready r = std::move(out);
    out = Ready{};
    if (hs != persisted) {
      r.persist = hs;
      persisted = hs;
    }
    if (roleTransition) r.roleChanged = role;
    roleTransition = false;
    if (master != reportedMaster) {
      r.masterChanged = true;
      reportedMaster = master;
    }
    if (haveLease != reportedLease || leaseEnd != reportedLeaseEnd) {
      r.leaseChanged = true;
      reportedLease = haveLease;
      reportedLeaseEnd = leaseEnd;
    }
    return r;
  }
};

Election::Election(Settings s, HardState restored, bool restarted, std::uint64_t seed, Time now)
    : d_(std::make_unique<Impl>()) {
  d_->s = std::move(s);
  d_->s.priority = std::clamp(d_->s.priority, 0, kMaxPriority);
  d_->hs = restored;
  d_->persisted = restored;
  d_->rng.seed(seed);
  // A restarted voter may have acked a lease it no longer remembers: behave as if it had just
  // heard from a live master.
  if (restarted) d_->lastHeard = now;
  d_->resetElectionTimer(now);
}

Election::~Election() = default;
Election::Election(Election&&) noexcept = default;
Election& Election::operator=(Election&&) noexcept = default;

void Election::tick(Time now) { d_->tick(now); }

void Election::step(const Message& m, Time now) { d_->step(m, now); }

Ready Election::takeReady() { return d_->take(); }

void Election::setEligible(bool eligible, Time now) {
  d_->eligible = eligible;
  if (eligible) return;
  if (d_->role == Role::Master) {
    if (!d_->transfer(std::string(), now)) d_->stepDown(now);
  } else if (d_->role != Role::Follower) {
    d_->stepDown(now);
  }
}

void Election::setPriority(int priority) { d_->s.priority = std::clamp(priority, 0, kMaxPriority); }

void Election::setMembers(std::vector<PeerInfo> nonVoters) {
  d_->members.clear();
  for (auto& p : nonVoters)
    if (!p.name.empty() && p.name != d_->s.self && !d_->isVoter(p.name)) d_->members.push_back(std::move(p.name));
}

void Election::setPeerInfo(std::vector<PeerInfo> peers) { d_->peers = std::move(peers); }

std::optional<std::string> Election::transferLeadership(const std::string& to, Time now) {
  return d_->transfer(to, now);
}

const std::string& Election::lastTransferError() const { return d_->transferError; }

void Election::stepDown(Time now) { d_->stepDown(now); }

Role Election::role() const { return d_->role; }
std::uint64_t Election::term() const { return d_->hs.term; }
const std::string& Election::master() const { return d_->master; }
bool Election::leaseValid(Time now) const { return d_->role == Role::Master && d_->haveLease && now < d_->leaseEnd; }
Time Election::leaseExpiry() const { return d_->leaseEnd; }
bool Election::isVoter() const { return d_->selfVoter(); }
const Settings& Election::settings() const { return d_->s; }
bool Election::eligible() const { return d_->eligible; }
const HardState& Election::hardState() const { return d_->hs; }
Time Election::nextTick() const { return d_->nextTick(); }
std::uint64_t Election::rejectedCount(Reject r) const {
  const auto i = static_cast<std::size_t>(r);
  return i < d_->rejects.size() ? d_->rejects[i] : 0;
}
std::uint64_t Election::rejectedTotal() const {
  std::uint64_t n = 0;
  for (auto c : d_->rejects) n += c;
  return n;
}

}  // namespace egw::election
