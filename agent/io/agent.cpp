#include "io/agent.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <chrono>

#include "egw/log.h"
#include "egw/utf8.h"
#include "egw/version.h"
#include "io/agent_datapath.h"
#include "io/cluster_service.h"
#include "io/event_store.h"
#include "io/grpc_util.h"
#include "io/tls_check.h"
#include "io/metrics_server.h"
#include "io/peer_transport.h"

namespace egw {

namespace pb = egressgw::v1;
using election::Role;
using election::Time;

namespace {

// Probe timeouts in a row, while other candidates reach the target, that count as a silent refusal.
constexpr int kSilentDropProbes = 2;

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

pb::MessageType toProto(election::MsgType t) {
  switch (t) {
    case election::MsgType::PreVote: return pb::PRE_VOTE;
    case election::MsgType::PreVoteResp: return pb::PRE_VOTE_RESPONSE;
    case election::MsgType::Vote: return pb::VOTE;
    case election::MsgType::VoteResp: return pb::VOTE_RESPONSE;
    case election::MsgType::Heartbeat: return pb::HEARTBEAT;
    case election::MsgType::HeartbeatResp: return pb::HEARTBEAT_RESPONSE;
    case election::MsgType::TimeoutNow: return pb::TIMEOUT_NOW;
  }
  return pb::MESSAGE_TYPE_UNSPECIFIED;
}

std::optional<election::MsgType> fromProto(pb::MessageType t) {
  switch (t) {
    case pb::PRE_VOTE: return election::MsgType::PreVote;
    case pb::PRE_VOTE_RESPONSE: return election::MsgType::PreVoteResp;
    case pb::VOTE: return election::MsgType::Vote;
    case pb::VOTE_RESPONSE: return election::MsgType::VoteResp;
    case pb::HEARTBEAT: return election::MsgType::Heartbeat;
    case pb::HEARTBEAT_RESPONSE: return election::MsgType::HeartbeatResp;
    case pb::TIMEOUT_NOW: return election::MsgType::TimeoutNow;
    default: return std::nullopt;
  }
}

pb::Role roleToProto(Role r, bool observer) {
  switch (r) {
    case Role::Follower: return observer ? pb::OBSERVER : pb::FOLLOWER;
    case Role::PreCandidate: return pb::PRE_CANDIDATE;
    case Role::Candidate: return pb::CANDIDATE;
    case Role::Master: return pb::MASTER;
  }
  return pb::ROLE_UNSPECIFIED;
}

pb::Candidacy candidacyToProto(CandidacyState c) {
  switch (c) {
    case CandidacyState::None: return pb::CANDIDACY_NONE;
    case CandidacyState::Pending: return pb::CANDIDACY_PENDING;
    case CandidacyState::Enabled: return pb::CANDIDACY_ENABLED;
    case CandidacyState::Disabled: return pb::CANDIDACY_DISABLED;
  }
  return pb::CANDIDACY_UNSPECIFIED;
}

}  // namespace

Agent::Agent(Config cfg, AgentOptions opts)
    : cfg_(std::move(cfg)), opts_(opts), log_(log::get("agent")), store_(cfg_.stateDir), priority_(cfg_.node.priority) {}

Time Agent::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - epoch_).count();
}

std::string Agent::advertised(const Endpoint& e) const {
  // A listener on 0.0.0.0 is reached at the node's cluster address.
  if (e.host == "0.0.0.0" || e.host == "::") return Endpoint{cfg_.node.address.str(), e.port}.str();
  return e.str();
}

void Agent::rebuildElection(election::HardState hs, bool restarted) {
  election::Settings s;
  s.self = cfg_.node.name;
  for (const auto& v : cfg_.voters) s.voters.push_back(v.name);
  s.candidate = cfg_.node.candidate;
  s.priority = priority_;
  s.heartbeatInterval = cfg_.election.heartbeatInterval.count();
  s.electionTimeout = cfg_.election.electionTimeout.count();
  s.lease = cfg_.election.lease().count();
  s.preempt = cfg_.election.preempt;
  std::uint64_t seed = std::hash<std::string>{}(cfg_.node.name) ^ static_cast<std::uint64_t>(wallMs());
  election_ = std::make_unique<election::Election>(s, hs, restarted, seed, now());
  election_->setEligible(eligible(), now());
}

