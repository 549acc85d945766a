// The driver's election side: start, timers, the election's Ready, peer messages, status
// reports, the cluster view and the datapath role. Operator requests: driver_ops.cpp; the
// published state: driver_status.cpp.
#include "agent/node/driver.h"

#include <algorithm>

#include "agent/core/allowlist_policy.h"
#include "agent/core/codec.h"
#include "agent/store/event_store.h"
#include "egw/version.h"

namespace egw {

namespace pb = egressgw::v1;

Driver::Driver(Config cfg, DriverPorts ports, DriverSink& sink, std::string peerEndpoint, std::string apiEndpoint)
    : cfg_(std::move(cfg)),
      ports_(std::move(ports)),
      sink_(sink),
      peerEndpoint_(std::move(peerEndpoint)),
      apiEndpoint_(std::move(apiEndpoint)),
      log_(log::get("agent")),
      elog_(log::get("election")),
      view_(cfg_.node.name,
            [&] {
              std::vector<std::string> v;
              for (const auto& x : cfg_.voters) v.push_back(x.name);
              return v;
            }(),
            ViewTiming{cfg_.election.electionTimeout.count(), std::max<Time>(cfg_.election.heartbeatInterval.count(), 100),
                       // an observer's keepalive: a second, or an election timeout if that is longer
                       std::max<Time>(1000, cfg_.election.electionTimeout.count())}),
      priority_(cfg_.node.priority),
      observer_(!cfg_.node.candidate && !cfg_.isVoter()) {}

Driver::~Driver() = default;

Role Driver::role() const { return election_->role(); }
const std::string& Driver::master() const { return feed_ ? feed_->master().master : election_->master(); }
std::uint64_t Driver::term() const { return feed_ ? feed_->master().term : election_->term(); }

Driver::Time Driver::reportInterval() const {
  // Status reports feed the cluster view (seconds matter there, not milliseconds): at most ten
  // a second, whatever the heartbeat.
  return view_.timing().reportInterval;
}

bool Driver::eligible() const { return egw::eligible(cfg_.node.candidate, persisted_.candidacy, verdict_.healthy); }

void Driver::rebuildElection(election::HardState hs, bool restarted) {
  election::Settings s;
  s.self = cfg_.node.name;
  for (const auto& v : cfg_.voters) s.voters.push_back(v.name);
  s.candidate = cfg_.node.candidate;
  s.priority = priority_;
  s.heartbeatInterval = cfg_.election.heartbeatInterval.count();
  s.electionTimeout = cfg_.election.electionTimeout.count();
  s.lease = cfg_.election.lease().count();
  s.preempt = cfg_.election.preempt;
  std::uint64_t seed = std::hash<std::string>{}(cfg_.node.name) ^ static_cast<std::uint64_t>(ports_.clock->wallMs());
  election_ = std::make_unique<election::Election>(s, hs, restarted, seed, now());
  election_->setEligible(eligible(), now());
}

void Driver::start(const LoadedState& loaded) {
  const bool restarted = loaded.existed;
  if (loaded.corrupt) {
    // We cannot know whom we voted for in which term. Never vote in the first term we see
    // (handled in onPeerMessage) and grant nothing for one election timeout.
    log_->error("{}: {}; this node will not vote in the current term and rejoins as a follower", cfg_.node.name,
                loaded.problem);
    amnesia_ = true;
  } else {
    persisted_ = loaded.state;
  }
  if (persisted_.candidacy == CandidacyState::None && cfg_.node.candidate)
    persisted_.candidacy = initialCandidacy(cfg_.node.candidate, cfg_.isVoter());
  if (!cfg_.node.candidate) persisted_.candidacy = CandidacyState::None;
  rebuildElection(persisted_.hard, restarted);
  if (observer_) {
    std::vector<std::string> voters;
    for (const auto& v : cfg_.voters) voters.push_back(v.name);
    feed_.emplace(cfg_.node.name, voters, view_.timing().observerKeepalive, now());
    std::string then;
    for (std::size_t i = 1; i < feed_->order().size(); ++i) then += (i > 1 ? ", " : "") + feed_->order()[i];
    log_->info("{}: observer; reports to voter {}{}", cfg_.node.name, feed_->feed(),
               then.empty() ? std::string() : " (then " + then + " when it is silent)");
  }
  record(EventKind::NodeStarted, cfg_.node.name,
         std::string("agent ") + kVersion + " started as " + (cfg_.node.candidate ? "candidate" : "observer") +
             (restarted ? " (restart: no vote for one election timeout)" : ""));
  updateDatapath();
  startProber();
  publishState();
}

Driver::Time Driver::nextDeadline() const {
  Time d = std::min(election_->nextTick(), lastReportAt_ + reportInterval());
  if (feed_) d = std::min(d, feed_->nextDeadline());
  if (!pushQueue_.empty()) d = std::min(d, now() + kPushPause);
  if (pendingHandover_) d = std::min(d, pendingHandover_->deadline);
  if (drain_) d = std::min(d, drain_->deadline);
  return d;
}

void Driver::onTick(Time t) {
  election_->tick(t);
  process();
  if (pendingHandover_ && t >= pendingHandover_->deadline) {
    auto done = std::move(pendingHandover_->done);
    pendingHandover_.reset();
    done(false, "handover timed out: no new master within " + std::to_string(2 * cfg_.election.electionTimeout.count()) + " ms", "");
  }
  if (!prober_ && cfg_.probe.target && cfg_.node.candidate) startProber();
  flushPushes();
  if (feed_ && feed_->onTick(t)) {
    log_->warn("{}: feed voter {}", cfg_.node.name, feed_->lastSwitch());
    sendObserverReport(t, true);
  }
  if (t - lastReportAt_ >= reportInterval()) {
    lastReportAt_ = t;
    if (++reportCount_ % 3 == 0) updateEligibility(t);  // datapath health; the others' verdicts
    if (feed_)
      sendObserverReport(t, false);
    else
      sendStatusReport();
    refreshMembers(t);
    publishState();
  } else if (feed_) {
    sendObserverReport(t, false);  // a keepalive due between two status checks
  }
  checkDrain(t);
}

void Driver::updateEligibility(Time t) {
  if (ports_.datapath) health_ = ports_.datapath->health();
  health_.allowlistRejected =
      rejectionCounts(probe_.verdict, election_->role() == Role::Master, view_.verifiedAlternative(t));
  auto v = evaluateHealth(health_, cfg_.node.egress.interface);
  if (v.healthy != verdict_.healthy || v.problems != verdict_.problems) {
    std::string why;
    for (const auto& p : v.problems) why += (why.empty() ? "" : "; ") + p;
    if (cfg_.node.candidate) record(EventKind::HealthChanged, cfg_.node.name, v.healthy ? "healthy again" : "unhealthy: " + why);
    verdict_ = v;
  }
  election_->setEligible(eligible(), t);
  process();
}

void Driver::process() {
  auto r = election_->takeReady();
  if (r.persist) {
    persisted_.hard = *r.persist;
    auto st = ports_.state->save(persisted_);
    if (!st) {
      // Sending a vote we could not persist could let us vote twice after a crash: drop the
      // messages of this step and stop standing until the disk works again.
      elog_->error("{} term {}: cannot persist election state: {}; messages of this step dropped", cfg_.node.name,
                   r.persist->term, st.error());
      health_.hostProblems = {"cannot persist election state: " + st.error()};
      return;
    }
  }
  const auto t = now();
  if (r.leaseChanged && ports_.datapath) {
    // Cut the kernel fence before anything else goes out (a handover's TimeoutNow among it),
    // or extend it to the new expiry.
    ports_.datapath->refreshLease(election_->leaseValid(t) ? election_->leaseExpiry() - t : 0);
  }
  for (const auto& rej : r.rejected)
    elog_->debug("{} term {}: ignored {} from {}: {}", cfg_.node.name, election_->term(),
                 election::msgTypeName(rej.type), rej.from, election::rejectName(rej.reason));
  for (const auto& m : r.messages) sendElection(m);
  if (r.roleChanged) {
    elog_->info("{} term {}: role {}", cfg_.node.name, election_->term(), roleName(*r.roleChanged));
    if (*r.roleChanged == Role::Candidate)
      record(EventKind::ElectionStarted, cfg_.node.name, "campaigning for term " + std::to_string(election_->term()));
  }
  if (r.masterChanged || r.roleChanged) onRoleOrMaster(r.roleChanged, t);
}

void Driver::onRoleOrMaster(const std::optional<Role>&, Time t) {
  const auto& m = master();
  if (m == lastMaster_) return;
  if (!observer_ && (election_->isVoter() || m == cfg_.node.name)) {
    // Our observers hear of the change from us at once, every voter telling its own. A new
    // master also tells the observers whose feed was the old master (it will not). Not every
    // observer: the others hear it from their own feed, and each of the old master's needs a
    // connection opened now (PeerClients makes it off this thread; docs/bench-scale.md).
    auto to = view_.directObservers(t);
    if (m == cfg_.node.name && !lastKnownMaster_.empty() && lastKnownMaster_ != m)
      for (auto& o : view_.observersOf(lastKnownMaster_, t)) to.push_back(std::move(o));
    pushMaster(to);
  }
  if (!m.empty()) lastKnownMaster_ = m;
  if (m.empty()) {
    masterLostAt_ = t;
    elog_->warn("{} term {}: master {} lost", cfg_.node.name, term(), lastMaster_);
    if (election_->isVoter() || lastMaster_ == cfg_.node.name)
      record(EventKind::MasterLost, lastMaster_,
             lastMaster_ == cfg_.node.name ? "stepped down: lease not renewed by a voter majority"
                                           : "no heartbeat within the election timeout");
  } else {
    std::int64_t gap = masterLostAt_ >= 0 ? t - masterLostAt_ : -1;
    if (m == cfg_.node.name) {
      ++failovers_;
      if (!lastMaster_.empty() || masterLostAt_ >= 0) lastFailoverGapMs_ = gap;
      if (gap >= 0) sink_.failoverGap(gap);
      elog_->info("{} term {}: elected master{}", cfg_.node.name, term(),
                  gap >= 0 ? " " + std::to_string(gap) + " ms after the previous master was lost" : "");
      record(EventKind::MasterElected, m, "elected in term " + std::to_string(term()), gap);
    } else {
      elog_->info("{} term {}: following master {}", cfg_.node.name, term(), m);
    }
    masterSinceMs_ = ports_.clock->wallMs();
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

void Driver::updateDatapath() {
  auto* dp = ports_.datapath;
  if (!dp) return;
  const auto& m = master();
  if (election_->role() == Role::Master) {  // never an observer: it does not stand
    const auto t = now();
    dp->setRole(AgentDatapath::Role::Master, std::nullopt, election_->leaseValid(t) ? election_->leaseExpiry() - t : 0);
  } else if (!m.empty()) {
    // An observer routes to the address its feed named; the others look the master up.
    std::optional<IpAddress> addr = IpAddress::parse(feed_ ? feed_->master().address : clusterAddressOf(m));
    if (addr)
      dp->setRole(AgentDatapath::Role::Follower, addr, 0);
    else
      dp->setRole(AgentDatapath::Role::NoMaster, std::nullopt, 0);
  } else {
    dp->setRole(AgentDatapath::Role::NoMaster, std::nullopt, 0);
  }
}

std::optional<std::string> Driver::endpointOf(const std::string& node) const {
  for (const auto& v : cfg_.voters)
    if (v.name == node) return v.address.str();
  if (auto* m = view_.find(node); m && !m->status.peer_endpoint().empty()) return m->status.peer_endpoint();
  if (auto it = replyEndpoints_.find(node); it != replyEndpoints_.end() && !it->second.empty()) return it->second;
  return std::nullopt;
}

void Driver::sendTo(const std::string& node, pb::ElectionMessage msg) {
  auto ep = endpointOf(node);
  if (!ep) return;
  msg.set_from(cfg_.node.name);
  msg.set_to(node);
  msg.set_from_endpoint(peerEndpoint_);
  msg.set_protocol(kProtocolVersion);
  ++messageCounts_[pb::MessageType_Name(msg.type())];
  const auto* mem = view_.find(node);
  ports_.peers->send(*ep, std::move(msg), mem ? mem->status.tls_name() : std::string());
}

void Driver::sendElection(const election::Message& m) {
  pb::ElectionMessage out = codec::toWire(m);
  if (m.type == election::MsgType::Heartbeat) {
    // The view rides on heartbeats (docs/membership.md): what changed since this peer's last
    // heartbeat; once a second every member's age; every 10 s (and to a new peer) every status,
    // which repairs a lost change.
    const auto t = now();
    auto& sent = viewSent_[m.to];
    if (t - sent.statuses >= 10'000) {
      for (const auto& [name, mem] : view_.members())
        if (mem.joined()) *out.add_cluster() = mem.status;
      sent.statuses = t;
    } else {
      for (auto& s : view_.changedSince(sent.changes)) *out.add_cluster() = std::move(s);
    }
    if (t - sent.ages >= 1000) {
      for (const auto& [name, age] : view_.ages(t, false)) (*out.mutable_ages())[name] = age;
      sent.ages = t;
    }
    sent.changes = t;
    *out.add_cluster() = selfStatus();
    if (auto* mem = view_.find(m.to))
      for (auto& e : ports_.events->missingFor(mem->knownEvents, 64)) *out.add_events() = std::move(e);
    addKnownEvents(out, m.to, t);
  }
  sendTo(m.to, std::move(out));
}

void Driver::sendStatusReport() {
  // To the master when one is known (it builds the cluster view), else to every voter.
  pb::ElectionMessage msg;
  msg.set_type(pb::STATUS_REPORT);
  msg.set_term(election_->term());
  *msg.mutable_status() = selfStatus();
  const auto t = now();
  if (election_->isVoter()) {
    // What our observers told us goes on to the master (changes now, ages every keepalive).
    for (auto& s : view_.takeRelay()) *msg.add_relayed() = std::move(s);
    if (t - agesSentAt_ >= view_.timing().observerKeepalive) {
      agesSentAt_ = t;
      for (const auto& [name, age] : view_.ages(t, true)) (*msg.mutable_ages())[name] = age;
    }
  }
  std::vector<std::string> targets;
  const auto& m = election_->master();
  if (!m.empty() && m != cfg_.node.name) {
    targets.push_back(m);
  } else if (m.empty()) {
    for (const auto& v : cfg_.voters)
      if (v.name != cfg_.node.name) targets.push_back(v.name);
  }
  static const std::map<std::string, std::uint64_t> kNothing;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    // The last target takes the message itself: one copy fewer of the known map and the relay.
    pb::ElectionMessage copy;
    if (i + 1 < targets.size())
      copy = msg;
    else
      copy = std::move(msg);
    addKnownEvents(copy, targets[i], t);
    const auto* mem = view_.find(targets[i]);
    for (auto& e : ports_.events->missingFor(mem ? mem->knownEvents : kNothing, 64)) *copy.add_events() = std::move(e);
    sendTo(targets[i], std::move(copy));
  }
}

void Driver::addKnownEvents(pb::ElectionMessage& msg, const std::string& peer, Time t) {
  // The whole map is one entry per origin, so one per node (1,000 in a heartbeat or a report ten
  // times a second). A peer gets it first and once a second; in between, what changed since our
  // last message to it. Per peer, not per message type: it keeps one map of ours, whether a
  // heartbeat or a report brought it.
  auto& sent = knownSent_[peer];
  auto& known = *msg.mutable_known_events();
  auto put = [&](const std::string& o, std::uint64_t s) { known[o] = s; };
  if (t - sent.wholeAt >= kKnownWholeEvery) {
    sent.version = ports_.events->forEachKnown(put);
    sent.wholeAt = t;
  } else {
    sent.version = ports_.events->forEachKnownSince(sent.version, put);
    msg.set_known_events_delta(true);
  }
}

void Driver::refreshMembers(Time t) {
  const bool master = election_->role() == Role::Master;
  for (const auto& name : view_.expire(t)) {
    viewSent_.erase(name);
    knownSent_.erase(name);
    if (master) record(EventKind::NodeLeft, name, "not heard of within its expiry (20 election timeouts; an observer: 20 keepalives)");
  }
  auto infos = view_.peerInfo(t);
  election_->setMembers(infos.nonVoters);
  election_->setPeerInfo(infos.all);
  process();
}

void Driver::onPeerMessage(const pb::ElectionMessage& m) {
  const Time t = now();
  const bool fromVoter = view_.isVoter(m.from());
  if (m.type() == pb::STATUS_REPORT) {
    auto outcome = view_.onStatusReport(m, t);
    if (outcome == ClusterView::Report::NameMismatch) {
      elog_->warn("{}: status report from {} rejected: name mismatch", cfg_.node.name, m.from());
      return;
    }
    mergeEvents(m);
    const bool master = election_->role() == Role::Master;
    if (outcome == ClusterView::Report::Joined && master)
      record(EventKind::NodeJoined, m.from(),
             "joined as " + std::string(m.status().voter() ? "voter" : "non-voter") + " " +
                 (m.status().candidacy() == pb::CANDIDACY_NONE ? "observer" : "candidate"));
    if (m.relayed_size() > 0 || m.ages_size() > 0)
      for (const auto& name : view_.onRelay(m, t))
        if (master) record(EventKind::NodeJoined, name, "joined as observer (reports to voter " + m.from() + ")");
    if (isObserver(m.status()) && election_->isVoter()) pushMaster({m.from()});
    checkDrain(t);
    return;
  }
  if (m.type() == pb::MASTER_UPDATE) {
    onMasterUpdate(m, t);
    return;
  }
  auto em = codec::fromWire(m);
  if (!em) {
    elog_->warn("{}: message of unknown type {} from {} rejected", cfg_.node.name, static_cast<int>(m.type()), m.from());
    return;
  }
  using election::MsgType;
  if (!fromVoter && !view_.joined(m.from()) && em->type != MsgType::HeartbeatResp && em->type != MsgType::PreVote &&
      em->type != MsgType::Vote) {
    // A non-voter is followed (heartbeat, timeout-now) only once it has joined with a status
    // report; strangers may only ask for votes (refused unless they joined) and answer heartbeats.
    elog_->warn("{}: {} from unknown node {} rejected", cfg_.node.name, pb::MessageType_Name(m.type()), m.from());
    return;
  }
  if ((em->type == MsgType::PreVote || em->type == MsgType::Vote) && !fromVoter) {
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
    if (auto st = ports_.state->save(persisted_); !st) log_->error("{}: {}", cfg_.node.name, st.error());
    rebuildElection(hs, true);
  }
  if (em->type == MsgType::Heartbeat) {
    view_.onHeartbeat(m, t);
    mergeEvents(m);
  }
  election_->step(*em, t);
  process();
  if (em->type == MsgType::Heartbeat) checkDrain(t);
}

void Driver::mergeEvents(const pb::ElectionMessage& m) {
  for (const auto& e : m.events()) {
    auto r = ports_.events->merge(e);
    if (!r)
      log::get("journal")->warn("{}: event {}/{} from {} not merged: {}", cfg_.node.name, e.origin(), e.seq(), m.from(),
                                r.error());
  }
}

void Driver::onDatapathReport(const DatapathReport& r) {
  switch (r.kind) {
    case DatapathReport::Kind::Applied:
      log::get("datapath")->debug("{}: applied in {} us", cfg_.node.name, r.durationUs);
      if (!r.detail.empty()) record(EventKind::DatapathSwitched, cfg_.node.name, r.detail);
      break;
    case DatapathReport::Kind::ApplyFailed: record(EventKind::DatapathFailed, cfg_.node.name, r.detail); break;
    case DatapathReport::Kind::Repaired: record(EventKind::DatapathRepaired, cfg_.node.name, r.detail); break;
    case DatapathReport::Kind::HealthChanged: break;
  }
  updateEligibility(now());
}

void Driver::record(EventKind kind, const std::string& node, const std::string& message, std::int64_t gapMs) {
  if (!ports_.events) return;
  auto st = ports_.events->append(std::string(eventKindName(kind)), node, election_ ? election_->term() : 0, message, gapMs);
  if (!st) log::get("journal")->error("{}: cannot journal event {}: {}", cfg_.node.name, eventKindName(kind), st.error());
}

}  // namespace egw
