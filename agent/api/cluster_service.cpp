#include "agent/api/cluster_service.h"

#include <atomic>
#include <cstdio>
#include <optional>
#include <utility>

#include "egw/log.h"
#include "agent/security/grpc_util.h"

namespace egw {

namespace v1 = egressgw::v1;
using Clock = std::chrono::steady_clock;

namespace {

// Node names as config.cpp accepts them: 1-63 of [a-z0-9-], starting and ending alphanumeric.
bool validNodeName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  for (char c : s)
    if (!alnum(c) && c != '-') return false;
  return alnum(s.front()) && alnum(s.back());
}

grpc::Status invalid(const std::string& field, const std::string& what) {
  return {grpc::StatusCode::INVALID_ARGUMENT, field + ": " + what};
}

grpc::Status checkNodeField(const std::string& field, const std::string& value, bool required) {
  if (value.empty()) return required ? invalid(field, "required") : grpc::Status::OK;
  if (!validNodeName(value))
    return invalid(field, "must be 1-63 characters of [a-z0-9-], starting and ending alphanumeric; got '" +
                              value.substr(0, 80) + "'");
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* finishNow(grpc::CallbackServerContext* ctx, const grpc::Status& st) {
  auto* r = ctx->DefaultReactor();
  r->Finish(st);
  return r;
}

// A Watch refused before it started (stream cap, shutting down).
class RejectReactor final : public grpc::ServerWriteReactor<v1::WatchUpdate> {
 public:
  explicit RejectReactor(const grpc::Status& st) { Finish(st); }
  void OnDone() override { delete this; }
};

}  // namespace

// A backend call in flight: whoever flips `finished` first (the backend's done, the timeout, or
// shutdown) answers the RPC; the others do nothing. `reactor` and the response stay valid until
// Finish is called.
struct ClusterService::Pending {
  std::atomic<bool> finished{false};
  grpc::ServerUnaryReactor* reactor = nullptr;
  std::string what;  // for the timeout message
  bool claim() { return !finished.exchange(true); }
};

class ClusterService::WatchReactor final : public grpc::ServerWriteReactor<v1::WatchUpdate> {
 public:
  // `snapshot` is version `version` of the service's StateVersions.
  WatchReactor(ClusterService* svc, std::string peer, std::uint64_t cursor, bool deltas, std::uint64_t version,
               std::shared_ptr<const v1::ClusterState> snapshot)
      : svc_(svc), peer_(std::move(peer)), cursor_(cursor), deltas_(deltas), version_(version),
        pendingSnapshot_(std::move(snapshot)) {}
  const std::string& peer() const { return peer_; }

