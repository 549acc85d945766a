#include "sim/sim_cluster.h"

#include <algorithm>
#include <stdexcept>

#include "agent/core/codec.h"
#include "agent/store/event_store.h"
#include "egw/version.h"

namespace egw::sim {

namespace pb = egressgw::v1;

namespace {
constexpr std::int64_t kWallEpochMs = 1'780'000'000'000;  // 2026-05-28: wall time = this + simulated time
}

class SimCluster::Clock final : public ports::Clock {
 public:
  explicit Clock(const SimCluster& c) : c_(c) {}
  Time now() const override { return c_.now_; }
  std::int64_t wallMs() const override { return kWallEpochMs + c_.now_; }

 private:
  const SimCluster& c_;
};

class SimCluster::Executor final : public ports::Executor {
 public:
  Executor(SimCluster& c, Node& n, std::uint64_t incarnation) : c_(c), n_(n), incarnation_(incarnation) {}
  bool post(std::function<void()> task) override;

 private:
  SimCluster& c_;
  Node& n_;
  std::uint64_t incarnation_;
};

class SimCluster::Transport final : public ports::PeerTransport {
 public:
  Transport(SimCluster& c, Node& n) : c_(c), n_(n) {}
  void send(const std::string& endpoint, pb::ElectionMessage msg, const std::string& serverName) override;

 private:
  SimCluster& c_;
  Node& n_;
};

class SimCluster::State final : public ports::DurableState {
 public:
  Result<LoadedState> load() override { return next; }
  Status save(const PersistentState& s) override {
    next.state = s;
    next.existed = true;
    next.corrupt = false;
    next.problem.clear();
    return {};
  }
  LoadedState next;  // what the next start loads
};

class SimCluster::Datapath final : public AgentDatapath {
 public:
  Datapath(SimCluster& c, Node& n) : c_(c), n_(n) {}
  void setRole(Role role, std::optional<IpAddress> masterAddress, std::int64_t) override;
  void refreshLease(std::int64_t) override {}
  HealthInputs health() const override { return {}; }
  TrafficCounters counters() const override { return {}; }
  std::optional<IpAddress> egressIp() const override { return std::nullopt; }
  bool inSync() const override { return true; }
  void stop(bool) override {}

 private:
  SimCluster& c_;
  Node& n_;
};

class SimCluster::Prober final : public ports::Prober {
 public:
  explicit Prober(Done periodic) : periodic_(std::move(periodic)) {}
  void start() override {}
  void stop() override {}
  void probeAsync(Done done) override { done(last_); }  // the latest injected result, again
  void report(ProbeOutcome o) {
    last_.outcome = o;
    last_.seq = ++seq_;
    last_.consecutiveTimeouts = o == ProbeOutcome::Timeout ? last_.consecutiveTimeouts + 1 : 0;
    last_.verdict = o == ProbeOutcome::Accepted  ? AllowlistVerdict::Ok
                    : o == ProbeOutcome::Refused ? AllowlistVerdict::Rejected
                                                 : AllowlistVerdict::Unverified;
    last_.detail = std::string(outcomeName(o)) + " (simulated)";
    periodic_(last_);
  }

 private:
  Done periodic_;
  ProbeResult last_;
  std::uint64_t seq_ = 0;
};

struct SimCluster::Node final : DriverSink {
  NodeSpec spec;
  Config cfg;
  std::string address, endpoint, apiEndpoint;
  bool up = false;
  std::uint64_t incarnation = 0;
  std::uint64_t tickGen = 0;
  Time pausedUntil = -1;
  State state;                         // survives crashes (the disk)
  std::unique_ptr<EventStore> events;  // survives crashes (the journal)
  std::unique_ptr<Clock> clock;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<Transport> transport;
  std::unique_ptr<Datapath> datapath;
  std::shared_ptr<Prober> prober;
  std::unique_ptr<Driver> driver;
  Traffic traffic;   // sent
  Traffic received;  // delivered to its driver
  std::string dpRole = "no master";
  Time dpSince = 0;
  pb::ClusterState published;