Status Agent::start() {
  auto loaded = store_.load();
  if (!loaded) return Status::failure(loaded.error());
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
  {
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lockFd_, 0) == 0) (void)!::pwrite(lockFd_, pid.data(), pid.size(), 0);
  }
  bool restarted = loaded->existed;
  if (loaded->corrupt) {
    // We cannot know whom we voted for in which term. Never vote in the first term we see
    // (handled in handlePeerMessage) and grant nothing for one election timeout.
    log_->error("{}: {}; this node will not vote in the current term and rejoins as a follower", cfg_.node.name,
                loaded->problem);
    amnesia_ = true;
  } else {
    persisted_ = loaded->state;
  }
  if (persisted_.candidacy == CandidacyState::None && cfg_.node.candidate) persisted_.candidacy = initialCandidacy();
  if (!cfg_.node.candidate) persisted_.candidacy = CandidacyState::None;

  // The event journal is written through the page cache, not fdatasync'd per record: an fsync
  // on the loop thread delays heartbeats (tens of ms on a busy disk), and every event is
  // replicated to the peers anyway. It survives a crash of the agent; a power loss may cost the
  // newest local events, which the peers still hold. Term and vote are always fsync'd.
  auto ev = EventStore::open(cfg_.stateDir, cfg_.node.name, FlushPolicy::None);
  if (!ev) return Status::failure(ev.error());
  events_ = std::move(*ev);

  if (!opts_.noDatapath) {
    auto dp = makeKernelDatapath(cfg_, [this](DatapathReport r) {
      post([this, r] {
        switch (r.kind) {
          case DatapathReport::Kind::Applied:
            log::get("datapath")->debug("{}: applied in {} us", cfg_.node.name, r.durationUs);
            if (!r.detail.empty()) record("datapath_switched", cfg_.node.name, r.detail);
            break;
          case DatapathReport::Kind::ApplyFailed:
            record("datapath_failed", cfg_.node.name, r.detail);
            break;
          case DatapathReport::Kind::Repaired:
            record("datapath_repaired", cfg_.node.name, r.detail);
            break;
          case DatapathReport::Kind::HealthChanged: break;
        }
        updateEligibility(now());
      });
    });
    if (!dp) return Status::failure("datapath: " + dp.error());
    datapath_ = std::move(*dp);
  }

  rebuildElection(persisted_.hard, restarted);

  if (cfg_.tls) {
    // The files as peers will judge them (CA, key, CN = node.name, OU=node), before listening.
    if (auto problems = checkTlsFiles(*cfg_.tls, cfg_.node.name); !problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      return Status::failure(all);
    }
  }
  auto creds = channelCredentials(cfg_.tls);
  if (!creds) return Status::failure(creds.error());
  const int et = static_cast<int>(cfg_.election.electionTimeout.count());
  peers_ = std::make_unique<PeerClients>(*creds, std::max(50, et), std::max(100, et), cfg_.tls.has_value());
  auto onMessage = [this](pb::ElectionMessage&& m, const std::string& peer) { return onPeerMessage(std::move(m), peer); };
  if (cfg_.tls) {
    {
      std::lock_guard lock(knownMu_);
      for (const auto& v : cfg_.voters) knownPeers_.insert(v.name);
    }
    peerService_ = std::make_unique<PeerService>(onMessage, cfg_.node.name,
                                                 [this](const pb::ElectionMessage& m) { return admitPeer(m); });
  } else
    peerService_ = std::make_unique<PeerService>(onMessage);

  auto screds = serverCredentials(cfg_.tls);
  if (!screds) return Status::failure(screds.error());
  {
    grpc::ServerBuilder b;
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);  // a second agent must not share our port
    b.AddListeningPort(cfg_.listen.peer.str(), *screds, &peerPort_);
    b.RegisterService(peerService_.get());
    b.SetMaxReceiveMessageSize(kPeerMaxMessageBytes);
    peerServer_ = b.BuildAndStart();
    if (!peerServer_ || peerPort_ == 0)
      return Status::failure("listen.peer: cannot listen on " + cfg_.listen.peer.str() + " (address in use or not local?)");
  }
  clusterService_ = std::make_unique<ClusterService>(*this, *events_);
  clusterService_->requireClientCertificates(cfg_.tls.has_value());
  {
    grpc::ServerBuilder b;
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.AddListeningPort(cfg_.listen.api.str(), *screds, &apiPort_);
    b.RegisterService(clusterService_.get());
    b.SetMaxReceiveMessageSize(kApiMaxRequestBytes);
    apiServer_ = b.BuildAndStart();
    if (!apiServer_ || apiPort_ == 0)
      return Status::failure("listen.api: cannot listen on " + cfg_.listen.api.str() + " (address in use or not local?)");
  }
  if (cfg_.listen.metrics) {
    metrics_ = std::make_unique<MetricsServer>([this] { return metricsSnapshot(); });
    auto port = metrics_->start(cfg_.listen.metrics->host, cfg_.listen.metrics->port);
    if (!port) return Status::failure("listen.metrics: " + port.error());
  }
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
             advertised(cfg_.listen.peer), advertised(cfg_.listen.api), cfg_.voters.size(),
             formatDuration(cfg_.election.heartbeatInterval), formatDuration(cfg_.election.electionTimeout),
             formatDuration(cfg_.election.lease()), opts_.noDatapath ? ", datapath off" : "");
  record("node_started", cfg_.node.name,
         std::string("agent ") + kVersion + " started as " + (cfg_.node.candidate ? "candidate" : "observer") +
             (restarted ? " (restart: no vote for one election timeout)" : ""));
  updateDatapath();
  startProber();
  publishState();
  thread_ = std::thread([this] { loop(); });
  return {};
}

void Agent::post(std::function<void()> task) { (void)tryPost(std::move(task)); }

