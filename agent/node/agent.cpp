#include "agent/node/agent.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <future>

#include "agent/api/cluster_service.h"
#include "agent/core/codec.h"
#include "agent/datapath/agent_datapath.h"
#include "agent/peer/peer_transport.h"
#include "agent/probe/allowlist_prober.h"
#include "agent/security/grpc_util.h"
#include "agent/security/tls_check.h"
#include "agent/store/event_store.h"
#include "agent/store/state_store.h"
#include "egw/version.h"

namespace egw {

namespace pb = egressgw::v1;

Agent::Agent(Config cfg, AgentOptions opts) : cfg_(std::move(cfg)), opts_(opts), log_(log::get("agent")) {}

Agent::~Agent() {
  if (loop_.running()) shutdown();
  if (lockFd_ >= 0) ::close(lockFd_);
}

std::string Agent::advertised(const Endpoint& e, int boundPort) const {
  // A listener on 0.0.0.0 is reached at the node's cluster address; port 0 at the bound port.
  Endpoint out = e;
  if (out.host == "0.0.0.0" || out.host == "::") out.host = cfg_.node.address.str();
  if (out.port == 0 && boundPort > 0) out.port = static_cast<std::uint16_t>(boundPort);
  return out.str();
}

Status Agent::lockStateDir() {
  // One agent per state_dir: a second one would cut the first one's journal writes.
  const auto lockPath = cfg_.stateDir + "/lock";
  lockFd_ = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lockFd_ < 0) return Status::failure("state_dir: cannot open " + lockPath + ": " + std::strerror(errno));
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    auto n = ::pread(lockFd_, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("?");
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(lockFd_);
    lockFd_ = -1;
    return Status::failure("state_dir " + cfg_.stateDir + " is in use by another agent (pid " + holder + ")");
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lockFd_, 0) == 0) (void)!::pwrite(lockFd_, pid.data(), pid.size(), 0);
  return {};
}