  void publish(PublishedState& p) override { published.Swap(&p.state); }
  void failoverGap(std::int64_t) override {}
};

bool SimCluster::Executor::post(std::function<void()> task) {
  if (!n_.up || n_.incarnation != incarnation_) return false;
  auto inc = incarnation_;
  c_.schedule(c_.now_, [this, inc, task = std::move(task)]() mutable { c_.onNode(n_, inc, std::move(task)); });
  return true;
}

void SimCluster::Transport::send(const std::string& endpoint, pb::ElectionMessage msg, const std::string&) {
  ++n_.traffic.messages[pb::MessageType_Name(msg.type())];
  n_.traffic.bytes += msg.ByteSizeLong();
  c_.deliver(n_.spec.name, endpoint, std::move(msg));
}

void SimCluster::Datapath::setRole(Role role, std::optional<IpAddress> masterAddress, std::int64_t) {
  std::string r = "no master";
  if (role == Role::Master) {
    r = "master";
  } else if (role == Role::Follower) {
    r = "follower of ?";
    if (masterAddress)
      if (auto it = c_.byAddress_.find(masterAddress->str()); it != c_.byAddress_.end())
        r = "follower of " + it->second->spec.name;
  }
  if (r != n_.dpRole) {
    n_.dpRole = r;
    n_.dpSince = c_.now_;
  }
}

SimCluster::SimCluster(std::uint64_t seed) : rng_(seed) {}
SimCluster::~SimCluster() {
  for (auto& n : nodes_) n->driver.reset();
}

SimCluster::Node& SimCluster::node(const std::string& name) {
  auto it = byName_.find(name);
  if (it == byName_.end()) throw std::runtime_error("unknown node " + name);
  return *it->second;
}
const SimCluster::Node& SimCluster::node(const std::string& name) const {
  auto it = byName_.find(name);
  if (it == byName_.end()) throw std::runtime_error("unknown node " + name);
  return *it->second;
}

void SimCluster::say(const std::string& line) {
  if (trace) trace(std::to_string(now_) + "ms " + line);
}

void SimCluster::add(const NodeSpec& spec) {
  if (started_) throw std::runtime_error("add() after start()");
  if (byName_.count(spec.name)) throw std::runtime_error("node " + spec.name + " added twice");
  auto n = std::make_unique<Node>();
  n->spec = spec;
  const auto i = nodes_.size() + 1;
  n->address = "10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
  n->endpoint = n->address + ":7400";
  n->apiEndpoint = n->address + ":7401";
  byName_[spec.name] = n.get();
  byEndpoint_[n->endpoint] = n.get();
  byAddress_[n->address] = n.get();
  nodes_.push_back(std::move(n));
}

Config SimCluster::configFor(const NodeSpec& spec) const {
  Config c;
  const auto& n = node(spec.name);
  c.node.name = spec.name;
  c.node.address = *IpAddress::parse(n.address);
  c.node.candidate = spec.candidate;
  c.node.priority = spec.priority;
  if (spec.candidate) {
    c.node.egress.interface = "eth1";
    c.node.egress.ip = IpAddress::parse("172.16." + n.address.substr(n.address.find('.', 3) + 1));
  }
  c.listen.peer = *Endpoint::parse(n.endpoint);
  c.listen.api = *Endpoint::parse(n.apiEndpoint);
  for (const auto& m : nodes_)
    if (m->spec.voter) c.voters.push_back({m->spec.name, *Endpoint::parse(m->endpoint)});
  c.election.heartbeatInterval = std::chrono::milliseconds(heartbeat);
  c.election.electionTimeout = std::chrono::milliseconds(electionTimeout);
  if (spec.probe) c.probe.target = Endpoint::parse("198.51.100.10:443");
  c.stateDir = "/nonexistent/sim/" + spec.name;
  return c;
}

void SimCluster::start() {
  if (started_) return;
  started_ = true;
  for (auto& n : nodes_) {
    n->cfg = configFor(n->spec);
    boot(*n);
  }
}

void SimCluster::boot(Node& n) {
  ++n.incarnation;
  n.up = true;
  n.pausedUntil = -1;
  n.clock = std::make_unique<Clock>(*this);
  if (!n.events) {
    n.events = EventStore::inMemory(n.spec.name, [this] { return kWallEpochMs + now_; });
    n.events->subscribe([this, &n](const EventStore::Entry& e) {
      if (e.event.origin() != n.spec.name) return;
      // The version is not part of any scenario: "agent VERSION started".
      std::string msg = e.event.message();
      if (auto at = msg.find(kVersion); at != std::string::npos) msg.replace(at, std::string(kVersion).size(), "VERSION");
      say(n.spec.name + " " + e.event.kind() + " " + e.event.node() + ": " + msg);
    });
  }
  n.executor = std::make_unique<Executor>(*this, n, n.incarnation);
  n.transport = std::make_unique<Transport>(*this, n);
  n.datapath = std::make_unique<Datapath>(*this, n);
  n.prober.reset();
  DriverPorts p;
  p.clock = n.clock.get();
  p.executor = n.executor.get();
  p.peers = n.transport.get();
  p.state = &n.state;
  p.events = n.events.get();
  p.datapath = n.datapath.get();
  p.prober = [&n](const IpAddress&, ports::Prober::Done periodic) -> std::shared_ptr<ports::Prober> {
    n.prober = std::make_shared<Prober>(std::move(periodic));
    return n.prober;
  };
  n.driver = std::make_unique<Driver>(n.cfg, std::move(p), n, n.endpoint, n.apiEndpoint);
  n.driver->start(n.state.next);
  rearm(n);
}

void SimCluster::schedule(Time at, std::function<void()> fn) { queue_.push(Event{at, ++seq_, std::move(fn)}); }

void SimCluster::onNode(Node& n, std::uint64_t incarnation, std::function<void()> fn) {
  if (!n.up || n.incarnation != incarnation) return;
  if (now_ < n.pausedUntil) {
    schedule(n.pausedUntil, [this, &n, incarnation, fn = std::move(fn)]() mutable { onNode(n, incarnation, std::move(fn)); });
    return;
  }
  fn();
  ++processed_;
  if (n.up && n.incarnation == incarnation) rearm(n);
}

void SimCluster::rearm(Node& n) {
  const auto gen = ++n.tickGen;
  const auto inc = n.incarnation;
  const Time at = std::max(n.driver->nextDeadline(), now_ + 1);
  schedule(at, [this, &n, gen, inc] {
    if (gen != n.tickGen) return;  // a later input re-armed the timer
    onNode(n, inc, [this, &n] {
      if (now_ >= n.driver->nextDeadline()) n.driver->onTick(now_);
    });
  });
}

bool SimCluster::isCut(const std::string& a, const std::string& b) const {
  if (isolated_.count(a) || isolated_.count(b)) return true;
  return cuts_.count({std::min(a, b), std::max(a, b)}) > 0;
}

void SimCluster::deliver(const std::string& from, const std::string& endpoint, pb::ElectionMessage msg) {
  auto it = byEndpoint_.find(endpoint);
  if (it == byEndpoint_.end()) return;
  Node& to = *it->second;
  if (isCut(from, to.spec.name)) return;
  std::uniform_real_distribution<double> p(0, 1);
  if (net.loss > 0 && p(rng_) < net.loss) return;
  const int copies = net.duplicate > 0 && p(rng_) < net.duplicate ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Time delay = std::uniform_int_distribution<Time>(net.minDelay, std::max(net.minDelay, net.maxDelay))(rng_);
    if (net.lateRate > 0 && p(rng_) < net.lateRate) delay = std::uniform_int_distribution<Time>(delay, std::max(delay, net.late))(rng_);
    schedule(now_ + delay, [this, &to, msg] {
      // What arrives is handled by whichever incarnation listens then (a restarted agent too).
      if (!to.up) return;
      if (!codec::checkEnvelope(msg, to.spec.name, kProtocolVersion).empty()) return;
      ++to.received.messages[pb::MessageType_Name(msg.type())];
      to.received.bytes += msg.ByteSizeLong();
      onNode(to, to.incarnation, [&to, msg] { to.driver->onPeerMessage(msg); });
    });
  }
}