bool Agent::tryPost(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (drained_) return false;  // the loop has ended: nobody would run it
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void Agent::loop() {
  // Sleeps until the earliest deadline: the state machine's next timer, the next status report
  // or a pending handover's deadline. Work from other threads arrives as tasks and wakes it.
  while (!stop_.load()) {
    std::deque<std::function<void()>> batch;
    {
      std::unique_lock lock(mu_);
      // At least 1 ms: a deadline already past is served after this wait, never in a spin.
      const auto wake = epoch_ + std::chrono::milliseconds(std::max(nextDeadline(), now() + 1));
      cv_.wait_until(lock, wake, [&] { return !tasks_.empty() || stop_.load(); });
      batch.swap(tasks_);
    }
    for (auto& t : batch) t();
    const auto t = now();
    loopRanAt_.store(t, std::memory_order_relaxed);
    if (t >= nextDeadline()) onTick(t);
  }
  // Run what was posted before stop (e.g. the shutdown steps).
  std::deque<std::function<void()>> rest;
  {
    std::lock_guard lock(mu_);
    rest.swap(tasks_);
    drained_ = true;
  }
  for (auto& t : rest) t();
}

Time Agent::reportInterval() const {
  // Status reports feed the cluster view (seconds matter there, not milliseconds): at most ten
  // a second, whatever the heartbeat.
  return std::max<Time>(cfg_.election.heartbeatInterval.count(), 100);
}

Time Agent::nextDeadline() const {
  Time d = std::min(election_->nextTick(), lastReportAt_ + reportInterval());
  if (pendingHandover_) d = std::min(d, pendingHandover_->deadline);
  return d;
}

bool Agent::eligible() const {
  return cfg_.node.candidate && persisted_.candidacy == CandidacyState::Enabled && verdict_.healthy;
}

CandidacyState Agent::initialCandidacy() const {
  // The voters' own candidacy comes with the cluster's first config. A node that joins later
  // (a candidate that is not a voter) carries no traffic until an operator has checked that the
  // external service accepts its IP and enabled it (docs/allowlist.md).
  return cfg_.isVoter() ? CandidacyState::Enabled : CandidacyState::Pending;
}

bool Agent::verifiedAlternative(Time t) const {
  const Time fresh = 3 * cfg_.election.electionTimeout.count() + 2 * reportInterval();
  for (const auto& [name, m] : members_) {
    const auto& s = m.status;
    if (name == cfg_.node.name || s.address().empty() || t - m.lastSeen > fresh) continue;
    if (s.candidacy() == pb::CANDIDACY_ENABLED && s.healthy() && s.allowlist() == pb::ALLOWLIST_OK) return true;
  }
  return false;
}

void Agent::updateEligibility(Time t) {
  if (datapath_) health_ = datapath_->health();
  // A rejected candidate does not stand. A rejected master hands over only when a verified
  // candidate can take the traffic: stepping down with nobody to take over turns "the service
  // refuses us" into "nothing leaves at all", and hides which node the service refuses.
  health_.allowlistRejected = probe_.verdict == AllowlistVerdict::Rejected &&
                              (election_->role() != Role::Master || verifiedAlternative(t));
  auto v = evaluateHealth(health_, cfg_.node.egress.interface);
  if (v.healthy != verdict_.healthy || v.problems != verdict_.problems) {
    std::string why;
    for (const auto& p : v.problems) why += (why.empty() ? "" : "; ") + p;
    if (cfg_.node.candidate)
      record("health_changed", cfg_.node.name, v.healthy ? "healthy again" : "unhealthy: " + why);
    verdict_ = v;
  }
  election_->setEligible(eligible(), t);
  process();
}

void Agent::onTick(Time t) {
  election_->tick(t);
  process();
  if (pendingHandover_ && t >= pendingHandover_->deadline) {
    auto done = std::move(pendingHandover_->done);
    pendingHandover_.reset();
    done(false, "handover timed out: no new master within " + std::to_string(2 * cfg_.election.electionTimeout.count()) + " ms", "");
  }
  if (!prober_ && cfg_.probe.target && cfg_.node.candidate) startProber();
  const Time reportEvery = reportInterval();
  if (t - lastReportAt_ >= reportEvery) {
    lastReportAt_ = t;
    if (++reportCount_ % 3 == 0) updateEligibility(t);  // datapath health; the others' verdicts
    sendStatusReport(t);
    refreshMembers(t);
    publishState();
  }
}

void Agent::process() {
  auto r = election_->takeReady();
  if (r.persist) {
    persisted_.hard = *r.persist;
    auto st = store_.save(persisted_);
    if (!st) {
      // Sending a vote we could not persist could let us vote twice after a crash: drop the
      // messages of this step and stop standing until the disk works again.
      log::get("election")->error("{} term {}: cannot persist election state: {}; messages of this step dropped",
                                  cfg_.node.name, r.persist->term, st.error());
      health_.hostProblems = {"cannot persist election state: " + st.error()};
      return;
    }
  }
  const auto t = now();
  if (r.leaseChanged && datapath_) {
    // Cut the kernel fence before anything else goes out (a handover's TimeoutNow among it),
    // or extend it to the new expiry.
    datapath_->refreshLease(election_->leaseValid(t) ? election_->leaseExpiry() - t : 0);
  }
  for (const auto& rej : r.rejected) {
    log::get("election")->debug("{} term {}: ignored {} from {}: {}", cfg_.node.name, election_->term(),
                                election::msgTypeName(rej.type), rej.from, election::rejectName(rej.reason));
  }
  for (const auto& m : r.messages) sendElection(m);
  if (r.roleChanged) {
    auto role = *r.roleChanged;
    log::get("election")->info("{} term {}: role {}", cfg_.node.name, election_->term(), election::roleName(role));
    if (role == Role::PreCandidate || role == Role::Candidate) {
      if (role == Role::Candidate)
        record("election_started", cfg_.node.name, "campaigning for term " + std::to_string(election_->term()));
    }
  }
  if (r.masterChanged || r.roleChanged) {
    const auto& m = election_->master();
    if (m != lastMaster_) {
      if (m.empty()) {
        masterLostAt_ = t;
        log::get("election")->warn("{} term {}: master {} lost", cfg_.node.name, election_->term(), lastMaster_);
        if (election_->isVoter() || lastMaster_ == cfg_.node.name)
          record("master_lost", lastMaster_, lastMaster_ == cfg_.node.name ? "stepped down: lease not renewed by a voter majority" : "no heartbeat within the election timeout");
      } else {
        std::int64_t gap = masterLostAt_ >= 0 ? t - masterLostAt_ : -1;
        if (m == cfg_.node.name) {
          ++failovers_;
          if (!lastMaster_.empty() || masterLostAt_ >= 0) lastFailoverGapMs_ = gap;
          if (gap >= 0) {
            std::lock_guard lock(metricsMu_);
            metricsGaps_.observe(static_cast<double>(gap) / 1000.0);
          }
          log::get("election")->info("{} term {}: elected master{}", cfg_.node.name, election_->term(),
                                     gap >= 0 ? " " + std::to_string(gap) + " ms after the previous master was lost" : "");
          record("master_elected", m, "elected in term " + std::to_string(election_->term()), gap);
        } else {
          log::get("election")->info("{} term {}: following master {}", cfg_.node.name, election_->term(), m);
        }
        masterSinceMs_ = wallMs();
        masterLostAt_ = -1;
        if (pendingHandover_ && m != pendingHandover_->from) {
          auto done = std::move(pendingHandover_->done);
          pendingHandover_.reset();
          done(true, "handed over to " + m, m);
        }
      }
      lastMaster_ = m;
      updateDatapath();
      publishState();
    }
  }
}

void Agent::updateDatapath() {
  if (!datapath_) return;
  const auto& m = election_->master();
  if (election_->role() == Role::Master) {
    const auto t = now();
    datapath_->setRole(AgentDatapath::Role::Master, std::nullopt,
                       election_->leaseValid(t) ? election_->leaseExpiry() - t : 0);
  } else if (!m.empty()) {
    std::optional<IpAddress> addr;
    if (auto it = members_.find(m); it != members_.end()) addr = IpAddress::parse(it->second.status.address());
    if (!addr)
      for (const auto& v : cfg_.voters)
        if (v.name == m) addr = IpAddress::parse(v.address.host);
    if (addr) datapath_->setRole(AgentDatapath::Role::Follower, addr, 0);
    else datapath_->setRole(AgentDatapath::Role::NoMaster, std::nullopt, 0);
  } else {
    datapath_->setRole(AgentDatapath::Role::NoMaster, std::nullopt, 0);
  }
}

std::optional<std::string> Agent::endpointOf(const std::string& node) const {
  for (const auto& v : cfg_.voters)
    if (v.name == node) return v.address.str();
  if (auto it = members_.find(node); it != members_.end() && !it->second.status.peer_endpoint().empty())
    return it->second.status.peer_endpoint();
  if (auto it = replyEndpoints_.find(node); it != replyEndpoints_.end() && !it->second.empty()) return it->second;
  return std::nullopt;
}

void Agent::sendTo(const std::string& node, pb::ElectionMessage msg) {
  auto ep = endpointOf(node);
  if (!ep) return;
  msg.set_from(cfg_.node.name);
  msg.set_to(node);
  msg.set_from_endpoint(advertised(cfg_.listen.peer));
  msg.set_protocol(kProtocolVersion);
  ++messageCounts_[pb::MessageType_Name(msg.type())];
  peers_->send(*ep, std::move(msg));
}

void Agent::sendElection(const election::Message& m) {
  pb::ElectionMessage out;
  out.set_type(toProto(m.type));
  out.set_term(m.term);
  out.set_granted(m.granted);
  out.set_round(m.round);
  out.set_priority(m.priority);
  out.set_transfer(m.transfer);
  if (m.type == election::MsgType::Heartbeat) {
    // The cluster view and the events the receiver lacks ride on heartbeats.
    for (const auto& [name, mem] : members_) *out.add_cluster() = mem.status;
    *out.add_cluster() = selfStatus();
    if (auto it = members_.find(m.to); it != members_.end()) {
      std::map<std::string, std::uint64_t> known(it->second.knownEvents.begin(), it->second.knownEvents.end());
      for (auto& e : events_->missingFor(known, 64)) *out.add_events() = std::move(e);
    }
    for (const auto& [o, s] : events_->known()) (*out.mutable_known_events())[o] = s;
  }
  sendTo(m.to, std::move(out));
}

pb::NodeStatus Agent::selfStatus() const {
  pb::NodeStatus s;
  s.set_name(cfg_.node.name);
  s.set_address(cfg_.node.address.str());
  s.set_peer_endpoint(advertised(cfg_.listen.peer));
  s.set_api_endpoint(advertised(cfg_.listen.api));
  std::optional<IpAddress> eip = cfg_.node.egress.ip;
  if (!eip && datapath_) eip = datapath_->egressIp();
  if (eip) s.set_egress_ip(eip->str());
  s.set_egress_interface(cfg_.node.egress.interface);
  const bool observer = !cfg_.node.candidate && !cfg_.isVoter();
  s.set_role(roleToProto(election_->role(), observer));
  s.set_term(election_->term());
  s.set_candidacy(candidacyToProto(persisted_.candidacy));
  s.set_voter(cfg_.isVoter());
  s.set_healthy(verdict_.healthy);
  for (const auto& p : verdict_.problems) s.add_health_problems(p);
  s.set_allowlist(toProto(probe_.verdict));
  s.set_allowlist_detail(toValidUtf8(probe_.detail));
  if (datapath_) {
    auto c = datapath_->counters();
    s.mutable_snat()->set_packets(c.snatPackets);
    s.mutable_snat()->set_bytes(c.snatBytes);
    s.mutable_marked()->set_packets(c.markedPackets);
    s.mutable_marked()->set_bytes(c.markedBytes);
  }
  s.set_version(kVersion);
  s.set_priority(priority_);
  s.set_wall_time_ms(wallMs());
  s.set_event_seq(events_ ? events_->lastLocalSeq() : 0);
  s.set_datapath_ready(!datapath_ || health_.datapathApplied);
  s.set_protocol(kProtocolVersion);
  s.set_master(election_->master());
  return s;
}

void Agent::sendStatusReport(Time) {
  // To the master when one is known (it builds the cluster view), else to every voter.
  pb::ElectionMessage msg;
  msg.set_type(pb::STATUS_REPORT);
  msg.set_term(election_->term());
  *msg.mutable_status() = selfStatus();
  for (const auto& [o, s] : events_->known()) (*msg.mutable_known_events())[o] = s;
  std::vector<std::string> targets;
  const auto& m = election_->master();
  if (!m.empty() && m != cfg_.node.name) {
    targets.push_back(m);
  } else if (m.empty()) {
    for (const auto& v : cfg_.voters)
      if (v.name != cfg_.node.name) targets.push_back(v.name);
  }
  for (const auto& t : targets) {
    auto copy = msg;
    std::map<std::string, std::uint64_t> known;
    if (auto it = members_.find(t); it != members_.end()) known = it->second.knownEvents;
    for (auto& e : events_->missingFor(known, 64)) *copy.add_events() = std::move(e);
    sendTo(t, std::move(copy));
  }
}

void Agent::refreshMembers(Time t) {
  // A node that has not reported for 20 election timeouts has left the cluster view.
  const Time expiry = 20 * cfg_.election.electionTimeout.count();
  std::vector<election::PeerInfo> nonVoters, all;
  for (auto it = members_.begin(); it != members_.end();) {
    if (!it->second.fromConfig && t - it->second.lastSeen > expiry && election_->role() == Role::Master) {
      record("node_left", it->first, "no status report for " + std::to_string(expiry) + " ms");
      it = members_.erase(it);
      continue;
    }
    const auto& s = it->second.status;
    if (s.address().empty()) {  // never reported itself: not a member
      ++it;
      continue;
    }
    election::PeerInfo p{it->first, s.candidacy() == pb::CANDIDACY_ENABLED,
                         s.candidacy() == pb::CANDIDACY_ENABLED && s.healthy() && s.allowlist() != pb::ALLOWLIST_REJECTED &&
                             t - it->second.lastSeen < 3 * cfg_.election.electionTimeout.count(),
                         s.priority()};
    all.push_back(p);
    if (!s.voter()) nonVoters.push_back(p);
    ++it;
  }
  election_->setMembers(nonVoters);
  election_->setPeerInfo(all);
  process();
}

grpc::Status Agent::admitPeer(const pb::ElectionMessage& m) const {
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

std::string Agent::onPeerMessage(pb::ElectionMessage&& m, const std::string& peer) {
  if (m.protocol() != kProtocolVersion)
    return "protocol " + std::to_string(m.protocol()) + " not supported (this agent speaks " +
           std::to_string(kProtocolVersion) + ")";
  if (m.from().empty() || m.from().size() > 63) return "missing or invalid sender name";
  if (m.to() != cfg_.node.name) return "message for " + m.to() + " delivered to " + cfg_.node.name;
  if (m.cluster_size() > 10000 || m.events_size() > 1000) return "message too large";
  post([this, m = std::move(m), peer] {
    (void)peer;
    handlePeerMessage(m, now());
  });
  return {};
}

void Agent::handlePeerMessage(const pb::ElectionMessage& m, Time t) {
  const bool fromVoter = std::any_of(cfg_.voters.begin(), cfg_.voters.end(), [&](const auto& v) { return v.name == m.from(); });
  if (m.type() == pb::STATUS_REPORT) {
    if (!m.has_status() || m.status().name() != m.from()) {
      log::get("election")->warn("{}: status report from {} rejected: name mismatch", cfg_.node.name, m.from());
      return;
    }
    auto& mem = members_[m.from()];
    const bool fresh = mem.lastSeen == 0 && !mem.fromConfig;
    mem.status = m.status();
    mem.lastSeen = t;
    mem.fromConfig = fromVoter;
    mem.knownEvents.clear();
    for (const auto& [o, s] : m.known_events()) mem.knownEvents[o] = s;
    mergeEvents(m);
    if (fresh && election_->role() == Role::Master)
      record("node_joined", m.from(), "joined as " + std::string(m.status().voter() ? "voter" : "non-voter") + " " +
                                          (m.status().candidacy() == pb::CANDIDACY_NONE ? "observer" : "candidate"));
    return;
  }
  auto type = fromProto(m.type());
  if (!type) {
    log::get("election")->warn("{}: message of unknown type {} from {} rejected", cfg_.node.name, static_cast<int>(m.type()), m.from());
    return;
  }
  const bool reported = members_.count(m.from()) && !members_.at(m.from()).status.address().empty();
  if (!fromVoter && !reported && *type != election::MsgType::HeartbeatResp && *type != election::MsgType::PreVote &&
      *type != election::MsgType::Vote) {
    // A non-voter is followed (heartbeat, timeout-now) only once it has joined with a status
    // report; strangers may only ask for votes (refused unless they joined) and answer heartbeats.
    log::get("election")->warn("{}: {} from unknown node {} rejected", cfg_.node.name, pb::MessageType_Name(m.type()), m.from());
    return;
  }
  if ((*type == election::MsgType::PreVote || *type == election::MsgType::Vote) && !fromVoter) {
    // Where to send the answer to a non-voting candidate. Kept apart from the members: asking
    // for a vote does not make a node one we follow or send the cluster view to.
    if (replyEndpoints_.size() > 256) replyEndpoints_.clear();
    replyEndpoints_[m.from()] = m.from_endpoint();
  }
  if (amnesia_ && m.term() > 0) {
    // Our state file was lost: treat the first term we hear of as already voted in.
    amnesia_ = false;
    election::HardState hs{std::max(m.term(), election_->term()), "?unknown"};
    persisted_.hard = hs;
    if (auto st = store_.save(persisted_); !st) log_->error("{}: {}", cfg_.node.name, st.error());
    rebuildElection(hs, true);
  }
  if (*type == election::MsgType::Heartbeat) {
    if (m.cluster_size() > 0) {
      for (const auto& s : m.cluster()) {
        if (s.name() == cfg_.node.name || s.name().empty() || s.address().empty()) continue;
        auto& mem = members_[s.name()];
        mem.status = s;
        mem.lastSeen = t;
      }
    }
    mergeEvents(m);
    auto& mm = members_[m.from()];
    mm.knownEvents.clear();
    for (const auto& [o, s] : m.known_events()) mm.knownEvents[o] = s;
  }
  election::Message em;
  em.type = *type;
  em.from = m.from();
  em.to = m.to();
  em.term = m.term();
  em.granted = m.granted();
  em.round = m.round();
  em.priority = m.priority();
  em.transfer = m.transfer();
  election_->step(em, t);
  process();
}

void Agent::mergeEvents(const pb::ElectionMessage& m) {
  for (const auto& e : m.events()) {
    auto r = events_->merge(e);
    if (!r) log::get("journal")->warn("{}: event {}/{} from {} not merged: {}", cfg_.node.name, e.origin(), e.seq(), m.from(), r.error());
  }
}

MetricsFigures Agent::metricsSnapshot() const {
  auto f = MetricsFigures::fromState(snapshot(), cfg_.node.name);
  std::lock_guard lock(metricsMu_);
  f.failoversTotal = metricsFailovers_;
  f.failoverGap = metricsGaps_;
  f.electionMessages = metricsMessages_;
  f.version = kVersion;
  f.readiness = metricsReadiness_;
  f.readiness.loopAgeMs = now() - loopRanAt_.load(std::memory_order_relaxed);
  return f;
}

ReadinessInputs Agent::readinessInputs() const {
  ReadinessInputs r;
  r.self = cfg_.node.name;
  r.role = election_->role();
  r.master = election_->master();
  r.term = election_->term();
  r.leaseValid = election_->leaseValid(now());
  r.datapathEnabled = datapath_ != nullptr;
  r.datapathInSync = datapath_ && datapath_->inSync();
  r.datapathProblem = health_.lastApplyError;
  r.electionTimeoutMs = cfg_.election.electionTimeout.count();
  return r;
}

void Agent::record(const std::string& kind, const std::string& node, const std::string& message, std::int64_t gapMs) {
  if (!events_) return;
  auto st = events_->append(kind, node, election_ ? election_->term() : 0, message, gapMs);
  if (!st) log::get("journal")->error("{}: cannot journal event {}: {}", cfg_.node.name, kind, st.error());
}

void Agent::publishState() {
  pb::ClusterState s;
  s.set_master(election_->master());
  s.set_term(election_->term());
  s.set_master_since_ms(election_->master().empty() ? 0 : masterSinceMs_);
  s.set_served_by(cfg_.node.name);
  s.set_protocol(kProtocolVersion);
  s.set_mode(modeName(cfg_.mode));
  if (cfg_.virtualIp) s.set_virtual_ip(cfg_.virtualIp->address.address().str());
  s.set_lease_ms(cfg_.election.lease().count());
  s.set_lease_refresh_ms(cfg_.election.leaseRefresh().count());
  s.set_drift_margin_ms(cfg_.election.driftMargin().count());
  s.set_last_failover_gap_ms(lastFailoverGapMs_);
  *s.add_nodes() = selfStatus();
  const auto t = now();
  for (const auto& [name, mem] : members_) {
    if (mem.status.name().empty() || mem.status.address().empty()) continue;  // known only from a vote request
    auto n = mem.status;
    // A node we have not heard of for three election timeouts is shown unhealthy.
    if (t - mem.lastSeen > 3 * cfg_.election.electionTimeout.count()) {
      n.set_healthy(false);
      n.add_health_problems("no status for " + std::to_string((t - mem.lastSeen) / 1000) + " s");
      if (n.role() == pb::MASTER && name != election_->master()) n.set_role(pb::FOLLOWER);
    }
    *s.add_nodes() = n;
  }
  if (cfg_.tls) {
    // Voters and joined members, for admitPeer on the gRPC threads.
    std::set<std::string> known;
    for (const auto& v : cfg_.voters) known.insert(v.name);
    for (const auto& [name, mem] : members_)
      if (!mem.status.address().empty()) known.insert(name);
    std::lock_guard lock(knownMu_);
    knownPeers_.swap(known);
  }
  {
    auto readiness = readinessInputs();
    std::lock_guard lock(metricsMu_);
    metricsFailovers_ = failovers_;
    metricsMessages_ = messageCounts_;
    metricsReadiness_ = std::move(readiness);
  }
  bool changed;
  {
    std::lock_guard lock(snapMu_);
    // wall_time_ms changes every time; compare without it.
    auto strip = [](pb::ClusterState c) {
      for (auto& n : *c.mutable_nodes()) n.set_wall_time_ms(0);
      return c.SerializeAsString();
    };
    changed = strip(s) != strip(snapshot_);
    snapshot_ = std::move(s);
  }
  if (changed && clusterService_) clusterService_->notifyStateChanged();
}

pb::ClusterState Agent::snapshot() const {
  std::lock_guard lock(snapMu_);
  return snapshot_;
}

void Agent::setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason,
                         std::function<void(bool, std::string)> done) {
  post([this, node, enable, force, reason, done = std::move(done)]() mutable {
    if (node != cfg_.node.name) {
      done(false, "candidacy of " + node + " must be changed on that node's agent (" +
                      (members_.count(node) ? members_.at(node).status.api_endpoint() : std::string("unknown node")) + ")");
      return;
    }
    if (!cfg_.node.candidate) {
      done(false, node + " is not an egress node (node.candidate: false in its config)");
      return;
    }
    if (!enable) {
      applyCandidacy(CandidacyState::Disabled, reason, std::move(done));
      return;
    }
    if (force || probe_.verdict == AllowlistVerdict::Ok || persisted_.candidacy == CandidacyState::Enabled) {
      if (force && probe_.verdict != AllowlistVerdict::Ok)
        log_->warn("{}: candidacy enabled by force; allowlist probe: {}: {}", cfg_.node.name, verdictName(probe_.verdict),
                   probe_.detail.empty() ? "never ran" : probe_.detail);
      applyCandidacy(CandidacyState::Enabled, reason, std::move(done));
      return;
    }
    auto refuse = [this](std::function<void(bool, std::string)>& d) {
      std::string why;
      if (!cfg_.probe.target)
        why = "no allowlist.probe.target is configured, so nothing has verified that the external service accepts " +
              std::string(selfStatus().egress_ip()) + "; confirm it with the service's owner and enable with force";
      else
        why = "the allowlist probe has not verified " + selfStatus().egress_ip() + " (" +
              std::string(verdictName(probe_.verdict)) + (probe_.detail.empty() ? "" : ": " + probe_.detail) +
              "); put the IP on the external service's allowlist (egressctl allowlist export) and retry, or enable with force";
      log_->warn("{}: candidacy enable refused: {}", cfg_.node.name, why);
      d(false, "refused to enable " + cfg_.node.name + ": " + why);
    };
    auto prober = prober_;
    if (!prober) {
      refuse(done);
      return;
    }
    // The last periodic probe may predate the operator's allowlist change: probe once more now,
    // off the loop thread (it waits up to the probe timeout), then decide on the fresh verdict.
    std::lock_guard lock(workersMu_);
    std::erase_if(workers_, [](Worker& w) {
      if (!w.finished->load()) return false;
      w.thread.join();
      return true;
    });
    auto finished = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({finished, std::thread([this, prober, refuse, reason, done, finished]() mutable {
      auto res = prober->probeNow();
      bool posted = tryPost([this, res, refuse, reason, done]() mutable {
        onProbe(res);  // a no-op when the prober's own callback delivered it first
        if (probe_.verdict == AllowlistVerdict::Ok)
          applyCandidacy(CandidacyState::Enabled, reason, std::move(done));
        else
          refuse(done);
      });
      if (!posted) done(false, cfg_.node.name + "'s agent is stopping");
      finished->store(true);
    })});
  });
}

void Agent::applyCandidacy(CandidacyState next, const std::string& reason, std::function<void(bool, std::string)> done) {
  const auto& node = cfg_.node.name;
  if (persisted_.candidacy == next) {
    done(true, node + " candidacy already " + candidacyName(next));
    return;
  }
  auto prev = persisted_.candidacy;
  persisted_.candidacy = next;
  if (auto st = store_.save(persisted_); !st) {
    persisted_.candidacy = prev;
    done(false, "cannot persist candidacy: " + st.error());
    return;
  }
  const std::string change = std::string("candidacy ") + candidacyName(prev) + " -> " + candidacyName(next) +
                             (reason.empty() ? "" : " (" + reason + ")");
  log_->info("{}: {}", node, change);
  record("candidacy_changed", node, change);
  updateEligibility(now());
  publishState();
  done(true, node + " candidacy " + candidacyName(next));
}

void Agent::handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) {
  post([this, to, done = std::move(done)] {
    if (election_->role() != Role::Master) {
      const auto& m = election_->master();
      done(false, m.empty() ? "no master to hand over from" : "this agent is not the master; ask " + m, "");
      return;
    }
    auto target = election_->transferLeadership(to, now());
    if (!target) {
      done(false, "handover refused: " + election_->lastTransferError(), "");
      return;
    }
    record("handover", cfg_.node.name, "handing over to " + *target);
    pendingHandover_ = PendingHandover{cfg_.node.name, now() + 2 * cfg_.election.electionTimeout.count(), done};
    process();
  });
}