  // A new version was published; latest wins. Called by the worker with svc->mu_ held.
  void offerState() {
    {
      std::lock_guard lk(m_);
      statePending_ = true;
    }
    pump();
  }
  void pump() {
    bool write = false;
    {
      std::lock_guard lk(m_);
      if (writing_ || finished_) return;
      msg_.Clear();
      if (finishRequested_) {
        finished_ = true;
      } else if (pendingSnapshot_) {
        *msg_.mutable_snapshot() = *pendingSnapshot_;
        pendingSnapshot_.reset();
      } else if (std::exchange(statePending_, false) && nextState()) {
        // msg_ holds the state update
      } else {
        auto next = svc_->events_.since(cursor_, 1);
        if (next.empty()) return;
        *msg_.mutable_event() = std::move(next.front().event);
        cursor_ = next.front().cursor;
      }
      if (!finished_) {
        msg_.set_cursor(cursor_);
        writing_ = write = true;
      }
    }
    // Not under m_: gRPC never runs OnWriteDone/OnDone inline from StartWrite/Finish, but
    // keeping our lock out of its calls makes that irrelevant.
    if (write) {
      StartWrite(&msg_);
    } else {
      Finish(finishStatus_);
    }
  }
  // Ends the stream after the write in flight, if any.
  void requestFinish(const grpc::Status& st) {
    {
      std::lock_guard lk(m_);
      if (finishRequested_ || finished_) return;
      finishRequested_ = true;
      finishStatus_ = st;
    }
    pump();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard lk(m_);
      writing_ = false;
    }
    // A broken write ends the stream. If a finish was already requested (OnCancel during the
    // write: the usual order when a client goes away), requestFinish is a no-op and this pump
    // is what finally calls Finish; without it the stream would never end (and server shutdown
    // would wait for it forever).
    if (!ok) requestFinish({grpc::StatusCode::UNAVAILABLE, "stream broken"});
    pump();
  }
  void OnCancel() override {
    // The client is gone: its slot under the per-client cap is free now, not only once gRPC
    // gets round to OnDone (a client polling with short streams would otherwise hit the cap).
    svc_->releaseSlot(this);
    requestFinish(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    svc_->unregister(this);
    delete this;
  }

 private:
  // Puts the state update that takes the client from version_ to the latest into msg_; false when
  // it already has the latest. With m_ held.
  bool nextState() {
    std::shared_ptr<const v1::ClusterState> whole;
    {
      std::lock_guard lk(svc_->versionsMu_);
      const std::uint64_t latest = svc_->versions_.version();
      if (latest == version_) return false;
      std::optional<v1::ClusterDelta> delta;
      if (deltas_) delta = svc_->versions_.deltaSince(version_);
      version_ = latest;
      if (delta) {
        *msg_.mutable_delta() = std::move(*delta);
        return true;
      }
      whole = svc_->versions_.whole();
    }
    *msg_.mutable_state() = *whole;  // the big copy without the versions' lock
    return true;
  }

  ClusterService* const svc_;
  const std::string peer_;
  std::mutex m_;
  std::uint64_t cursor_;
  const bool deltas_;
  std::uint64_t version_;  // of the state the client holds
  std::shared_ptr<const v1::ClusterState> pendingSnapshot_;
  // True at first: a version the worker offered before Watch registered this stream would
  // otherwise wait for the next change. nextState() finds out whether there is one.
  bool statePending_ = true;
  bool writing_ = false, finishRequested_ = false, finished_ = false;
  grpc::Status finishStatus_;
  v1::WatchUpdate msg_;  // alive until OnWriteDone
};

ClusterService::ClusterService(ClusterBackend& backend, EventStore& events) : ClusterService(backend, events, Limits{}) {}

ClusterService::ClusterService(ClusterBackend& backend, EventStore& events, Limits limits)
    : backend_(backend),
      events_(events),
      limits_(limits),
      watchCount_(limits.maxWatchPerPeer, limits.maxWatchTotal),
      mutatingRate_(limits.mutatingPerSecond, limits.mutatingBurst),
      refusalLogRate_(1.0, 5.0) {
  subscription_ = events_.subscribe([this](const EventStore::Entry&) {
    {
      std::lock_guard lk(sigMu_);
      eventsDirty_ = true;
    }
    sigCv_.notify_one();
  });
  worker_ = std::thread([this] { workerLoop(); });
}

ClusterService::~ClusterService() { shutdown(); }

void ClusterService::notifyStateChanged() {
  {
    std::lock_guard lk(sigMu_);
    stateDirty_ = true;
  }
  sigCv_.notify_one();
}

void ClusterService::workerLoop() {
  std::unique_lock lk(sigMu_);
  for (;;) {
    auto woken = [&] { return stopWorker_ || stateDirty_ || eventsDirty_ || deadlinesChanged_; };
    if (deadlines_.empty())
      sigCv_.wait(lk, woken);
    else
      sigCv_.wait_until(lk, deadlines_.begin()->first, woken);
    if (stopWorker_) return;
    deadlinesChanged_ = false;
    bool state = std::exchange(stateDirty_, false);
    bool events = std::exchange(eventsDirty_, false);
    std::vector<std::shared_ptr<Pending>> expired;
    auto now = Clock::now();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      expired.push_back(deadlines_.begin()->second);
      deadlines_.erase(deadlines_.begin());
    }
    lk.unlock();

    for (auto& p : expired)
      if (p->claim())
        p->reactor->Finish({grpc::StatusCode::DEADLINE_EXCEEDED,
                            p->what + ": the agent did not answer within " +
                                std::to_string(limits_.backendTimeout.count()) + " ms"});
    if (state || events) {
      bool offer = false;
      if (state) {
        v1::ClusterState snap = backend_.snapshot();  // no lock of ours held
        std::lock_guard vlk(versionsMu_);
        // Two notifications read before the worker woke can yield the same state twice: publish()
        // makes a version only of a change, and each version is offered once. Watch may have
        // published one since.
        versions_.publish(std::move(snap));
        offer = versions_.version() != offered_;
        offered_ = versions_.version();
      }
      if (!offer && !events) {
        lk.lock();
        continue;
      }
      std::lock_guard slk(mu_);
      for (auto* r : streams_) {
        if (offer)
          r->offerState();
        else
          r->pump();
      }
    }
    lk.lock();
  }
}

