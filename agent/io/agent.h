#pragma once
// The agent driver: owns the election state machine and everything around it (timers, the Peer
// service and clients, durable state, the cluster view, events, the Cluster API, metrics and the
// datapath worker). One loop thread runs the state machine; gRPC threads only post tasks to it.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/election.h"
#include "core/health.h"
#include "core/readiness.h"
#include "egressgw/v1/cluster.pb.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/config.h"
#include "egw/log.h"
#include "egw/result.h"
#include "io/allowlist_prober.h"
#include "io/cluster_backend.h"
#include "io/metrics_server.h"
#include "io/state_store.h"

namespace grpc {
class Server;
class Status;
}

namespace egw {

class PeerService;
class PeerClients;
class EventStore;
class ClusterService;
class AgentDatapath;

struct AgentOptions {
  bool noDatapath = false;
};

class Agent final : public ClusterBackend {
 public:
  Agent(Config cfg, AgentOptions opts);
  ~Agent() override;

  // Loads durable state, opens the journal, starts listeners and the loop. Fails with a message
  // that names what could not be done (bind address, state_dir, datapath).
  Status start();
  // SIGTERM: a master hands over to the best healthy candidate first (bounded wait), then
  // everything stops and the datapath is removed. Blocks until done.
  void shutdown();
  // SIGHUP: applies what can change safely (priority, candidacy) and refuses the rest.
  // Returns a summary of what was applied and refused.
  std::string reload(const Config& next);

  // Bound ports (after start), useful when the config asks for port 0.
  int peerPort() const { return peerPort_; }
  int apiPort() const { return apiPort_; }

  // ClusterBackend
  egressgw::v1::ClusterState snapshot() const override;
  void setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason,
                    std::function<void(bool, std::string)> done) override;
  void handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) override;
  void probeAllowlist(const std::string& node, std::function<void(egressgw::v1::ProbeAllowlistResponse)> done) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Member {
    egressgw::v1::NodeStatus status;
    election::Time lastSeen = 0;   // local monotonic ms
    bool fromConfig = false;       // a voter named in the config
    std::map<std::string, std::uint64_t> knownEvents;  // what it holds, per origin (replication)
  };
  struct PendingHandover {
    std::string from;
    election::Time deadline = 0;
    std::function<void(bool, std::string, std::string)> done;
  };

  election::Time now() const;
  void post(std::function<void()> task);
  bool tryPost(std::function<void()> task);  // false once the loop has ended
  void loop();
  void onTick(election::Time t);
  void process();                       // drains the election's Ready
  std::string onPeerMessage(egressgw::v1::ElectionMessage&& m, const std::string& peer);
  grpc::Status admitPeer(const egressgw::v1::ElectionMessage& m) const;  // TLS only; any thread
  void handlePeerMessage(const egressgw::v1::ElectionMessage& m, election::Time t);
  void sendElection(const election::Message& m);
  void sendTo(const std::string& node, egressgw::v1::ElectionMessage msg);
  std::optional<std::string> endpointOf(const std::string& node) const;
  egressgw::v1::NodeStatus selfStatus() const;
  void sendStatusReport(election::Time t);
  void refreshMembers(election::Time t);
  void updateEligibility(election::Time t);
  void updateDatapath();
  void mergeEvents(const egressgw::v1::ElectionMessage& m);
  void startProber();
  void onProbe(const ProbeResult& r);
  MetricsFigures metricsSnapshot() const;
  ReadinessInputs readinessInputs() const;  // loop thread; published with the metrics figures
  void record(const std::string& kind, const std::string& node, const std::string& message, std::int64_t gapMs = -1);
  void publishState();
  bool eligible() const;
  std::vector<std::string> routingThroughUs() const;  // loop thread: members that follow us (see drainAfterHandover)
  void drainAfterHandover();                          // shutdown(): wait until nobody routes through us
  bool verifiedAlternative(election::Time t) const;  // another enabled, healthy candidate whose probe says ok
  CandidacyState initialCandidacy() const;          // for a node with no persisted candidacy
  void applyCandidacy(CandidacyState next, const std::string& reason, std::function<void(bool, std::string)> done);
  election::Time reportInterval() const;
  election::Time nextDeadline() const;
  std::string advertised(const Endpoint& e) const;
  void rebuildElection(election::HardState hs, bool restarted);

  Config cfg_;
  AgentOptions opts_;
  std::shared_ptr<spdlog::logger> log_;
  Clock::time_point epoch_ = Clock::now();

  // Loop-thread state.
  std::unique_ptr<election::Election> election_;
  StateStore store_;
  PersistentState persisted_;
  bool amnesia_ = false;                // the state file was corrupt: the vote of the first term seen is unknown
  std::map<std::string, Member> members_;           // nodes that reported their status (and voters)
  std::map<std::string, std::string> replyEndpoints_;  // non-voting vote requesters -> peer endpoint
  election::Time masterLostAt_ = -1;
  election::Time lastReportAt_ = -1'000'000;
  std::uint64_t reportCount_ = 0;
  int lockFd_ = -1;                     // flock on state_dir/lock
  std::shared_ptr<AllowlistProber> prober_;  // candidates with allowlist.probe.target
  ProbeResult probe_;                   // the latest verdict (loop thread)
  int priority_;
  HealthInputs health_;
  HealthVerdict verdict_;
  std::optional<PendingHandover> pendingHandover_;
  std::string lastMaster_;
  std::int64_t lastFailoverGapMs_ = -1;
  std::int64_t masterSinceMs_ = 0;      // wall clock
  std::uint64_t failovers_ = 0;
  std::map<std::string, std::uint64_t> messageCounts_;

  // Published snapshot (any thread).
  mutable std::mutex snapMu_;
  egressgw::v1::ClusterState snapshot_;

  // Voters and joined members (with a status), copied by publishState for admitPeer (TLS).
  mutable std::mutex knownMu_;
  std::set<std::string> knownPeers_;

  // Metrics figures copied from the loop thread for the HTTP thread.
  mutable std::mutex metricsMu_;
  std::uint64_t metricsFailovers_ = 0;
  Histogram metricsGaps_ = Histogram::failoverGapSeconds();
  std::map<std::string, std::uint64_t> metricsMessages_;
  ReadinessInputs metricsReadiness_;
  std::atomic<std::int64_t> loopRanAt_{0};  // now() when the loop thread last ran (for /livez)

  // Loop plumbing.
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool drained_ = false;                // under mu_: the loop ran its last tasks
  std::mutex workersMu_;
  struct Worker {
    std::shared_ptr<std::atomic<bool>> finished;
    std::thread thread;
  };
  std::vector<Worker> workers_;         // candidacy requests waiting for a fresh probe
  std::atomic<bool> stop_{false};
  std::thread thread_;

  // I/O.
  std::unique_ptr<PeerService> peerService_;
  std::unique_ptr<PeerClients> peers_;
  std::unique_ptr<grpc::Server> peerServer_;
  std::unique_ptr<grpc::Server> apiServer_;
  std::unique_ptr<EventStore> events_;
  std::unique_ptr<ClusterService> clusterService_;
  std::unique_ptr<MetricsServer> metrics_;
  std::unique_ptr<AgentDatapath> datapath_;
  int peerPort_ = 0;
  int apiPort_ = 0;
};

}  // namespace egw
