#pragma once
// What the Cluster API service needs from the agent. The agent (agent/node/agent.*) implements it;
// tests use a fake. Keeps ClusterService free of any knowledge of the election or datapath.
#include <functional>
#include <string>

#include "egressgw/v1/cluster.pb.h"

namespace egw {

class ClusterBackend {
 public:
  virtual ~ClusterBackend() = default;

  // The current cluster view as this agent sees it. Thread-safe; called from gRPC threads.
  virtual egressgw::v1::ClusterState snapshot() const = 0;

  // Requests. The arguments are validated by the service (node names match [a-z0-9-]{1,63};
  // force only with enable). `done` must be called exactly once, from any thread, possibly
  // before the call returns; the service answers DEADLINE_EXCEEDED if it is not called within
  // ClusterService::Limits::backendTimeout, and ignores a later call.
  // reason: the operator's note (e.g. a manual allowlist confirmation), journaled with the change.
  virtual void setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason,
                            std::function<void(bool ok, std::string message)> done) = 0;
  // to: empty = the best healthy candidate.
  virtual void handover(const std::string& to,
                        std::function<void(bool ok, std::string message, std::string newMaster)> done) = 0;
  // node: empty = this agent.
  virtual void probeAllowlist(const std::string& node,
                              std::function<void(egressgw::v1::ProbeAllowlistResponse)> done) = 0;
};

}  // namespace egw
