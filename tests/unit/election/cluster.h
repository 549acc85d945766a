#pragma once
// An in-memory cluster of election state machines for the scenario and simulation tests: a real
// (simulated) clock in whole milliseconds, a local clock per node with its own rate, a network
// with delays, drops and cuts, crashes with the persisted HardState kept, and pauses (a frozen
// process: its clock runs on, it handles nothing until it wakes). No wall clock, no unseeded
// randomness. It plays the driver's part exactly as election.h states it: persist, then send.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/core/election.h"

namespace egw::election::testing {

struct NodeSpec {
  std::string name;
  bool voter = true;
  bool candidate = true;
  int priority = 100;
  bool preempt = false;
};

struct SimNode {
  NodeSpec spec;
  Settings settings;
  std::unique_ptr<Election> e;  // null while crashed
  HardState disk;               // what the driver fsynced
  bool ranBefore = false;
  bool eligible = true;  // health as the driver reports it; applied again after a restart
  double rate = 1.0;     // local clock = floor(offset + rate * real)
  double offset = 0;
  Time pausedUntil = -1;  // real time; paused while now < pausedUntil
  std::uint64_t incarnation = 0;
  bool hadLease = false;
};

struct InFlight {
  Time due = 0;
  std::uint64_t seq = 0;
  Message m;
};

class Cluster {
 public:
  // Output of notable events (role changes, lease gained/lost, rejections); empty: silent.
  std::function<void(const std::string&)> trace;
  bool traceMessages = false;  // also trace every message sent
  // Called after every state change of a node (for invariant checks).
  std::function<void(SimNode&)> onChange;

  Time heartbeatInterval = 100;
  Time electionTimeout = 300;
  Time lease = 200;
  std::uint64_t seed = 1;

  // Network. Delay is uniform in [minDelay, maxDelay]; with probability longDelayRate a message
  // takes up to longDelay instead (late, reordered).
  std::mt19937_64 rng{1};
  double dropRate = 0;
  Time minDelay = 1;
  Time maxDelay = 1;
  double longDelayRate = 0;
  Time longDelay = 0;

  Time now = 0;  // real time, ms
  std::vector<SimNode> nodes;
  std::vector<InFlight> inflight;
  std::set<std::pair<std::string, std::string>> cuts;  // unordered pairs stored sorted
  std::uint64_t sent = 0;
  std::uint64_t seq = 0;

  void add(const NodeSpec& spec) {
    SimNode n;
    n.spec = spec;
    nodes.push_back(std::move(n));
  }

  SimNode* find(const std::string& name) {
    for (auto& n : nodes)
      if (n.spec.name == name) return &n;
    return nullptr;
  }

  std::vector<std::string> voters() const {
    std::vector<std::string> v;
    for (const auto& n : nodes)
      if (n.spec.voter) v.push_back(n.spec.name);
    return v;
  }

  Time local(const SimNode& n) const {
    return static_cast<Time>(std::floor(n.offset + n.rate * static_cast<double>(now)));
  }

  static std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }

  void start() {
    rng.seed(mix(seed));
    for (auto& n : nodes) boot(n);
  }

  void boot(SimNode& n) {
    n.settings = Settings{};
    n.settings.self = n.spec.name;
    n.settings.voters = voters();
    n.settings.candidate = n.spec.candidate;
    n.settings.priority = n.spec.priority;
    n.settings.heartbeatInterval = heartbeatInterval;
    n.settings.electionTimeout = electionTimeout;
    n.settings.lease = lease;
    n.settings.preempt = n.spec.preempt;
    ++n.incarnation;
    const std::uint64_t s = mix(seed ^ mix(std::hash<std::string>{}(n.spec.name)) ^ mix(n.incarnation));
    n.e = std::make_unique<Election>(n.settings, n.disk, n.ranBefore, s, local(n));
    n.ranBefore = true;
    n.hadLease = false;
    std::vector<PeerInfo> members;
    for (const auto& m : nodes)
      if (!m.spec.voter) members.push_back(PeerInfo{m.spec.name, m.spec.candidate, m.eligible, m.spec.priority});
    n.e->setMembers(members);
    if (n.eligible) n.e->setEligible(true, local(n));
    pump(n);
    publishPeerInfo();
  }

  // What status reports would carry: every node's candidacy, health and priority.
  void publishPeerInfo() {
    std::vector<PeerInfo> info;
    for (const auto& m : nodes)
      if (m.e) info.push_back(PeerInfo{m.spec.name, m.spec.candidate, m.eligible, m.spec.priority});
    for (auto& m : nodes)
      if (m.e) m.e->setPeerInfo(info);
  }

  void crash(SimNode& n) {
    if (!n.e) return;
    n.e.reset();
    n.pausedUntil = -1;
    note(n, "crashed");
  }

