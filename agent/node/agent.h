#pragma once
// The agent as a process runs it: the driver (agent/node/driver.*) composed with its real ports
// (loop thread and clock, gRPC peer transport, kernel datapath, allowlist prober, state file,
// event journal) and the listeners (Peer and Cluster gRPC services, metrics HTTP). Owns the
// threads; the driver's state is touched only on the loop thread. gRPC threads post tasks.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "agent/api/cluster_backend.h"
#include "agent/api/metrics_server.h"
#include "agent/node/driver.h"
#include "agent/node/loop.h"
#include "agent/security/auth.h"
#include "egressgw/v1/cluster.pb.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/config.h"
#include "egw/log.h"
#include "egw/result.h"

namespace grpc {
class Server;
class Status;
}  // namespace grpc

namespace egw {

class PeerService;
class PeerClients;
class EventStore;
class ClusterService;
class StateStore;

struct AgentOptions {
  bool noDatapath = false;
};

class Agent final : public ClusterBackend, private DriverSink {
 public:
  Agent(Config cfg, AgentOptions opts);
  ~Agent() override;

  // Loads durable state, opens the journal, starts listeners and the loop. Fails with a message
  // that names what could not be done (bind address, state_dir, datapath).
  Status start();
  // SIGTERM: the driver's shutdown (a master hands over and drains first), then everything
  // stops and the datapath is removed. Blocks until done.
  void shutdown();
  // SIGHUP: applies what can change safely (priority, candidacy) and refuses the rest by key.
  // Returns a summary of what was applied and refused.
  std::string reload(const Config& next);

  // Bound ports (after start), useful when the config asks for port 0.
  int peerPort() const { return peerPort_; }
  int apiPort() const { return apiPort_; }

  // ClusterBackend (any thread)
  egressgw::v1::ClusterState snapshot() const override;
  void setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason,
                    std::function<void(bool, std::string)> done) override;
  void handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) override;
  void probeAllowlist(const std::string& node, std::function<void(egressgw::v1::ProbeAllowlistResponse)> done) override;

 private:
  // DriverSink (loop thread)
  void publish(PublishedState& s) override;
  void failoverGap(std::int64_t ms) override;
  // The state's bytes without the nodes' wall_time_ms (which changes with every publish): equal
  // keys, nothing for a Watch stream to tell. `state` is left as it was.
  static std::string comparisonKey(egressgw::v1::ClusterState& state);

  std::string onPeerMessage(egressgw::v1::ElectionMessage&& m);  // a gRPC thread
  grpc::Status admitPeer(const egressgw::v1::ElectionMessage& m, const auth::Identity& who) const;  // TLS; any thread
  MetricsFigures metricsSnapshot() const;                        // the HTTP thread
  std::string advertised(const Endpoint& e, int boundPort) const;
  Status lockStateDir();

  Config cfg_;
  AgentOptions opts_;
  std::shared_ptr<spdlog::logger> log_;
  int lockFd_ = -1;  // flock on state_dir/lock

  SteadyClock clock_;
  EventLoop loop_{clock_};
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<EventStore> events_;
  std::unique_ptr<AgentDatapath> datapath_;
  std::unique_ptr<PeerClients> peers_;
  std::unique_ptr<Driver> driver_;

  // Published by the driver (loop thread), read by the others.
  mutable std::mutex snapMu_;
  egressgw::v1::ClusterState snapshot_;
  std::string snapshotKey_;  // loop thread: comparisonKey(snapshot_)
  mutable std::mutex knownMu_;
  std::set<std::string> knownPeers_;  // voters and joined members, for admitPeer
  std::set<std::string> standing_;    // voters and candidates: no observer certificate speaks for them
  mutable std::mutex metricsMu_;
  std::uint64_t metricsFailovers_ = 0;
  Histogram metricsGaps_ = Histogram::failoverGapSeconds();
  std::map<std::string, std::uint64_t> metricsMessages_;
  ReadinessInputs metricsReadiness_;

  std::unique_ptr<PeerService> peerService_;
  std::unique_ptr<grpc::Server> peerServer_;
  std::unique_ptr<grpc::Server> apiServer_;
  std::unique_ptr<ClusterService> clusterService_;
  std::unique_ptr<MetricsServer> metrics_;
  int peerPort_ = 0;
  int apiPort_ = 0;
};

}  // namespace egw
