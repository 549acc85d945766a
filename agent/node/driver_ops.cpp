// The driver's answers to operators and to the allowlist probe: candidacy, handover, probes,
// reload (SIGHUP) and shutdown (SIGTERM) with the drain after a handover.
#include <algorithm>

#include "agent/core/allowlist_policy.h"
#include "agent/core/codec.h"
#include "agent/core/reload_plan.h"
#include "agent/node/driver.h"

namespace egw {

namespace pb = egressgw::v1;

void Driver::setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason, Done done) {
  if (node != cfg_.node.name) {
    const auto* m = view_.find(node);
    done(false, "candidacy of " + node + " must be changed on that node's agent (" +
                    (m ? m->status.api_endpoint() : std::string("unknown node")) + ")");
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
  if (!prober_) {
    refuseCandidacy(done);
    return;
  }
  // The last periodic probe may predate the operator's allowlist change: probe once more now
  // (off this thread: it waits up to the probe timeout), then decide on the fresh verdict.
  auto* executor = ports_.executor;
  const auto name = cfg_.node.name;
  prober_->probeAsync([this, executor, name, reason, done](const ProbeResult& res) {
    bool posted = executor->post([this, res, reason, done] {
      onProbe(res);  // a no-op when the prober's own callback delivered it first
      if (probe_.verdict == AllowlistVerdict::Ok)
        applyCandidacy(CandidacyState::Enabled, reason, done);
      else
        refuseCandidacy(done);
    });
    if (!posted) done(false, name + "'s agent is stopping");
  });
}

void Driver::refuseCandidacy(const Done& done) {
  std::string why;
  const std::string ip = selfStatus().egress_ip();
  if (!cfg_.probe.target)
    why = "no allowlist.probe.target is configured, so nothing has verified that the external service accepts " + ip +
          "; confirm it with the service's owner and enable with force";
  else
    why = "the allowlist probe has not verified " + ip + " (" + std::string(verdictName(probe_.verdict)) +
          (probe_.detail.empty() ? "" : ": " + probe_.detail) +
          "); put the IP on the external service's allowlist (egressctl allowlist export) and retry, or enable with force";
  log_->warn("{}: candidacy enable refused: {}", cfg_.node.name, why);
  done(false, "refused to enable " + cfg_.node.name + ": " + why);
}

void Driver::applyCandidacy(CandidacyState next, const std::string& reason, Done done) {
  const auto& node = cfg_.node.name;
  if (persisted_.candidacy == next) {
    done(true, node + " candidacy already " + candidacyName(next));
    return;
  }
  auto prev = persisted_.candidacy;
  persisted_.candidacy = next;
  if (auto st = ports_.state->save(persisted_); !st) {
    persisted_.candidacy = prev;
    done(false, "cannot persist candidacy: " + st.error());
    return;
  }
  const std::string change = std::string("candidacy ") + candidacyName(prev) + " -> " + candidacyName(next) +
                             (reason.empty() ? "" : " (" + reason + ")");
  log_->info("{}: {}", node, change);
  record(EventKind::CandidacyChanged, node, change);
  updateEligibility(now());
  publishState();
  done(true, node + " candidacy " + candidacyName(next));
}

void Driver::handover(const std::string& to, HandoverDone done) {
  if (election_->role() != Role::Master) {
    const auto& m = master();
    done(false, m.empty() ? "no master to hand over from" : "this agent is not the master; ask " + m, "");
    return;
  }
  auto target = election_->transferLeadership(to, now());
  if (!target) {
    done(false, "handover refused: " + election_->lastTransferError(), "");
    return;
  }
  record(EventKind::Handover, cfg_.node.name, "handing over to " + *target);
  pendingHandover_ = PendingHandover{cfg_.node.name, now() + 2 * cfg_.election.electionTimeout.count(), std::move(done)};
  process();
}

void Driver::probeAllowlist(const std::string& node, std::function<void(pb::ProbeAllowlistResponse)> done) {
  pb::ProbeAllowlistResponse r;
  if (!node.empty() && node != cfg_.node.name) {
    r.set_verdict(pb::ALLOWLIST_UNKNOWN);
    r.set_detail("the probe runs on the node itself: ask " + node + "'s agent (its API endpoint is in the status)");
    done(r);
    return;
  }
  if (!prober_) {
    r.set_verdict(pb::ALLOWLIST_UNKNOWN);
    r.set_detail(cfg_.probe.target ? "no egress IP to probe from yet" : "no allowlist.probe.target configured");
    done(r);
    return;
  }
  // A probe waits up to its timeout: never on a gRPC thread or the loop.
  prober_->probeAsync([done = std::move(done)](const ProbeResult& res) {
    pb::ProbeAllowlistResponse out;
    out.set_verdict(codec::toProto(res.verdict));
    out.set_detail(res.detail);
    done(out);
  });
}

void Driver::startProber() {
  if (!cfg_.probe.target || !cfg_.node.candidate || !ports_.prober) return;
  std::optional<IpAddress> src = cfg_.node.egress.ip;
  if (!src && ports_.datapath) src = ports_.datapath->egressIp();
  if (!src) return;  // retried on the next tick
  auto* executor = ports_.executor;
  prober_ = ports_.prober(*src, [this, executor](const ProbeResult& r) { executor->post([this, r] { onProbe(r); }); });
  if (prober_) prober_->start();
}

void Driver::stopProber() {
  if (prober_) prober_->stop();
}

void Driver::onProbe(const ProbeResult& result) {
  if (result.seq != 0 && result.seq <= probe_.seq) return;  // already seen (or older)
  const Time t = now();
  ProbeResult r = silentDropVerdict(result, view_.reachers(t));
  const bool changed = r.verdict != probe_.verdict;
  probe_ = r;
  if (changed) {
    record(EventKind::AllowlistChanged, cfg_.node.name,
           std::string("allowlist probe: ") + std::string(verdictName(r.verdict)) + ": " + r.detail);
    if (r.verdict == AllowlistVerdict::Rejected && election_->role() == Role::Master) {
      if (view_.verifiedAlternative(t))
        log_->warn("{}: the external service rejects our egress IP: handing over", cfg_.node.name);
      else
        log_->error("{}: the external service rejects our egress IP and no other candidate is verified: "
                    "staying master (traffic through us is refused by the service)",
                    cfg_.node.name);
    }
  }
  updateEligibility(t);
  publishState();
}

std::string Driver::reload(const Config& next) {
  auto plan = planReload(cfg_, next);
  if (plan.priority) {
    priority_ = *plan.priority;
    cfg_.node.priority = priority_;
    election_->setPriority(priority_);
  }
  if (plan.candidate) {
    cfg_.node.candidate = *plan.candidate;
    persisted_.candidacy = initialCandidacy(cfg_.node.candidate, cfg_.isVoter());
    if (auto st = ports_.state->save(persisted_); !st)
      log_->error("{}: reload: cannot persist candidacy: {}", cfg_.node.name, st.error());
  }
  updateEligibility(now());
  publishState();
  return plan.summary();
}

void Driver::shutdown(std::function<void()> done) {
  stopping_ = true;
  if (election_->role() != Role::Master) {
    finishShutdown(std::move(done));
    return;
  }
  // A master hands over first, so maintenance costs one round trip, not an election timeout.
  auto target = election_->transferLeadership("", now());
  if (!target) {
    log_->warn("{}: shutting down as master with no healthy candidate to hand over to: {}", cfg_.node.name,
               election_->lastTransferError());
    finishShutdown(std::move(done));
    return;
  }
  log_->info("{}: shutting down: handing over to {}", cfg_.node.name, *target);
  record(EventKind::Handover, cfg_.node.name, "shutdown: handing over to " + *target);
  process();
  pendingHandover_ = PendingHandover{
      cfg_.node.name, now() + 2 * cfg_.election.electionTimeout.count(),
      [this, done = std::move(done)](bool ok, std::string, std::string) mutable {
        if (!ok) {
          finishShutdown(std::move(done));
          return;
        }
        // Once our table is gone, selected traffic that still reaches us (a worker that has not
        // yet heard of the new master routes it here) is no longer marked: it would leave
        // through our egress interface by the main table, unSNATed. So we stay a follower,
        // forwarding to the new master, until every member reports following it, or for at
        // most two election timeouts (docs/datapath.md).
        const Time t = now();
        drain_ = Drain{t, t + 2 * cfg_.election.electionTimeout.count() + 2 * reportInterval(), std::move(done)};
      }};
}

void Driver::checkDrain(Time t) {
  if (!drain_) return;
  const auto waiting = view_.routingThroughUs(election_->master());
  const Time waited = t - drain_->start;
  if (waiting.empty()) {
    log_->info("{}: shutting down: no node routes through us any more ({} ms after the handover)", cfg_.node.name, waited);
  } else if (t >= drain_->deadline) {
    std::string names;
    for (const auto& n : waiting) names += (names.empty() ? "" : ", ") + n;
    log_->warn("{}: shutting down although {} still route through us after {} ms: their selected traffic is "
               "dropped or leaves unSNATed until they hear of the new master",
               cfg_.node.name, names, waited);
  } else {
    return;
  }
  auto done = std::move(drain_->done);
  drain_.reset();
  finishShutdown(std::move(done));
}

void Driver::finishShutdown(std::function<void()> done) {
  if (election_->role() == Role::Master) election_->stepDown(now());
  process();
  record(EventKind::NodeStopped, cfg_.node.name, "agent stopped");
  // Hand our latest events (the handover, the stop) to the others before we go.
  sendStatusReport();
  done();
}

}  // namespace egw