void Agent::probeAllowlist(const std::string& node, std::function<void(pb::ProbeAllowlistResponse)> done) {
  pb::ProbeAllowlistResponse r;
  if (!node.empty() && node != cfg_.node.name) {
    r.set_verdict(pb::ALLOWLIST_UNKNOWN);
    r.set_detail("the probe runs on the node itself: ask " + node + "'s agent (its API endpoint is in the status)");
    done(r);
    return;
  }
  auto prober = prober_;
  if (!prober) {
    r.set_verdict(pb::ALLOWLIST_UNKNOWN);
    r.set_detail(cfg_.probe.target ? "no egress IP to probe from yet" : "no allowlist.probe.target configured");
    done(r);
    return;
  }
  // A probe waits up to its timeout: never on a gRPC thread or the loop.
  std::thread([prober, done = std::move(done)] {
    auto res = prober->probeNow();
    pb::ProbeAllowlistResponse out;
    out.set_verdict(toProto(res.verdict));
    out.set_detail(res.detail);
    done(out);
  }).detach();
}

void Agent::startProber() {
  if (!cfg_.probe.target || !cfg_.node.candidate) return;
  std::optional<IpAddress> src = cfg_.node.egress.ip;
  if (!src && datapath_) src = datapath_->egressIp();
  if (!src) return;  // retried on the next tick
  auto opts = AllowlistProber::fromConfig(cfg_.probe, *src, opts_.noDatapath ? std::string() : cfg_.node.egress.interface);
  if (!opts) return;
  prober_ = std::make_shared<AllowlistProber>(*opts, [this](const ProbeResult& r) { post([this, r] { onProbe(r); }); });
  prober_->start();
}

