// Fuzz target: the election state machine (agent/core/election.h) under arbitrary inputs.
// The first byte picks the mode.
//
// Mode "cluster" (even): 3 or 5 voters, up to 2 non-voting candidates and an observer of honest
// nodes in the in-memory cluster of tests/unit/election/cluster.h; the input is the schedule:
// time steps, messages delivered early, out of order, dropped or duplicated, crashes and restarts
// (persisted HardState kept), pauses, cuts, eligibility changes, handovers and step-downs, clock
// rates within +-5%, and forged messages from outsiders (unknown, empty, self-addressed or
// misrouted senders). Checked after every change and every simulated millisecond:
//   - at most one master per term;
//   - a voter never records two different votes in one term (across restarts);
//   - a node's term never decreases (across restarts) and what it holds is what it persisted;
//   - a granted VoteResp is only sent after the vote it announces was persisted;
//   - no two nodes hold a valid lease at the same real time; a lease is only held by a master;
// and once the input is used up, everything heals and a master with a valid lease must exist
// within 10 election timeouts.
//
// Mode "adversary" (odd): one node whose peers say anything: arbitrary message types, senders,
// terms, rounds, grants, priorities, interleaved with ticks, restarts from its persisted state,
// eligibility changes, handovers. Forged grants may make it master (that is the peers' fault);
// what must hold is local: term never decreases, one vote per term (across restarts), state is
// persisted before any message that depends on it is sent, a non-voter never grants, a lease is
// only held by a master and never extends past now + lease, and it never addresses itself.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "unit/election/cluster.h"

using namespace egw::election;
using namespace egw::election::testing;
using egw::fuzz::Input;

namespace {

struct Timing {
  Time hb;
  Time et;
};
Time leaseFor(Timing t) { return t.et - std::max(t.et / 10, t.hb); }  // as egw::ElectionConfig derives it

// Per-node history shared by both modes.
struct History {
  std::map<std::uint64_t, std::string> masterOfTerm;
  std::map<std::string, std::map<std::uint64_t, std::string>> votes;  // node -> term -> vote
  std::map<std::string, std::uint64_t> maxTerm;

  void master(const std::string& node, std::uint64_t term) {
    auto [it, fresh] = masterOfTerm.emplace(term, node);
    EGW_FUZZ_CHECK(fresh || it->second == node,
                   "two masters in term " + std::to_string(term) + ": " + it->second + " and " + node);
  }
  void vote(const std::string& node, const HardState& disk) {
    if (disk.votedFor.empty()) return;
    auto [it, fresh] = votes[node].emplace(disk.term, disk.votedFor);
    EGW_FUZZ_CHECK(fresh || it->second == disk.votedFor, node + " voted twice in term " + std::to_string(disk.term) +
                                                             ": " + it->second + " and " + disk.votedFor);
  }
  void term(const std::string& node, std::uint64_t t) {
    auto& m = maxTerm[node];
    EGW_FUZZ_CHECK(t >= m, node + "'s term went back from " + std::to_string(m) + " to " + std::to_string(t));
    m = t;
  }
};

// A message a node just sent, checked against what it had persisted when it sent it.
void checkSent(const Message& m, const std::string& self, bool voter, const HardState& disk) {
  EGW_FUZZ_CHECK(m.from == self, self + " sent a message from '" + m.from + "'");
  EGW_FUZZ_CHECK(!m.to.empty() && m.to != self, self + " addressed a message to '" + m.to + "'");
  if (m.type == MsgType::VoteResp && m.granted) {
    EGW_FUZZ_CHECK(voter, self + " is not a voter but granted a vote");
    EGW_FUZZ_CHECK(disk.term == m.term && disk.votedFor == m.to,
                   self + " granted " + m.to + " a vote in term " + std::to_string(m.term) + " but persisted term " +
                       std::to_string(disk.term) + " vote '" + disk.votedFor + "'");
  }
  if (m.type == MsgType::PreVoteResp && m.granted) EGW_FUZZ_CHECK(voter, self + " is not a voter but granted a pre-vote");
  if (m.type == MsgType::Vote) {
    EGW_FUZZ_CHECK(disk.term == m.term, self + " asks for votes in term " + std::to_string(m.term) +
                                            " but persisted term " + std::to_string(disk.term));
    if (voter) EGW_FUZZ_CHECK(disk.votedFor == self, self + " campaigns without having persisted its own vote");
  }
}

void checkLocal(const Election& e, const std::string& self, const HardState& disk, Time now, Time lease) {
  EGW_FUZZ_CHECK(e.hardState() == disk, self + " holds a state it did not persist");
  EGW_FUZZ_CHECK(e.term() == e.hardState().term, self + ": term() differs from hardState()");
  if (e.role() == Role::Master) EGW_FUZZ_CHECK(e.master() == self, self + " is master but master() is '" + e.master() + "'");
  if (e.leaseValid(now)) {
    EGW_FUZZ_CHECK(e.role() == Role::Master, self + " holds a lease as " + std::string(roleName(e.role())));
    EGW_FUZZ_CHECK(e.leaseExpiry() <= now + lease, self + "'s lease ends after now + lease");
  }
}

// ---------------------------------------------------------------------------------------------
class ClusterRun {
 public:
  explicit ClusterRun(Input& in) : in_(in) {}

