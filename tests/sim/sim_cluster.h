#pragma once
// Whole agents in one process under simulated time: N real drivers (agent/node/driver.*, the
// same code the process runs) wired to simulated ports: one clock, a per-node executor, an
// in-memory peer transport with seeded delays, loss, duplication, reordering and cuts, durable
// state that survives a crash (or not), an in-memory event journal, a datapath that records the
// role it is given, and a prober whose results the test injects. No thread, no socket, no wall
// clock, no unseeded randomness: a run is a function of its seed.
//
// Failures as an operator would cause them: crash (SIGKILL: the driver is gone, its disk stays),
// restart (with or without its state file), stop (SIGTERM: the driver's shutdown runs to its
// end, then the node is gone), pause (SIGSTOP: nothing is handled until it wakes; what arrived
// meanwhile is handled then, in order), cut / isolate / heal (the network).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/core/ports.h"
#include "agent/node/driver.h"
#include "egw/config.h"

namespace egw::sim {

using Time = election::Time;

struct NodeSpec {
  std::string name;
  bool voter = false;
  bool candidate = false;
  int priority = 100;
  bool probe = false;  // has an allowlist probe target (the test injects the results)
};

struct Network {
  Time minDelay = 1;       // uniform in [minDelay, maxDelay]
  Time maxDelay = 2;
  double loss = 0;         // probability a message is lost
  double duplicate = 0;    // probability a message arrives twice
  double lateRate = 0;     // probability a message takes up to `late` instead (reordered)
  Time late = 0;
};

// What one node sent, by message type, and the bytes on the wire (serialized size).
struct Traffic {
  std::map<std::string, std::uint64_t> messages;
  std::uint64_t bytes = 0;
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const auto& [t, c] : messages) n += c;
    return n;
  }
};

class SimCluster {
 public:
  explicit SimCluster(std::uint64_t seed = 1);
  void reseed(std::uint64_t seed) { rng_.seed(seed); }
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  Time heartbeat = 100;
  Time electionTimeout = 300;
  Network net;
  // One line per local event any node journals ("123ms n1 master_elected n1: elected in term 1"),
  // per operator answer and per completed stop; empty: silent.
  std::function<void(const std::string&)> trace;

  void add(const NodeSpec& spec);  // before start()
  void start();                    // every node starts at time 0 (now)
  void run(Time ms);               // advance simulated time by ms
  Time now() const { return now_; }

  void crash(const std::string& node);
  void restart(const std::string& node, bool keepState = true);
  // SIGTERM: runs the driver's shutdown; the node is gone when it finished (traced).
  void stop(const std::string& node);
  void pause(const std::string& node, Time ms);
  void cut(const std::string& a, const std::string& b);
  void isolate(const std::string& node);
  void heal();

  // Operator requests, answered in the trace.
  void handover(const std::string& from, const std::string& to);
  void setCandidacy(const std::string& node, bool enable, bool force);
  void reload(const std::string& node, const std::function<void(Config&)>& change);
  // An allowlist probe result on `node` (outcome accepted|refused|timeout), as its prober reports.
  void probe(const std::string& node, ProbeOutcome outcome);

  bool up(const std::string& node) const;
  const Driver& driver(const std::string& node) const;
  // The datapath role the node's driver asked for last: "master", "follower of NAME" (by the
  // master's address) or "no master", and when it was asked.
  std::string datapathRole(const std::string& node) const;
  Time datapathSince(const std::string& node) const;
  // The state its driver published last: what its Cluster API serves.
  const egressgw::v1::ClusterState& published(const std::string& node) const;
  const Traffic& traffic(const std::string& node) const;   // what it sent
  const Traffic& received(const std::string& node) const;  // what reached its driver
  std::vector<std::string> names() const;
  // The master most nodes that are up follow, and how many agree ("" when none).
  std::string master() const;
  // "n1 voter master term=2 master=n1 datapath=master members=3" per node.
  std::vector<std::string> status() const;
  std::uint64_t eventsProcessed() const { return processed_; }

 private:
  struct Node;
  class Clock;
  class Executor;
  class Transport;
  class State;
  class Datapath;
  class Prober;
  struct Event {
    Time at = 0;
    std::uint64_t seq = 0;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  Config configFor(const NodeSpec& spec) const;
  void boot(Node& n);
  void down(Node& n, const std::string& why);  // the process is gone (crash or end of stop)
  void schedule(Time at, std::function<void()> fn);
  // Runs fn on node n's "loop" now (or when its pause ends), if incarnation still matches.
  void onNode(Node& n, std::uint64_t incarnation, std::function<void()> fn);
  void rearm(Node& n);
  void deliver(const std::string& fromNode, const std::string& endpoint, egressgw::v1::ElectionMessage msg);
  bool isCut(const std::string& a, const std::string& b) const;
  Node& node(const std::string& name);
  const Node& node(const std::string& name) const;
  void say(const std::string& line);

  std::mt19937_64 rng_;
  Time now_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t processed_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, Node*> byName_;
  std::map<std::string, Node*> byEndpoint_;
  std::map<std::string, Node*> byAddress_;
  std::set<std::pair<std::string, std::string>> cuts_;
  std::set<std::string> isolated_;
  bool started_ = false;
};

}  // namespace egw::sim