void Agent::onProbe(const ProbeResult& result) {
  if (result.seq != 0 && result.seq <= probe_.seq) return;  // already seen (or older)
  ProbeResult r = result;
  // A firewall that silently drops sources not on its allowlist looks like a dead service to one
  // probe. When other candidates reach the same target at the same time, the service is alive and
  // it is this source it ignores: treat that as a refusal, so the node does not stand.
  if (r.outcome == ProbeOutcome::Timeout && r.consecutiveTimeouts >= kSilentDropProbes) {
    std::string reachers;
    const Time t = now();
    const Time fresh = 3 * cfg_.election.electionTimeout.count() + 2 * reportInterval();
    for (const auto& [name, m] : members_)
      if (name != cfg_.node.name && !m.status.address().empty() && t - m.lastSeen <= fresh &&
          m.status.allowlist() == pb::ALLOWLIST_OK)
        reachers += (reachers.empty() ? "" : ", ") + name;
    if (!reachers.empty()) {
      r.verdict = AllowlistVerdict::Rejected;
      r.detail = "no answer for " + std::to_string(r.consecutiveTimeouts) + " probes in a row while " + reachers +
                 " reach the same target: the external service silently drops this source (" + r.detail + ")";
    }
  }
  const bool changed = r.verdict != probe_.verdict;
  probe_ = r;
  if (changed) {
    record("allowlist_changed", cfg_.node.name,
           std::string("allowlist probe: ") + std::string(verdictName(r.verdict)) + ": " + r.detail);
    if (r.verdict == AllowlistVerdict::Rejected && election_->role() == Role::Master) {
      if (verifiedAlternative(now()))
        log_->warn("{}: the external service rejects our egress IP: handing over", cfg_.node.name);
      else
        log_->error("{}: the external service rejects our egress IP and no other candidate is verified: "
                    "staying master (traffic through us is refused by the service)", cfg_.node.name);
    }
  }
  updateEligibility(now());
  publishState();
}