void ClusterService::unregister(WatchReactor* r) {
  std::lock_guard lk(mu_);
  streams_.erase(r);
  if (counted_.erase(r)) watchCount_.release(r->peer());
  if (streams_.empty()) streamsGone_.notify_all();
}

void ClusterService::releaseSlot(WatchReactor* r) {
  std::lock_guard lk(mu_);
  if (counted_.erase(r)) watchCount_.release(r->peer());
}

std::size_t ClusterService::activeWatches() const {
  std::lock_guard lk(mu_);
  return streams_.size();
}

void ClusterService::shutdown() {
  {
    std::unique_lock lk(mu_);
    if (!stopping_) {
      stopping_ = true;
      for (auto* r : streams_) r->requestFinish({grpc::StatusCode::UNAVAILABLE, "agent shutting down"});
    }
    // OnDone needs the server's threads; if the server is already gone they never come.
    streamsGone_.wait_for(lk, std::chrono::seconds(5), [&] { return streams_.empty(); });
  }
  std::multimap<Clock::time_point, std::shared_ptr<Pending>> pending;
  {
    std::lock_guard lk(sigMu_);
    stopWorker_ = true;
    pending.swap(deadlines_);
  }
  sigCv_.notify_one();
  if (worker_.joinable()) worker_.join();
  for (auto& [t, p] : pending)
    if (p->claim()) p->reactor->Finish({grpc::StatusCode::UNAVAILABLE, "agent shutting down"});
  if (subscription_) {
    events_.unsubscribe(subscription_);
    subscription_ = 0;
  }
}

grpc::Status ClusterService::authorize(const auth::Identity& who, auth::ApiAccess access, const std::string& what) {
  auto st = auth::authorizeApi(who, access, what, certificatesRequired_);
  if (!st.ok()) {
    bool logIt;
    {
      std::lock_guard lk(rateMu_);
      logIt = refusalLogRate_.take(who.key(), Clock::now());
    }
    if (logIt) log::get("api")->warn("{} ({}): refused {}: {}", who.describe(), who.address, what, st.error_message());
  }
  return st;
}

void ClusterService::arm(const std::shared_ptr<Pending>& p) {
  {
    std::lock_guard lk(sigMu_);
    deadlines_.emplace(Clock::now() + limits_.backendTimeout, p);
    deadlinesChanged_ = true;
  }
  sigCv_.notify_one();
}

