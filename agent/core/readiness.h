#pragma once
// Readiness and liveness of an agent, as pure functions of what the loop thread knows. Served as
// GET /readyz and /livez on the metrics listener (Kubernetes probes, load balancers, scripts).
//
// Ready means "this node does its part for the gateway right now":
//  - the loop thread ran recently (the figures below are fresh);
//  - it has a current view of the cluster: it is the master and holds a lease acked by a voter
//    majority, or it follows a master it heard from within the election timeout (the election
//    clears master() when heartbeats stop);
//  - the kernel holds the datapath for that role: the last state the driver asked for is applied
//    (no switch pending) and the last apply/reconcile succeeded.
// With --no-datapath the last point is skipped and the reason says so.
// Live means only that the loop thread is not stuck; a node without a master is live.
#include <cstdint>
#include <string>

#include "agent/core/election.h"

namespace egw {

struct ReadinessInputs {
  std::string self;
  Role role = Role::Follower;
  std::string master;                // known master of `term`, empty if none
  std::uint64_t term = 0;
  bool leaseValid = false;           // master only: lease acked by a voter majority
  bool datapathEnabled = true;       // false with --no-datapath
  bool datapathInSync = false;       // the kernel holds the state for the current role
  std::string datapathProblem;       // why not, when known (apply error)
  std::int64_t loopAgeMs = 0;        // since the loop thread last ran (filled at read time)
  std::int64_t electionTimeoutMs = 300;
};

struct ProbeVerdict {
  bool ok = false;
  std::string reason;  // one line: why (not) ready / live
};

ProbeVerdict evaluateReadiness(const ReadinessInputs& in);

// Live unless the loop thread has not run for livenessStallMs(electionTimeoutMs).
ProbeVerdict evaluateLiveness(std::int64_t loopAgeMs, std::int64_t electionTimeoutMs);
// Generous on purpose: a liveness failure restarts the agent (a failover if it is master), so
// only a loop that is really stuck may trip it, not a slow disk or a loaded machine.
std::int64_t livenessStallMs(std::int64_t electionTimeoutMs);

}  // namespace egw