std::string Agent::reload(const Config& next) {
  std::promise<std::string> result;
  auto fut = result.get_future();
  post([this, &next, &result] {
    std::vector<std::string> applied, refused;
    if (next.node.priority != priority_) {
      applied.push_back("priority " + std::to_string(priority_) + " -> " + std::to_string(next.node.priority));
      priority_ = next.node.priority;
      election_->setPriority(priority_);
    }
    if (next.node.candidate != cfg_.node.candidate) {
      if (next.node.candidate && next.node.egress.interface != cfg_.node.egress.interface) {
        refused.push_back("node.candidate (egress interface changed too: restart the agent)");
      } else {
        applied.push_back(std::string("candidate ") + (next.node.candidate ? "true" : "false"));
        cfg_.node.candidate = next.node.candidate;
        persisted_.candidacy = next.node.candidate ? initialCandidacy() : CandidacyState::None;
        (void)store_.save(persisted_);
      }
    }
    auto differs = [&](bool d, const char* key) {
      if (d) refused.push_back(std::string(key) + " (needs a restart)");
    };
    differs(next.node.name != cfg_.node.name, "node.name");
    differs(next.node.address != cfg_.node.address, "node.address");
    differs(next.listen.peer != cfg_.listen.peer || next.listen.api != cfg_.listen.api || next.listen.metrics != cfg_.listen.metrics, "listen");
    bool votersDiffer = next.voters.size() != cfg_.voters.size();
    for (std::size_t i = 0; !votersDiffer && i < next.voters.size(); ++i)
      votersDiffer = next.voters[i].name != cfg_.voters[i].name || next.voters[i].address != cfg_.voters[i].address;
    differs(votersDiffer, "voters");
    differs(next.election.heartbeatInterval != cfg_.election.heartbeatInterval ||
                next.election.electionTimeout != cfg_.election.electionTimeout || next.election.preempt != cfg_.election.preempt,
            "election");
    differs(next.mode != cfg_.mode, "mode");
    differs(next.stateDir != cfg_.stateDir, "state_dir");
    std::string out;
    for (const auto& a : applied) out += (out.empty() ? "applied: " : ", ") + a;
    if (applied.empty()) out = "nothing to apply";
    if (!refused.empty()) {
      out += "; refused: ";
      for (std::size_t i = 0; i < refused.size(); ++i) out += (i ? ", " : "") + refused[i];
    }
    updateEligibility(now());
    publishState();
    result.set_value(out);
  });
  return fut.get();
}