grpc::ServerWriteReactor<v1::WatchUpdate>* ClusterService::Watch(grpc::CallbackServerContext* ctx,
                                                                const v1::WatchRequest* req) {
  const auth::Identity who = auth::identify(*ctx);
  if (auto st = authorize(who, auth::ApiAccess::Read, "Watch"); !st.ok()) return new RejectReactor(st);
  const std::string peer = who.key();
  std::uint64_t since = req->since_seq();
  if (since > events_.lastCursor()) since = 0;  // not our cursor: replay everything (see header)
  // The snapshot is published first, so that the stream's deltas start from its exact version.
  v1::ClusterState current = backend_.snapshot();  // no lock of ours held
  std::uint64_t version;
  std::shared_ptr<const v1::ClusterState> initial;
  bool changed;
  {
    std::lock_guard vlk(versionsMu_);
    changed = versions_.publish(std::move(current));
    version = versions_.version();
    initial = versions_.whole();
  }
  if (changed) notifyStateChanged();  // the worker offers the new version to the other streams
  std::lock_guard lk(mu_);
  if (stopping_) return new RejectReactor({grpc::StatusCode::UNAVAILABLE, "agent shutting down"});
  switch (watchCount_.acquire(peer)) {
    case StreamCounter::Refusal::PerKey:
      return new RejectReactor({grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "too many Watch streams from " + who.describe() + ": at most " +
                                    std::to_string(limits_.maxWatchPerPeer) + " per client" +
                                    (who.certified ? " certificate" : " address")});
    case StreamCounter::Refusal::Total:
      return new RejectReactor({grpc::StatusCode::RESOURCE_EXHAUSTED,
                                "too many Watch streams: at most " + std::to_string(limits_.maxWatchTotal)});
    case StreamCounter::Refusal::None: break;
  }
  auto* r = new WatchReactor(this, peer, since, req->deltas(), version, std::move(initial));
  streams_.insert(r);
  counted_.insert(r);
  r->pump();  // the snapshot
  return r;
}

grpc::ServerUnaryReactor* ClusterService::ListEvents(grpc::CallbackServerContext* ctx,
                                                     const v1::ListEventsRequest* req, v1::ListEventsResponse* resp) {
  if (auto st = authorize(auth::identify(*ctx), auth::ApiAccess::Read, "ListEvents"); !st.ok()) return finishNow(ctx, st);
  std::uint32_t size = req->page_size() == 0 ? limits_.defaultPageSize : req->page_size();
  if (size > limits_.maxPageSize)
    return finishNow(ctx, invalid("page_size", "at most " + std::to_string(limits_.maxPageSize) + ", got " +
                                                   std::to_string(req->page_size())));
  const std::uint64_t last = events_.lastCursor();
  if (req->after_cursor() > last)
    return finishNow(ctx, invalid("after_cursor", std::to_string(req->after_cursor()) +
                                                      " is beyond this agent's last cursor " + std::to_string(last)));
  auto page = events_.since(req->after_cursor(), size);
  std::uint64_t next = req->after_cursor();
  for (auto& e : page) {
    next = e.cursor;
    resp->add_cursors(e.cursor);
    *resp->add_events() = std::move(e.event);
  }
  resp->set_next_cursor(next);
  resp->set_more(next < events_.lastCursor());
  return finishNow(ctx, grpc::Status::OK);
}

