#pragma once
// Prometheus metrics on listen.metrics (GET /metrics, text format 0.0.4), served by cpp-httplib,
// and the probes: GET /readyz (200 only when the agent does its part for the gateway right now,
// else 503; see core/readiness.h) and GET /livez (200 while the loop thread runs). Each answers
// with one line of text: the reason.
// The server knows nothing of the agent: it asks a callback for the current figures on every
// request (from an HTTP thread; the callback must be thread-safe).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/readiness.h"
#include "egressgw/v1/cluster.pb.h"
#include "egw/result.h"

namespace httplib {
class Server;
}

namespace egw {

// A cumulative Prometheus histogram. Not thread-safe: the owner guards it and copies it into
// MetricsFigures.
struct Histogram {
  std::vector<double> bounds;          // upper bounds, ascending; +Inf is implicit
  std::vector<std::uint64_t> counts;   // per bucket (not cumulative), bounds.size() + 1 entries
  double sum = 0;
  std::uint64_t count = 0;

  explicit Histogram(std::vector<double> upperBounds = {});
  void observe(double value);
  // Buckets for failover gaps in seconds: 50 ms .. 30 s.
  static Histogram failoverGapSeconds();
};

struct NodeTraffic {
  std::string node;
  std::uint64_t snatBytes = 0, snatPackets = 0;      // left the cluster through this node (SNAT)
  std::uint64_t markedBytes = 0, markedPackets = 0;  // marked for the gateway on this node
};

struct MetricsFigures {
  std::string self;                 // this agent's node name
  std::string master;               // empty: none known
  std::vector<std::string> nodes;   // every known node (egress_master is exported for each)
  std::uint64_t term = 0;
  std::uint64_t failoversTotal = 0;
  Histogram failoverGap = Histogram::failoverGapSeconds();
  std::vector<NodeTraffic> traffic;
  std::map<std::string, std::uint64_t> electionMessages;  // type ("heartbeat", "vote", ...) -> count
  std::string version;
  ReadinessInputs readiness;        // for /readyz, /livez and egress_ready (default: not ready)

  // Fills master, term, nodes and traffic from a cluster view; the rest is the caller's.
  static MetricsFigures fromState(const egressgw::v1::ClusterState& state, const std::string& self);
};

// The exposition text for a set of figures (pure; tested on its own).
std::string renderMetrics(const MetricsFigures& f);

class MetricsServer {
 public:
  using Source = std::function<MetricsFigures()>;
  explicit MetricsServer(Source source);
  ~MetricsServer();  // stops
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds host:port (port 0: any free port) and serves in a background thread. Returns the
  // bound port, or an error naming the address.
  Result<int> start(const std::string& host, int port);
  void stop();  // idempotent; returns when the server thread has ended

 private:
  Source source_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace egw