  void run() {
    setUp();
    c_.onChange = [this](SimNode& n) { afterPump(n); };
    c_.start();
    // Bounded work per input: at most 400 operations and 40 election timeouts of simulated time.
    for (int ops = 0; ops < 400 && !in_.empty() && c_.now < 40 * timing_.et; ++ops) op();
    heal();
    const Time deadline = c_.now + 10 * timing_.et;
    bool mastered = false;
    while (c_.now < deadline && !mastered) {
      advance();
      for (auto& n : c_.nodes) mastered = mastered || (n.e && n.e->leaseValid(c_.local(n)));
    }
    EGW_FUZZ_CHECK(mastered, "no master with a valid lease within 10 election timeouts after healing (" + describe() + ")");
  }

 private:
  void setUp() {
    static const Timing timings[] = {{100, 300}, {20, 60}, {30, 300}, {50, 150}};
    timing_ = timings[in_.below(4)];
    c_.seed = in_.byte();
    c_.heartbeatInterval = timing_.hb;
    c_.electionTimeout = timing_.et;
    c_.lease = leaseFor(timing_);
    c_.minDelay = 1;
    c_.maxDelay = 1 + static_cast<Time>(in_.below(static_cast<std::uint64_t>(timing_.hb)));
    c_.dropRate = 0;  // drops come from the input
    const std::uint8_t shape = in_.byte();
    const int voters = (shape & 1) ? 5 : 3;
    const int candidates = (shape >> 1) % 3;
    const int observers = (shape >> 3) & 1;
    const bool preempt = (shape >> 4) & 1;
    auto add = [&](const std::string& name, bool voter, bool candidate) {
      NodeSpec s{name, voter, candidate, static_cast<int>(in_.below(11)) * 100, preempt};
      c_.add(s);
      SimNode& n = c_.nodes.back();
      n.rate = 0.95 + 0.1 * static_cast<double>(in_.below(101)) / 100.0;  // the +-5% clock budget
      n.offset = static_cast<double>(in_.below(100000));
    };
    bool anyCandidate = false;
    for (int i = 1; i <= voters; ++i) {
      const bool cand = in_.below(4) != 0;
      anyCandidate = anyCandidate || cand;
      add("v" + std::to_string(i), true, cand);
    }
    for (int i = 1; i <= candidates; ++i) {
      add("c" + std::to_string(i), false, true);
      anyCandidate = true;
    }
    for (int i = 1; i <= observers; ++i) add("o" + std::to_string(i), false, false);
    if (!anyCandidate) c_.nodes.front().spec.candidate = true;
  }

  std::string describe() const {
    std::string s = "hb=" + std::to_string(timing_.hb) + " et=" + std::to_string(timing_.et) + " nodes:";
    for (const auto& n : c_.nodes) s += " " + n.spec.name + (n.e ? "" : "(down)");
    return s;
  }

  SimNode& node() { return c_.nodes[in_.below(c_.nodes.size())]; }

  void afterPump(SimNode& n) {
    if (!n.e) return;
    const std::string& self = n.spec.name;
    hist_.term(self, n.e->term());
    hist_.vote(self, n.disk);
    if (n.e->role() == Role::Master) hist_.master(self, n.e->term());
    checkLocal(*n.e, self, n.disk, c_.local(n), c_.lease);
    // Messages this pump put on the wire (dropped ones never reach inflight; none are).
    for (const auto& f : c_.inflight)
      if (f.seq >= seenSeq_ && f.m.from == self) checkSent(f.m, self, n.spec.voter, n.disk);
    seenSeq_ = c_.seq;
  }

  void checkLeases() {
    const SimNode* holder = nullptr;
    for (auto& n : c_.nodes) {
      if (!n.e || !n.e->leaseValid(c_.local(n))) continue;
      EGW_FUZZ_CHECK(!holder, "two valid leases at " + std::to_string(c_.now) + " ms: " + (holder ? holder->spec.name : "") +
                                  " and " + n.spec.name + " (" + describe() + ")");
      holder = &n;
    }
  }

  void advance() {
    c_.advance();
    checkLeases();
  }

  InFlight* pickInflight() { return c_.inflight.empty() ? nullptr : &c_.inflight[in_.below(c_.inflight.size())]; }