grpc::ServerUnaryReactor* ClusterService::mutating(grpc::CallbackServerContext* ctx, const std::string& what,
                                                   const std::function<void(const std::shared_ptr<Pending>&)>& call) {
  const auth::Identity who = auth::identify(*ctx);
  const std::string peer = who.key();
  if (auto st = authorize(who, auth::ApiAccess::Mutate, what); !st.ok()) return finishNow(ctx, st);
  if (authorize_) {
    if (auto st = authorize_(*ctx, what); !st.ok()) {
      log::get("api")->warn("{}: refused {}: {}", who.describe(), what, st.error_message());
      return finishNow(ctx, st);
    }
  }
  double wait = 0;
  bool allowed;
  {
    std::lock_guard lk(rateMu_);
    allowed = mutatingRate_.take(peer, Clock::now());
    if (!allowed) wait = mutatingRate_.waitSeconds(peer, Clock::now());
  }
  if (!allowed) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%g changes or probes per second (burst %g)", limits_.mutatingPerSecond,
                  limits_.mutatingBurst);
    char retry[48];
    std::snprintf(retry, sizeof retry, "try again in %.1f s", wait);
    return finishNow(ctx, {grpc::StatusCode::RESOURCE_EXHAUSTED,
                           std::string("rate limit: at most ") + rate + " from " + who.describe() + "; " +
                               (wait >= 0 ? retry : "try again later")});
  }
  {
    std::lock_guard lk(mu_);
    if (stopping_) return finishNow(ctx, {grpc::StatusCode::UNAVAILABLE, "agent shutting down"});
  }
  auto p = std::make_shared<Pending>();
  p->reactor = ctx->DefaultReactor();
  p->what = what;
  log::get("api")->info("{}: {}", who.describe(), what);
  arm(p);
  call(p);
  return p->reactor;
}

grpc::ServerUnaryReactor* ClusterService::SetCandidacy(grpc::CallbackServerContext* ctx,
                                                       const v1::SetCandidacyRequest* req,
                                                       v1::SetCandidacyResponse* resp) {
  if (auto st = checkNodeField("node", req->node(), true); !st.ok()) return finishNow(ctx, st);
  if (req->force() && !req->enable()) return finishNow(ctx, invalid("force", "only valid with enable"));
  if (req->reason().size() > 512) return finishNow(ctx, invalid("reason", "at most 512 bytes"));
  for (unsigned char c : req->reason())
    if (c < 0x20 || c == 0x7f) return finishNow(ctx, invalid("reason", "must be one line of printable text"));
  std::string what = std::string(req->enable() ? "enable" : "disable") + " candidacy of " + req->node() +
                     (req->force() ? " (forced)" : "");
  return mutating(ctx, what, [&](const std::shared_ptr<Pending>& p) {
    backend_.setCandidacy(req->node(), req->enable(), req->force(), req->reason(), [p, resp](bool ok, std::string message) {
      if (!p->claim()) return;
      resp->set_ok(ok);
      resp->set_message(std::move(message));
      p->reactor->Finish(grpc::Status::OK);
    });
  });
}

grpc::ServerUnaryReactor* ClusterService::Handover(grpc::CallbackServerContext* ctx, const v1::HandoverRequest* req,
                                                   v1::HandoverResponse* resp) {
  if (auto st = checkNodeField("to", req->to(), false); !st.ok()) return finishNow(ctx, st);
  std::string what = "handover to " + (req->to().empty() ? std::string("the best candidate") : req->to());
  return mutating(ctx, what, [&](const std::shared_ptr<Pending>& p) {
    backend_.handover(req->to(), [p, resp](bool ok, std::string message, std::string newMaster) {
      if (!p->claim()) return;
      resp->set_ok(ok);
      resp->set_message(std::move(message));
      resp->set_new_master(std::move(newMaster));
      p->reactor->Finish(grpc::Status::OK);
    });
  });
}

grpc::ServerUnaryReactor* ClusterService::ProbeAllowlist(grpc::CallbackServerContext* ctx,
                                                         const v1::ProbeAllowlistRequest* req,
                                                         v1::ProbeAllowlistResponse* resp) {
  if (auto st = checkNodeField("node", req->node(), false); !st.ok()) return finishNow(ctx, st);
  std::string what = "allowlist probe of " + (req->node().empty() ? std::string("this agent") : req->node());
  return mutating(ctx, what, [&](const std::shared_ptr<Pending>& p) {
    backend_.probeAllowlist(req->node(), [p, resp](v1::ProbeAllowlistResponse r) {
      if (!p->claim()) return;
      *resp = std::move(r);
      p->reactor->Finish(grpc::Status::OK);
    });
  });
}

}  // namespace egw
