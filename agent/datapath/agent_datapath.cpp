#include "agent/datapath/agent_datapath.h"

#include <mutex>

#include "agent/datapath/datapath_worker.h"
#include "agent/datapath/nft_datapath.h"

namespace egw {
namespace {

// Adapts the datapath worker to what the driver needs: who is master, lease refreshes, and
// health/counter snapshots. Counters are split by rule comment: "snat" is traffic this node
// SNATed as master; "mark-*" is traffic selected here.
class KernelDatapath final : public AgentDatapath {
 public:
  KernelDatapath(std::unique_ptr<Datapath> dp, std::function<void(DatapathReport)> report, const std::string& node)
      : report_(std::move(report)),
        worker_(std::move(dp), [this](const DatapathEvent& e) { onEvent(e); }, DatapathWorker::Options{Millis(250), node}) {}

  void setRole(Role role, std::optional<IpAddress> masterAddress, std::int64_t leaseMs) override {
    DesiredState s;
    s.role = role == Role::Master ? DatapathRole::Master : role == Role::Follower ? DatapathRole::Follower : DatapathRole::NoMaster;
    s.masterAddress = masterAddress;
    s.lease = Millis(std::max<std::int64_t>(0, leaseMs));
    {
      std::lock_guard lock(mu_);
      // A new lease length alone is a refresh, not a new state (the worker refreshes in place).
      if (last_ && last_->role == s.role && last_->masterAddress == s.masterAddress && s.role == DatapathRole::Master) {
        worker_.refreshLease(s.lease);
        return;
      }
      last_ = s;
      switchStarted_ = std::chrono::steady_clock::now();
      switching_ = true;
    }
    worker_.submit(s);
  }

  void refreshLease(std::int64_t remainingMs) override { worker_.refreshLease(Millis(remainingMs)); }
  HealthInputs health() const override { return worker_.health(); }
  std::optional<IpAddress> egressIp() const override { return worker_.egressIp(); }
  bool inSync() const override {
    {
      std::lock_guard lock(mu_);
      if (!last_ || switching_) return false;
    }
    return worker_.health().datapathApplied;
  }

  TrafficCounters counters() const override {
    TrafficCounters c;
    for (const auto& r : worker_.counters()) {
      if (r.rule == "snat") {
        c.snatPackets += r.packets;
        c.snatBytes += r.bytes;
      } else if (r.rule.rfind("mark-", 0) == 0) {
        c.markedPackets += r.packets;
        c.markedBytes += r.bytes;
      }
    }
    return c;
  }

  void stop(bool removeAll) override { worker_.stop(removeAll); }

 private:
  void onEvent(const DatapathEvent& e) {
    DatapathReport r;
    switch (e.kind) {
      case DatapathEvent::Kind::Applied: {
        r.durationUs = e.duration.count();
        if (e.error.kind != DatapathErrorKind::None) {
          r.kind = DatapathReport::Kind::ApplyFailed;
          r.detail = "apply " + roleName(e.state.role) + " failed: " + e.error.message;
        } else {
          r.kind = DatapathReport::Kind::Applied;
          std::lock_guard lock(mu_);
          if (switching_ && last_ && e.state.role == last_->role && e.state.masterAddress == last_->masterAddress) {
            switching_ = false;
            auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - switchStarted_);
            r.detail = "datapath switched to " + roleName(e.state.role) +
                       (e.state.masterAddress ? " via " + e.state.masterAddress->str() : std::string()) + " in " +
                       std::to_string(ms.count() / 1000.0).substr(0, 5) + " ms (kernel apply " +
                       std::to_string(e.duration.count()) + " us)";
          }
        }
        break;
      }
      case DatapathEvent::Kind::LeaseRefreshFailed:
        r.kind = DatapathReport::Kind::ApplyFailed;
        r.detail = "lease refresh failed: " + e.error.message;
        break;
      case DatapathEvent::Kind::DriftRepaired: {
        r.kind = DatapathReport::Kind::Repaired;
        for (const auto& l : e.repaired) r.detail += (r.detail.empty() ? "" : "; ") + l;
        break;
      }
      case DatapathEvent::Kind::ReconcileFailed:
        r.kind = DatapathReport::Kind::ApplyFailed;
        r.detail = "reconcile failed: " + e.error.message;
        break;
      case DatapathEvent::Kind::HealthChanged:
        r.kind = DatapathReport::Kind::HealthChanged;
        break;
    }
    report_(r);
  }

  std::function<void(DatapathReport)> report_;
  mutable std::mutex mu_;
  std::optional<DesiredState> last_;
  bool switching_ = false;
  std::chrono::steady_clock::time_point switchStarted_;
  DatapathWorker worker_;  // last: stopped (joined) before the members above go away
};

}  // namespace

Result<std::unique_ptr<AgentDatapath>> makeKernelDatapath(const Config& cfg, std::function<void(DatapathReport)> report) {
  auto dp = NftDatapath::create(cfg);
  if (!dp) return Result<std::unique_ptr<AgentDatapath>>::failure(dp.error());
  std::unique_ptr<AgentDatapath> out = std::make_unique<KernelDatapath>(std::move(*dp), std::move(report), cfg.node.name);
  return out;
}

}  // namespace egw