void SimCluster::run(Time ms) {
  const Time end = now_ + ms;
  while (!queue_.empty() && queue_.top().at <= end) {
    Event e = queue_.top();
    queue_.pop();
    now_ = e.at;
    e.fn();
  }
  now_ = end;
}

void SimCluster::down(Node& n, const std::string& why) {
  n.up = false;
  ++n.incarnation;
  n.driver.reset();
  n.dpRole = "down";
  n.dpSince = now_;
  say(n.spec.name + " " + why);
}

void SimCluster::crash(const std::string& name) {
  auto& n = node(name);
  if (n.up) down(n, "crashed");
}

void SimCluster::restart(const std::string& name, bool keepState) {
  auto& n = node(name);
  if (n.up) crash(name);
  if (!keepState) {
    n.state.next = LoadedState{};
    n.state.next.existed = true;
    n.state.next.corrupt = true;
    n.state.next.problem = n.cfg.stateDir + "/election.state: checksum mismatch (simulated)";
  }
  say(name + " restarts" + (keepState ? "" : " with a corrupt state file"));
  boot(n);
}

void SimCluster::stop(const std::string& name) {
  auto& n = node(name);
  if (!n.up) return;
  const auto inc = n.incarnation;
  say(name + " SIGTERM");
  onNode(n, inc, [this, &n, inc] {
    n.driver->shutdown([this, &n, inc] {
      // The driver's last step ran; the process exits (not from inside the driver's call).
      schedule(now_, [this, &n, inc] {
        if (n.up && n.incarnation == inc) down(n, "stopped");
      });
    });
  });
}