  void restart(SimNode& n) {
    if (n.e) return;
    note(n, "restarted term=" + std::to_string(n.disk.term) +
                " vote=" + (n.disk.votedFor.empty() ? "-" : n.disk.votedFor));
    boot(n);
  }

  bool paused(const SimNode& n) const { return now < n.pausedUntil; }

  bool connected(const std::string& a, const std::string& b) const {
    return !cuts.count(a < b ? std::make_pair(a, b) : std::make_pair(b, a));
  }
  void cut(const std::string& a, const std::string& b) {
    if (a != b) cuts.insert(a < b ? std::make_pair(a, b) : std::make_pair(b, a));
  }
  void isolate(const std::string& a) {
    for (const auto& n : nodes) cut(a, n.spec.name);
  }

  // Drains the node's Ready as the driver does: persist, then send, then report.
  void pump(SimNode& n) {
    if (!n.e) return;
    Ready r = n.e->takeReady();
    if (r.persist) n.disk = *r.persist;
    const Time t = local(n);
    for (auto& m : r.messages) {
      ++sent;
      if (trace && traceMessages) note(n, "-> " + describe(m));
      if (!connected(m.from, m.to)) continue;
      if (dropRate > 0 && unit() < dropRate) continue;
      Time delay =
          minDelay +
          (maxDelay > minDelay ? static_cast<Time>(rng() % static_cast<std::uint64_t>(maxDelay - minDelay + 1)) : 0);
      if (longDelayRate > 0 && longDelay > 0 && unit() < longDelayRate)
        delay = 1 + static_cast<Time>(rng() % static_cast<std::uint64_t>(longDelay));
      inflight.push_back(InFlight{now + delay, seq++, std::move(m)});
    }
    if (trace) {
      if (r.roleChanged) note(n, std::string(roleName(*r.roleChanged)) + " term=" + std::to_string(n.e->term()));
      const bool has = n.e->leaseValid(t);
      if (has != n.hadLease) note(n, has ? "lease acquired" : "lease lost");
      for (const auto& rej : r.rejected)
        note(n, std::string("rejected ") + msgTypeName(rej.type) + " from " + rej.from +
                    " term=" + std::to_string(rej.term) + ": " + rejectName(rej.reason));
    }
    n.hadLease = n.e->leaseValid(t);
    if (onChange) onChange(n);
  }

  static std::string describe(const Message& m) {
    std::string s = m.to + " " + msgTypeName(m.type) + " term=" + std::to_string(m.term);
    if (m.type == MsgType::PreVoteResp || m.type == MsgType::VoteResp || m.type == MsgType::HeartbeatResp)
      s += m.granted ? " granted" : " refused";
    if (m.type == MsgType::Heartbeat || m.type == MsgType::HeartbeatResp) s += " round=" + std::to_string(m.round);
    if (m.transfer) s += " transfer";
    return s;
  }

  void note(const SimNode& n, const std::string& what) {
    if (trace) trace(std::to_string(now) + "ms " + n.spec.name + " " + what);
  }

  double unit() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

  // Delivers what is due (in send order), then ticks every live node whose timer is due.
  void deliverDue(bool all) {
    if (inflight.empty()) return;
    std::vector<InFlight> due;
    std::vector<InFlight> keep;
    for (auto& f : inflight) {
      SimNode* to = find(f.m.to);
      const bool ready = all || f.due <= now;
      if (ready && to && to->e && paused(*to)) {
        keep.push_back(std::move(f));  // a frozen process reads its socket when it wakes
      } else if (ready) {
        due.push_back(std::move(f));
      } else {
        keep.push_back(std::move(f));
      }
    }
    inflight = std::move(keep);
    std::sort(due.begin(), due.end(),
              [](const InFlight& a, const InFlight& b) { return a.due != b.due ? a.due < b.due : a.seq < b.seq; });
    for (auto& f : due) {
      SimNode* to = find(f.m.to);
      if (!to || !to->e || !connected(f.m.from, f.m.to)) continue;
      to->e->step(f.m, local(*to));
      pump(*to);
    }
  }

  void tickDue() {
    for (auto& n : nodes) {
      if (!n.e || paused(n)) continue;
      const Time t = local(n);
      if (t >= n.e->nextTick()) {
        n.e->tick(t);
        pump(n);
      }
    }
  }

  // One millisecond of real time.
  void advance() {
    ++now;
    deliverDue(false);
    tickDue();
  }

  void run(Time ms) {
    for (Time i = 0; i < ms; ++i) advance();
  }

  // Delivers everything in flight now, and what that causes, until the network is quiet.
  void deliverAll() {
    for (int i = 0; i < 100 && !inflight.empty(); ++i) deliverDue(true);
  }

  // Direct injection (bad input tests).
  void inject(const Message& m) {
    SimNode* to = find(m.to);
    if (!to || !to->e) return;
    to->e->step(m, local(*to));
    pump(*to);
  }
};

}  // namespace egw::election::testing
