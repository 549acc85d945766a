#pragma once
// The ports the agent driver (agent/node/driver.*) talks through. Each has one real
// implementation in its own library and fakes in tests/fakes/ and the in-process SimCluster:
//
//   port            real implementation                          thread it calls back on
//   Clock           SteadyClock (agent/node/loop.*)               -
//   Executor        EventLoop (agent/node/loop.*)                 -
//   PeerTransport   PeerClients (agent/peer/peer_transport.*)     - (fire and forget)
//   AgentDatapath   makeKernelDatapath (agent/datapath/)          the datapath worker
//   Prober          AllowlistProber (agent/probe/)                the prober's thread
//   DurableState    StateStore (agent/store/state_store.*)        - (synchronous, fsync)
//
// Callbacks from other threads never touch the driver: the composition (agent/node/agent.*)
// posts them to the Executor.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/core/election.h"
#include "agent/core/health.h"
#include "agent/core/persistent_state.h"
#include "agent/core/probe_result.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/config.h"
#include "egw/ip.h"
#include "egw/result.h"

namespace egw {

namespace ports {

using Time = election::Time;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Time now() const = 0;             // monotonic, ms
  virtual std::int64_t wallMs() const = 0;  // ms since the Unix epoch
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` on the driver's thread after the tasks posted before it. False once the loop
  // has ended: the task is dropped, and the caller answers whoever waits on it.
  virtual bool post(std::function<void()> task) = 0;
};

class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Fire and forget: the message may be lost, late, or dropped when too many are in flight.
  // msg.to() names the node, `endpoint` is where it listens. With TLS the receiver's certificate
  // must be valid for `serverName`, or for msg.to() when it is empty (a worker holding the
  // shared observer certificate says "observer" in its status: NodeStatus.tls_name).
  virtual void send(const std::string& endpoint, egressgw::v1::ElectionMessage msg, const std::string& serverName) = 0;
};

class Prober {
 public:
  using Done = std::function<void(const ProbeResult&)>;
  virtual ~Prober() = default;
  // Periodic probes; each result goes to the callback the prober was made with.
  virtual void start() = 0;
  // Joins the prober's threads; afterwards no callback runs. Pending probeAsync calls are answered.
  virtual void stop() = 0;
  // One probe now (an operator asked), off the calling thread; `done` runs on a prober thread.
  virtual void probeAsync(Done done) = 0;
};
// Makes a prober for `source` (the node's egress IP); nullptr when the config has no target.
using ProberFactory = std::function<std::shared_ptr<Prober>(const IpAddress& source, Prober::Done periodic)>;

class DurableState {
 public:
  virtual ~DurableState() = default;
  virtual Result<LoadedState> load() = 0;
  // Durable before it returns (fsync): a vote is sent only after its save succeeded.
  virtual Status save(const PersistentState& s) = 0;
};

}  // namespace ports

// The datapath as the driver sees it: the driver says who is master, the datapath (on its own
// worker thread) makes the kernel match and reports back.
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

}  // namespace egw