  void op() {
    switch (in_.below(14)) {
      case 0:
      case 1:
      case 2:
        for (Time t = 1 + static_cast<Time>(in_.below(static_cast<std::uint64_t>(timing_.et))); t > 0; --t) advance();
        break;
      case 3: {  // deliver one message now, ahead of the others
        if (InFlight* f = pickInflight()) {
          const Message m = f->m;
          c_.inflight.erase(c_.inflight.begin() + (f - c_.inflight.data()));
          SimNode* to = c_.find(m.to);
          if (to && to->e && !c_.paused(*to) && c_.connected(m.from, m.to)) {
            to->e->step(m, c_.local(*to));
            c_.pump(*to);
          }
        }
        break;
      }
      case 4:  // lose one
        if (InFlight* f = pickInflight()) c_.inflight.erase(c_.inflight.begin() + (f - c_.inflight.data()));
        break;
      case 5:  // the network delivers one twice, the copy up to an election timeout later
        if (InFlight* f = pickInflight()) {
          InFlight copy = *f;
          copy.due = c_.now + 1 + static_cast<Time>(in_.below(static_cast<std::uint64_t>(timing_.et)));
          copy.seq = c_.seq++;
          c_.inflight.push_back(std::move(copy));
          seenSeq_ = c_.seq;
        }
        break;
      case 6:
        c_.crash(node());
        break;
      case 7:
        c_.restart(node());
        break;
      case 8: {  // health changes (a paused process notices nothing)
        SimNode& n = node();
        if (n.e && c_.paused(n)) break;
        n.eligible = !n.eligible;
        if (n.e) {
          n.e->setEligible(n.eligible, c_.local(n));
          c_.pump(n);
        }
        c_.publishPeerInfo();
        break;
      }
      case 9: {
        const bool transfer = in_.flag();
        const std::string to = in_.flag() ? node().spec.name : std::string();
        for (auto& m : c_.nodes) {
          if (!m.e || c_.paused(m) || m.e->role() != Role::Master) continue;
          if (transfer) m.e->transferLeadership(to, c_.local(m));
          else m.e->stepDown(c_.local(m));
          c_.pump(m);
        }
        break;
      }
      case 10:
        node().pausedUntil = c_.now + 1 + static_cast<Time>(in_.below(static_cast<std::uint64_t>(2 * timing_.et)));
        break;
      case 11: {
        const auto k = in_.below(3);
        if (k == 0) c_.cut(node().spec.name, node().spec.name);
        else if (k == 1) c_.isolate(node().spec.name);
        else c_.cuts.clear();
        break;
      }
      default:
        forge();
        break;
    }
  }

  // A message no honest peer sent, from someone the node must not listen to.
  void forge() {
    SimNode& target = node();
    Message m;
    m.type = static_cast<MsgType>(static_cast<int>(in_.below(9)) - 1);
    m.term = in_.below(4) == 0 ? in_.u64() : target.disk.term + in_.below(4);
    m.granted = in_.flag();
    m.round = in_.below(4) == 0 ? in_.u64() : in_.below(64);
    m.priority = static_cast<int>(in_.u64());
    m.transfer = in_.flag();
    m.to = target.spec.name;
    switch (in_.below(4)) {
      case 0:
        m.from = "outsider";
        break;
      case 1:
        m.from = "";
        break;
      case 2:
        m.from = target.spec.name;  // self-addressed
        break;
      default:  // a known sender, but addressed to someone else
        m.from = node().spec.name;
        m.to = m.from == target.spec.name ? std::string("elsewhere") : target.spec.name + "x";
        break;
    }
    if (target.e && !c_.paused(target)) {
      target.e->step(m, c_.local(target));
      c_.pump(target);
    }
  }

  void heal() {
    c_.cuts.clear();
    c_.maxDelay = std::max<Time>(1, timing_.hb / 10);
    for (auto& n : c_.nodes) {
      n.pausedUntil = -1;
      if (!n.e) c_.restart(n);
      n.eligible = true;
      n.e->setEligible(true, c_.local(n));
      c_.pump(n);
    }
    c_.publishPeerInfo();
  }

  Input& in_;
  Cluster c_;
  Timing timing_{100, 300};
  History hist_;
  std::uint64_t seenSeq_ = 0;
};

// ---------------------------------------------------------------------------------------------
class AdversaryRun {
 public:
  explicit AdversaryRun(Input& in) : in_(in) {}