Status Agent::start() {
  store_ = std::make_unique<StateStore>(cfg_.stateDir);
  auto loaded = store_->load();
  if (!loaded) return Status::failure(loaded.error());
  if (auto st = lockStateDir(); !st) return st;

  // The event journal is written through the page cache, not fdatasync'd per record: an fsync
  // on the loop thread delays heartbeats (tens of ms on a busy disk), and every event is
  // replicated to the peers anyway. It survives a crash of the agent; a power loss may cost the
  // newest local events, which the peers still hold. Term and vote are always fsync'd.
  auto ev = EventStore::open(cfg_.stateDir, cfg_.node.name, FlushPolicy::None);
  if (!ev) return Status::failure(ev.error());
  events_ = std::move(*ev);

  if (!opts_.noDatapath) {
    auto dp = makeKernelDatapath(cfg_, [this](DatapathReport r) {
      loop_.post([this, r] { driver_->onDatapathReport(r); });
    });
    if (!dp) return Status::failure("datapath: " + dp.error());
    datapath_ = std::move(*dp);
  }

  std::string certificateOu;
  if (cfg_.tls) {
    // The files as peers will judge them (CA, key, CN = node.name, OU=node), before listening.
    if (auto problems = checkTlsFiles(*cfg_.tls, cfg_.node.name, !cfg_.isVoter() && !cfg_.node.candidate, &certificateOu);
        !problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      return Status::failure(all);
    }
  }
  auto creds = channelCredentials(cfg_.tls);
  if (!creds) return Status::failure(creds.error());
  const int et = static_cast<int>(cfg_.election.electionTimeout.count());
  peers_ = std::make_unique<PeerClients>(*creds, std::max(50, et), std::max(100, et), cfg_.tls.has_value());
  auto onMessage = [this](pb::ElectionMessage&& m, const std::string&) { return onPeerMessage(std::move(m)); };
  if (cfg_.tls) {
    {
      std::lock_guard lock(knownMu_);
      for (const auto& v : cfg_.voters) knownPeers_.insert(v.name);
      standing_ = knownPeers_;
    }
    peerService_ = std::make_unique<PeerService>(
        onMessage, cfg_.node.name, [this](const pb::ElectionMessage& m, const auth::Identity& who) { return admitPeer(m, who); });
  } else {
    peerService_ = std::make_unique<PeerService>(onMessage, cfg_.node.name);
  }
  auto screds = serverCredentials(cfg_.tls);
  if (!screds) return Status::failure(screds.error());
  auto peerServer = startGrpcServer(cfg_.listen.peer.str(), {peerService_.get()}, *screds, kPeerMaxMessageBytes, "listen.peer");
  if (!peerServer) return Status::failure(peerServer.error());
  peerServer_ = std::move(peerServer->server);
  peerPort_ = peerServer->port;
  clusterService_ = std::make_unique<ClusterService>(*this, *events_);
  clusterService_->requireClientCertificates(cfg_.tls.has_value());
  auto apiServer = startGrpcServer(cfg_.listen.api.str(), {clusterService_.get()}, *screds, kApiMaxRequestBytes, "listen.api");
  if (!apiServer) return Status::failure(apiServer.error());
  apiServer_ = std::move(apiServer->server);
  apiPort_ = apiServer->port;
  if (cfg_.listen.metrics) {
    metrics_ = std::make_unique<MetricsServer>([this] { return metricsSnapshot(); });
    auto port = metrics_->start(cfg_.listen.metrics->host, cfg_.listen.metrics->port);
    if (!port) return Status::failure("listen.metrics: " + port.error());
  }

  DriverPorts ports;
  ports.clock = &clock_;
  ports.executor = &loop_;
  ports.peers = peers_.get();
  ports.state = store_.get();
  ports.events = events_.get();
  ports.datapath = datapath_.get();
  ports.prober = [this](const IpAddress& source, ports::Prober::Done periodic) -> std::shared_ptr<ports::Prober> {
    auto o = AllowlistProber::fromConfig(cfg_.probe, source, opts_.noDatapath ? std::string() : cfg_.node.egress.interface);
    if (!o) return nullptr;
    return std::make_shared<AllowlistProber>(*o, std::move(periodic));
  };
  driver_ = std::make_unique<Driver>(cfg_, std::move(ports), static_cast<DriverSink&>(*this), advertised(cfg_.listen.peer, peerPort_),
                                     advertised(cfg_.listen.api, apiPort_));

  if (!cfg_.tls && cfg_.insecure)
    log_->warn("{}: insecure: true and no tls: anyone who reaches {} or {} can vote, stand for master, "
               "hand over and read the cluster state; configure tls (docs/security.md)",
               cfg_.node.name, cfg_.listen.peer.str(), cfg_.listen.api.str());
  else if (!cfg_.tls)
    log_->warn("{}: no tls configured: peer and API traffic is unauthenticated (loopback only)", cfg_.node.name);
  else
    log_->info("{}: mutual TLS on the peer and API listeners (ca {}, cert {})", cfg_.node.name, cfg_.tls->ca, cfg_.tls->cert);
  log_->info("{}: started: {} {}, peer {} api {}, {} voters, heartbeat {} election timeout {} lease {}{}",
             cfg_.node.name, cfg_.isVoter() ? "voter" : "non-voter", cfg_.node.candidate ? "candidate" : "observer",
             advertised(cfg_.listen.peer, peerPort_), advertised(cfg_.listen.api, apiPort_), cfg_.voters.size(),
             formatDuration(cfg_.election.heartbeatInterval), formatDuration(cfg_.election.electionTimeout),
             formatDuration(cfg_.election.lease()), opts_.noDatapath ? ", datapath off" : "");
  // The workers' shared certificate is valid for "observer", not for our name: say so in our
  // status, so that voters pushing to us check for it (docs/security.md).
  if (certificateOu == "observer") driver_->setTlsName(auth::kObserverServerName);
  // The loop thread does not run yet: start() is the driver's first input, on this thread.
  driver_->start(*loaded);
  loop_.start([this] { return driver_->nextDeadline(); }, [this](ports::Time t) { driver_->onTick(t); });
  return {};
}

std::string Agent::onPeerMessage(pb::ElectionMessage&& m) {
  // A refusal goes back in the Ack; PeerService logs it.
  if (auto refusal = codec::checkEnvelope(m, cfg_.node.name, kProtocolVersion); !refusal.empty()) return refusal;
  loop_.post([this, m = std::move(m)] { driver_->onPeerMessage(m); });
  return {};
}

grpc::Status Agent::admitPeer(const pb::ElectionMessage& m, const auth::Identity& who) const {
  if (who.role == auth::Role::Observer) {
    // One certificate for every worker (docs/security.md): the name is the sender's word, so it
    // must not be a voter's or a candidate's. PeerService let through only an observer's report
    // about itself.
    {
      std::lock_guard lock(knownMu_);
      if (standing_.count(m.from()))
        return {grpc::StatusCode::PERMISSION_DENIED,
                m.from() + " is a voter or a candidate of " + cfg_.node.name +
                    "'s cluster: an observer certificate (CN=" + who.commonName + ") cannot speak for it"};
    }
    return grpc::Status::OK;
  }
  // A status report is how a node joins: its node certificate from the cluster CA (checked by
  // PeerService) is the admission. Everything else needs a voter or a member that has joined.
  if (m.type() == pb::STATUS_REPORT) return grpc::Status::OK;
  {
    std::lock_guard lock(knownMu_);
    if (knownPeers_.count(m.from())) return grpc::Status::OK;
  }
  return {grpc::StatusCode::PERMISSION_DENIED,
          m.from() + " is neither a configured voter nor a member that has joined " + cfg_.node.name +
              "'s cluster (a node joins with a status report)"};
}

