#include "agent/datapath/datapath_worker.h"

#include "egw/log.h"

namespace egw {

namespace {

using Clock = std::chrono::steady_clock;

bool sameHealth(const HealthInputs& a, const HealthInputs& b) {
  return a.egressInterfaceUp == b.egressInterfaceUp && a.egressIpPresent == b.egressIpPresent &&
         a.datapathApplied == b.datapathApplied && a.allowlistRejected == b.allowlistRejected &&
         a.hostProblems == b.hostProblems && a.lastApplyError == b.lastApplyError;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

}  // namespace

DatapathWorker::DatapathWorker(std::unique_ptr<Datapath> datapath, Listener listener, Options options)
    : dp_(std::move(datapath)), listener_(std::move(listener)), opt_(options) {
  health_ = dp_->health();
  egressIp_ = dp_->egressIp();
  thread_ = std::thread([this] { run(); });
}

DatapathWorker::~DatapathWorker() { stop(false); }

void DatapathWorker::submit(DesiredState state) {
  {
    std::lock_guard lk(mu_);
    latestRole_ = state.role;
    // A refresh queued before a step-down must not run after it was decided.
    if (state.role != DatapathRole::Master) pendingLease_.reset();
    pending_ = std::move(state);
    pendingAt_ = Clock::now();
  }
  cv_.notify_one();
}

void DatapathWorker::refreshLease(Millis lease) {
  {
    std::lock_guard lk(mu_);
    if (latestRole_ != DatapathRole::Master) return;
    pendingLease_ = Clock::now() + lease;
  }
  cv_.notify_one();
}

HealthInputs DatapathWorker::health() const {
  std::lock_guard lk(mu_);
  return health_;
}

std::vector<RuleCounter> DatapathWorker::counters() const {
  std::lock_guard lk(mu_);
  return counters_;
}

std::optional<IpAddress> DatapathWorker::egressIp() const {
  std::lock_guard lk(mu_);
  return egressIp_;
}

std::optional<DesiredState> DatapathWorker::applied() const {
  std::lock_guard lk(mu_);
  return applied_;
}

void DatapathWorker::stop(bool removeAll) {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    removeAll_ = removeAll_ || removeAll;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void DatapathWorker::notify(const DatapathEvent& e) {
  if (listener_) listener_(e);
}

void DatapathWorker::run() {
  auto logger = log::get("datapath");
  auto nextTick = Clock::now() + opt_.reconcileInterval;
  for (;;) {
    std::optional<DesiredState> state;
    std::optional<Clock::time_point> lease;
    Clock::time_point stateAt{};
    {
      std::unique_lock lk(mu_);
      cv_.wait_until(lk, nextTick, [&] { return stopping_ || pending_ || pendingLease_; });
      if (stopping_) break;
      state = std::exchange(pending_, std::nullopt);
      stateAt = pendingAt_;
      lease = std::exchange(pendingLease_, std::nullopt);
    }
    // The lease first: it is the latency-critical one and costs a fraction of a millisecond.
    if (lease) {
      // What is left of the lease now (0 ends it), not what was left when it was queued.
      const auto left = std::max(Millis{0}, std::chrono::duration_cast<Millis>(*lease - Clock::now()));
      auto e = dp_->refreshLease(left);
      if (e.kind != DatapathErrorKind::None) {
        logger->warn("{}: lease refresh failed: {}", opt_.node, e.message);
        DatapathEvent ev;
        ev.kind = DatapathEvent::Kind::LeaseRefreshFailed;
        ev.error = e;
        notify(ev);
      }
    }
    if (state) {
      auto t0 = Clock::now();
      // A master state carries its lease length as of submit(): apply only what is left of it.
      DesiredState now = *state;
      if (now.role == DatapathRole::Master)
        now.lease = std::max(Millis{0}, now.lease - std::chrono::duration_cast<Millis>(t0 - stateAt));
      auto e = dp_->apply(now);
      DatapathEvent ev;
      ev.kind = DatapathEvent::Kind::Applied;
      ev.error = e;
      ev.state = *state;
      ev.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
      if (e.kind == DatapathErrorKind::None) {
        logger->info("{}: applied {} in {} us", opt_.node, roleName(state->role), ev.duration.count());
        std::lock_guard lk(mu_);
        applied_ = *state;
      }
      notify(ev);
    }
    if (Clock::now() >= nextTick) {
      tick();
      nextTick = Clock::now() + opt_.reconcileInterval;
    }
  }
  if (removeAll_) {
    auto e = dp_->removeAll();
    if (e.kind != DatapathErrorKind::None) logger->error("{}: remove on shutdown: {}", opt_.node, e.message);
    else logger->info("{}: removed the datapath", opt_.node);
  }
}

void DatapathWorker::tick() {
  auto logger = log::get("datapath");
  auto rep = dp_->reconcile();
  if (!rep.ok()) {
    logger->error("{}: reconcile failed: {}", opt_.node, rep.error());
    DatapathEvent ev;
    ev.kind = DatapathEvent::Kind::ReconcileFailed;
    ev.error = {DatapathErrorKind::Kernel, rep.error()};
    notify(ev);
  } else if (!rep->empty()) {
    logger->warn("{}: drift repaired: {}", opt_.node, join(*rep));
    DatapathEvent ev;
    ev.kind = DatapathEvent::Kind::DriftRepaired;
    ev.repaired = *rep;
    notify(ev);
  }
  auto h = dp_->health();
  auto ip = dp_->egressIp();
  auto c = dp_->counters();
  bool changed = false;
  {
    std::lock_guard lk(mu_);
    changed = !sameHealth(h, health_);
    health_ = h;
    egressIp_ = ip;
    if (c.ok()) counters_ = *c;
  }
  if (changed) {
    DatapathEvent ev;
    ev.kind = DatapathEvent::Kind::HealthChanged;
    ev.health = h;
    notify(ev);
  }
}

}  // namespace egw
