#pragma once
// What the agent driver needs from the datapath, as one small interface: the driver says who is
// master, the datapath (on its own worker thread) makes the kernel match and reports back.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/health.h"
#include "egw/config.h"

namespace egw {

struct DatapathReport {
  enum class Kind { Applied, ApplyFailed, Repaired, HealthChanged };
  Kind kind = Kind::Applied;
  std::string detail;
  std::int64_t durationUs = 0;
};

struct TrafficCounters {
  std::uint64_t snatPackets = 0, snatBytes = 0;      // SNATed by this node (as master)
  std::uint64_t markedPackets = 0, markedBytes = 0;  // selected here and sent to the gateway
};

class AgentDatapath {
 public:
  enum class Role { NoMaster, Follower, Master };
  virtual ~AgentDatapath() = default;
  // Non-blocking: the latest call wins.
  virtual void setRole(Role role, std::optional<IpAddress> masterAddress, std::int64_t leaseMs) = 0;
  // Non-blocking: the kernel lease element is refreshed to end `remainingMs` from now.
  virtual void refreshLease(std::int64_t remainingMs) = 0;
  virtual HealthInputs health() const = 0;
  virtual TrafficCounters counters() const = 0;
  virtual std::optional<IpAddress> egressIp() const = 0;
  // True when the last setRole() is applied in the kernel (no switch pending) and the last
  // apply/reconcile succeeded: what /readyz calls "programmed for the current role".
  virtual bool inSync() const = 0;
  // Blocks until the worker stopped; removes our table, rules, routes and VIP when asked.
  virtual void stop(bool removeAll) = 0;
};

// The real one (nftables + netlink on a worker thread). `report` is called from the worker.
Result<std::unique_ptr<AgentDatapath>> makeKernelDatapath(const Config& cfg, std::function<void(DatapathReport)> report);

}  // namespace egw