void SimCluster::pause(const std::string& name, Time ms) {
  node(name).pausedUntil = now_ + ms;
  say(name + " paused for " + std::to_string(ms) + "ms");
}

void SimCluster::cut(const std::string& a, const std::string& b) { cuts_.insert({std::min(a, b), std::max(a, b)}); }
void SimCluster::isolate(const std::string& name) { isolated_.insert(name); }
void SimCluster::heal() {
  cuts_.clear();
  isolated_.clear();
}

void SimCluster::handover(const std::string& from, const std::string& to) {
  auto& n = node(from);
  if (!n.up) return;
  onNode(n, n.incarnation, [this, &n, to, from] {
    n.driver->handover(to, [this, from](bool ok, std::string msg, std::string) {
      say(from + " handover " + (ok ? "done: " : "failed: ") + msg);
    });
  });
}

void SimCluster::setCandidacy(const std::string& name, bool enable, bool force) {
  auto& n = node(name);
  if (!n.up) return;
  onNode(n, n.incarnation, [this, &n, name, enable, force] {
    n.driver->setCandidacy(name, enable, force, "sim", [this, name](bool ok, std::string msg) {
      say(name + " candidacy " + (ok ? "done: " : "refused: ") + msg);
    });
  });
}

void SimCluster::reload(const std::string& name, const std::function<void(Config&)>& change) {
  auto& n = node(name);
  if (!n.up) return;
  auto next = n.cfg;
  change(next);
  onNode(n, n.incarnation, [this, &n, name, next] { say(name + " reload: " + n.driver->reload(next)); });
  n.cfg = next;  // a restart reads the new file
}

void SimCluster::probe(const std::string& name, ProbeOutcome outcome) {
  auto& n = node(name);
  if (!n.up || !n.prober) throw std::runtime_error(name + " has no allowlist prober (node ... probe)");
  n.prober->report(outcome);
}

bool SimCluster::up(const std::string& name) const { return node(name).up; }
const Driver& SimCluster::driver(const std::string& name) const {
  const auto& n = node(name);
  if (!n.driver) throw std::runtime_error(name + " is down");
  return *n.driver;
}
std::string SimCluster::datapathRole(const std::string& name) const { return node(name).dpRole; }
const pb::ClusterState& SimCluster::published(const std::string& name) const { return node(name).published; }
Time SimCluster::datapathSince(const std::string& name) const { return node(name).dpSince; }
const Traffic& SimCluster::traffic(const std::string& name) const { return node(name).traffic; }
const Traffic& SimCluster::received(const std::string& name) const { return node(name).received; }

std::vector<std::string> SimCluster::names() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n->spec.name);
  return out;
}

std::string SimCluster::master() const {
  std::map<std::string, int> votes;
  for (const auto& n : nodes_)
    if (n->up && !n->driver->master().empty()) ++votes[n->driver->master()];
  std::string best;
  int most = 0;
  for (const auto& [m, c] : votes)
    if (c > most) {
      best = m;
      most = c;
    }
  return best;
}

std::vector<std::string> SimCluster::status() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) {
    std::string kind = n->spec.voter ? "voter" : (n->spec.candidate ? "candidate" : "observer");
    if (!n->up) {
      out.push_back(n->spec.name + " " + kind + " down");
      continue;
    }
    const auto& d = *n->driver;
    out.push_back(n->spec.name + " " + kind + " " + std::string(roleName(d.role())) + " term=" + std::to_string(d.term()) +
                  " master=" + (d.master().empty() ? "-" : d.master()) + " datapath=" + n->dpRole +
                  " members=" + std::to_string(d.view().members().size()));
  }
  return out;
}

}  // namespace egw::sim