  void run() {
    const std::uint8_t shape = in_.byte();
    s_.self = "n1";
    s_.voters = (shape & 1) ? std::vector<std::string>{"n2", "n3", "n4"} : std::vector<std::string>{"n1", "n2", "n3"};
    s_.candidate = (shape >> 1) & 1 || !((shape >> 2) & 1);
    s_.priority = static_cast<int>(in_.below(1001));
    s_.heartbeatInterval = 5 + static_cast<Time>(in_.below(196));
    s_.electionTimeout = s_.heartbeatInterval * static_cast<Time>(3 + in_.below(8));
    s_.lease = leaseFor({s_.heartbeatInterval, s_.electionTimeout});
    s_.preempt = (shape >> 3) & 1;
    voter_ = std::find(s_.voters.begin(), s_.voters.end(), s_.self) != s_.voters.end();
    now_ = static_cast<Time>(in_.below(1u << 20));
    boot(false);
    for (int ops = 0; ops < 1000 && !in_.empty(); ++ops) op();
  }

 private:
  static const std::vector<std::string>& names() {
    static const std::vector<std::string> n{"n1", "n2", "n3", "n4", "c1", "o1", "x", ""};
    return n;
  }
  const std::string& name() { return names()[in_.below(names().size())]; }

  void boot(bool restarted) {
    e_ = std::make_unique<Election>(s_, disk_, restarted, in_.u64(), now_);
    e_->setMembers({PeerInfo{"c1", true, true, 500}, PeerInfo{"o1", false, false, 0}});
    pump();
  }

  void pump() {
    Ready r = e_->takeReady();
    if (r.persist) disk_ = *r.persist;
    for (const auto& m : r.messages) checkSent(m, s_.self, voter_, disk_);
    hist_.term(s_.self, e_->term());
    if (voter_) hist_.vote(s_.self, disk_);
    checkLocal(*e_, s_.self, disk_, now_, s_.lease);
    // The messages it sent are the adversary's to use: a peer may echo them back.
    for (auto& m : r.messages) last_.push_back(std::move(m));
    if (last_.size() > 16) last_.erase(last_.begin(), last_.end() - 16);
  }

  void op() {
    switch (in_.below(12)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        Message m;
        m.type = static_cast<MsgType>(static_cast<int>(in_.below(9)) - 1);
        m.from = name();
        m.to = in_.below(8) == 0 ? name() : s_.self;
        const auto t = in_.below(8);
        m.term = t == 0 ? in_.u64() : t == 1 ? 0 : e_->term() + in_.below(4) - (e_->term() > 0 ? 1 : 0);
        m.granted = in_.flag();
        m.round = in_.below(4) == 0 ? in_.u64() : in_.below(64);
        m.priority = static_cast<int>(in_.u64());
        m.transfer = in_.flag();
        e_->step(m, now_);
        pump();
        break;
      }
      case 4:  // a reply to something it sent (a grant, an ack): the plausible lie
        if (!last_.empty()) {
          Message m = last_[in_.below(last_.size())];
          std::swap(m.from, m.to);
          m.type = m.type == MsgType::PreVote ? MsgType::PreVoteResp
                   : m.type == MsgType::Vote  ? MsgType::VoteResp
                   : m.type == MsgType::Heartbeat ? MsgType::HeartbeatResp
                                                  : m.type;
          m.granted = in_.below(4) != 0;
          if (in_.flag()) m.from = name();
          e_->step(m, now_);
          pump();
        }
        break;
      case 5:
      case 6:
        now_ += static_cast<Time>(in_.below(static_cast<std::uint64_t>(2 * s_.electionTimeout)));
        e_->tick(now_);
        pump();
        break;
      case 7:  // exactly when it asked to be woken
        now_ = std::max(now_, std::min(e_->nextTick(), now_ + 10 * s_.electionTimeout));
        e_->tick(now_);
        pump();
        break;
      case 8:
        e_->setEligible(in_.flag(), now_);
        pump();
        break;
      case 9:
        if (in_.flag()) e_->transferLeadership(in_.flag() ? name() : std::string(), now_);
        else e_->stepDown(now_);
        pump();
        break;
      case 10: {
        std::vector<PeerInfo> info;
        for (std::size_t k = in_.below(5); k > 0; --k)
          info.push_back(PeerInfo{name(), in_.flag(), in_.flag(), static_cast<int>(in_.below(1001))});
        if (in_.flag()) e_->setPeerInfo(std::move(info));
        else e_->setMembers(std::move(info));
        e_->setPriority(static_cast<int>(in_.below(1001)));
        pump();
        break;
      }
      default:  // crash and restart from what it persisted
        now_ += static_cast<Time>(in_.below(static_cast<std::uint64_t>(s_.electionTimeout)));
        boot(true);
        break;
    }
  }

  Input& in_;
  Settings s_;
  bool voter_ = false;
  Time now_ = 0;
  HardState disk_;
  std::unique_ptr<Election> e_;
  std::vector<Message> last_;
  History hist_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Input in(data, size);
  if (in.byte() & 1) {
    AdversaryRun(in).run();
  } else {
    ClusterRun(in).run();
  }
  return 0;
}