std::vector<std::string> Agent::routingThroughUs() const {
  // Members whose latest status (their own report, or the master's cluster view) says they
  // follow us. The new master itself and nodes that left are not waited for.
  std::vector<std::string> out;
  const auto& m = election_->master();
  for (const auto& [name, mem] : members_)
    if (name != cfg_.node.name && name != m && mem.status.master() == cfg_.node.name) out.push_back(name);
  return out;
}

void Agent::drainAfterHandover() {
  // Once our table is gone, selected traffic that still reaches us (a worker that has not yet
  // heard of the new master routes it here) is no longer marked: it would leave through our
  // egress interface by the main table, unSNATed, and the external service would see a pod's
  // address. So after the handover we stay a follower, forwarding to the new master, until
  // every member reports following the new master, or for at most two election timeouts.
  const Time start = now();
  const Time bound = 2 * cfg_.election.electionTimeout.count() + 2 * reportInterval();
  for (;;) {
    std::promise<std::vector<std::string>> p;
    auto f = p.get_future();
    if (!tryPost([this, &p] { p.set_value(routingThroughUs()); })) return;
    const auto waiting = f.get();
    const Time waited = now() - start;
    if (waiting.empty()) {
      log_->info("{}: shutting down: no node routes through us any more ({} ms after the handover)", cfg_.node.name, waited);
      return;
    }
    if (waited >= bound) {
      std::string names;
      for (const auto& n : waiting) names += (names.empty() ? "" : ", ") + n;
      log_->warn("{}: shutting down although {} still route through us after {} ms: their selected traffic is "
                 "dropped or leaves unSNATed until they hear of the new master",
                 cfg_.node.name, names, waited);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Agent::shutdown() {
  if (!thread_.joinable()) return;
  // A master hands over first, so maintenance costs one round trip, not an election timeout.
  std::promise<void> handed;
  auto fut = handed.get_future();
  bool handedOver = false;
  post([this, &handed, &handedOver] {
    if (election_->role() != Role::Master) {
      handed.set_value();
      return;
    }
    auto target = election_->transferLeadership("", now());
    if (!target) {
      log_->warn("{}: shutting down as master with no healthy candidate to hand over to: {}", cfg_.node.name,
                 election_->lastTransferError());
      election_->stepDown(now());
      process();
      handed.set_value();
      return;
    }
    log_->info("{}: shutting down: handing over to {}", cfg_.node.name, *target);
    record("handover", cfg_.node.name, "shutdown: handing over to " + *target);
    process();
    pendingHandover_ = PendingHandover{cfg_.node.name, now() + 2 * cfg_.election.electionTimeout.count(),
                                       [&handed, &handedOver](bool ok, std::string msg, std::string) {
                                         (void)msg;
                                         handedOver = ok;
                                         handed.set_value();
                                       }};
  });
  fut.wait();
  if (handedOver) drainAfterHandover();
  post([this] {
    if (election_->role() == Role::Master) election_->stepDown(now());
    process();
    record("node_stopped", cfg_.node.name, "agent stopped");
    // Hand our latest events (the handover, the stop) to the others before we go.
    sendStatusReport(now());
  });
  stop_ = true;
  cv_.notify_all();
  thread_.join();
  if (clusterService_) clusterService_->shutdown();
  if (apiServer_) apiServer_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  if (peerServer_) peerServer_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  if (metrics_) metrics_->stop();
  if (peers_) peers_->drain(500);
  if (prober_) prober_->stop();
  {
    // Candidacy requests waiting for a fresh probe: the stopped prober answers them at once.
    std::lock_guard lock(workersMu_);
    for (auto& w : workers_) w.thread.join();
    workers_.clear();
  }
  if (datapath_) datapath_->stop(true);
  log_->info("{}: stopped", cfg_.node.name);
}

Agent::~Agent() {
  if (thread_.joinable()) shutdown();
  if (lockFd_ >= 0) ::close(lockFd_);
}

}  // namespace egw