void Agent::publish(PublishedState& p) {
  {
    std::lock_guard lock(knownMu_);
    knownPeers_ = std::move(p.admitted);
    standing_ = std::move(p.standing);
  }
  {
    std::lock_guard lock(metricsMu_);
    metricsFailovers_ = p.failovers;
    metricsMessages_ = std::move(p.messages);
    metricsReadiness_ = std::move(p.readiness);
  }
  // wall_time_ms changes every time; compare without it. The key of the state we hold is kept,
  // so a publish (ten a second, up to 1,000 nodes) serializes only the new state and copies none.
  std::string key = comparisonKey(p.state);
  const bool changed = key != snapshotKey_;
  snapshotKey_ = std::move(key);
  {
    std::lock_guard lock(snapMu_);
    snapshot_.Swap(&p.state);  // the driver reuses the old one's nodes
  }
  if (changed && clusterService_) clusterService_->notifyStateChanged();
}

std::string Agent::comparisonKey(pb::ClusterState& state) {
  std::vector<std::int64_t> wall;
  wall.reserve(static_cast<std::size_t>(state.nodes_size()));
  for (auto& n : *state.mutable_nodes()) {
    wall.push_back(n.wall_time_ms());
    n.set_wall_time_ms(0);
  }
  std::string key = state.SerializeAsString();
  for (int i = 0; i < state.nodes_size(); ++i) state.mutable_nodes(i)->set_wall_time_ms(wall[static_cast<std::size_t>(i)]);
  return key;
}

void Agent::failoverGap(std::int64_t ms) {
  std::lock_guard lock(metricsMu_);
  metricsGaps_.observe(static_cast<double>(ms) / 1000.0);
}

MetricsFigures Agent::metricsSnapshot() const {
  auto f = MetricsFigures::fromState(snapshot(), cfg_.node.name);
  std::lock_guard lock(metricsMu_);
  f.failoversTotal = metricsFailovers_;
  f.failoverGap = metricsGaps_;
  f.electionMessages = metricsMessages_;
  f.version = kVersion;
  f.readiness = metricsReadiness_;
  f.readiness.loopAgeMs = clock_.now() - loop_.lastRanAt();
  return f;
}

pb::ClusterState Agent::snapshot() const {
  std::lock_guard lock(snapMu_);
  return snapshot_;
}

void Agent::setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason,
                         std::function<void(bool, std::string)> done) {
  auto task = [this, node, enable, force, reason, done]() mutable {
    driver_->setCandidacy(node, enable, force, reason, std::move(done));
  };
  if (!loop_.post(std::move(task))) done(false, cfg_.node.name + "'s agent is stopping");
}

void Agent::handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) {
  if (!loop_.post([this, to, done]() mutable { driver_->handover(to, std::move(done)); }))
    done(false, cfg_.node.name + "'s agent is stopping", "");
}

void Agent::probeAllowlist(const std::string& node, std::function<void(pb::ProbeAllowlistResponse)> done) {
  if (!loop_.post([this, node, done]() mutable { driver_->probeAllowlist(node, std::move(done)); })) {
    pb::ProbeAllowlistResponse r;
    r.set_verdict(pb::ALLOWLIST_UNKNOWN);
    r.set_detail(cfg_.node.name + "'s agent is stopping");
    done(r);
  }
}

std::string Agent::reload(const Config& next) {
  std::promise<std::string> result;
  auto fut = result.get_future();
  if (!loop_.post([this, &next, &result] { result.set_value(driver_->reload(next)); }))
    return "not applied: the agent is stopping";
  return fut.get();
}

void Agent::shutdown() {
  if (!loop_.running()) return;
  std::promise<void> finished;
  auto fut = finished.get_future();
  if (loop_.post([this, &finished] { driver_->shutdown([&finished] { finished.set_value(); }); })) fut.wait();
  loop_.stop();
  driver_->stopProber();
  if (clusterService_) clusterService_->shutdown();
  if (apiServer_) apiServer_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  if (peerServer_) peerServer_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  if (metrics_) metrics_->stop();
  if (peers_) peers_->drain(500);
  if (datapath_) datapath_->stop(true);
  log_->info("{}: stopped", cfg_.node.name);
}

}  // namespace egw
