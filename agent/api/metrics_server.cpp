#include "agent/api/metrics_server.h"

#include <httplib.h>

#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

#include "egw/log.h"

namespace egw {

Histogram::Histogram(std::vector<double> upperBounds) : bounds(std::move(upperBounds)), counts(bounds.size() + 1, 0) {}

void Histogram::observe(double value) {
  auto it = std::lower_bound(bounds.begin(), bounds.end(), value);  // le: value <= bound
  ++counts[static_cast<std::size_t>(it - bounds.begin())];
  sum += value;
  ++count;
}

Histogram Histogram::failoverGapSeconds() {
  return Histogram({0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10, 30});
}

MetricsFigures MetricsFigures::fromState(const egressgw::v1::ClusterState& state, const std::string& self) {
  MetricsFigures f;
  f.self = self;
  f.master = state.master();
  f.term = state.term();
  for (const auto& n : state.nodes()) {
    f.nodes.push_back(n.name());
    f.traffic.push_back({n.name(), n.snat().bytes(), n.snat().packets(), n.marked().bytes(), n.marked().packets()});
  }
  return f;
}

namespace {

std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
  return std::string(buf, r.ptr);
}

void head(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string renderMetrics(const MetricsFigures& f) {
  std::ostringstream o;
  head(o, "egress_up", "gauge", "1 while the agent is running.");
  o << "egress_up{node=\"" << label(f.self) << "\"} 1\n";
  if (!f.version.empty()) {
    head(o, "egress_build_info", "gauge", "Agent version.");
    o << "egress_build_info{node=\"" << label(f.self) << "\",version=\"" << label(f.version) << "\"} 1\n";
  }
  head(o, "egress_ready", "gauge", "1 while GET /readyz answers 200 (master with a lease or following one, datapath applied).");
  o << "egress_ready{node=\"" << label(f.self) << "\"} " << (evaluateReadiness(f.readiness).ok ? 1 : 0) << '\n';
  head(o, "egress_master", "gauge", "1 for the node this agent sees as master, 0 for every other known node.");
  std::vector<std::string> nodes = f.nodes;
  if (!f.master.empty() && std::find(nodes.begin(), nodes.end(), f.master) == nodes.end()) nodes.push_back(f.master);
  for (const auto& n : nodes) o << "egress_master{node=\"" << label(n) << "\"} " << (n == f.master ? 1 : 0) << '\n';
  head(o, "egress_term", "gauge", "Current election term.");
  o << "egress_term " << f.term << '\n';
  head(o, "egress_failovers_total", "counter", "Master changes this agent has seen since it started.");
  o << "egress_failovers_total " << f.failoversTotal << '\n';
  head(o, "egress_failover_gap_seconds", "histogram", "Measured traffic gap of each failover.");
  std::uint64_t cum = 0;
  for (std::size_t i = 0; i < f.failoverGap.counts.size(); ++i) {
    cum += f.failoverGap.counts[i];
    double le = i < f.failoverGap.bounds.size() ? f.failoverGap.bounds[i] : INFINITY;
    o << "egress_failover_gap_seconds_bucket{le=\"" << num(le) << "\"} " << cum << '\n';
  }
  o << "egress_failover_gap_seconds_sum " << num(f.failoverGap.sum) << '\n';
  o << "egress_failover_gap_seconds_count " << f.failoverGap.count << '\n';
  head(o, "egress_bytes_total", "counter", "Bytes SNATed by the node (left the cluster through it).");
  for (const auto& t : f.traffic) o << "egress_bytes_total{node=\"" << label(t.node) << "\"} " << t.snatBytes << '\n';
  head(o, "egress_packets_total", "counter", "Packets SNATed by the node.");
  for (const auto& t : f.traffic) o << "egress_packets_total{node=\"" << label(t.node) << "\"} " << t.snatPackets << '\n';
  head(o, "egress_marked_bytes_total", "counter", "Bytes the node marked for the gateway.");
  for (const auto& t : f.traffic) o << "egress_marked_bytes_total{node=\"" << label(t.node) << "\"} " << t.markedBytes << '\n';
  head(o, "egress_marked_packets_total", "counter", "Packets the node marked for the gateway.");
  for (const auto& t : f.traffic)
    o << "egress_marked_packets_total{node=\"" << label(t.node) << "\"} " << t.markedPackets << '\n';
  head(o, "egress_election_messages_total", "counter", "Election messages handled by this agent, by type.");
  for (const auto& [type, n] : f.electionMessages) o << "egress_election_messages_total{type=\"" << label(type) << "\"} " << n << '\n';
  return o.str();
}

MetricsServer::MetricsServer(Source source) : source_(std::move(source)) {}

MetricsServer::~MetricsServer() { stop(); }

Result<int> MetricsServer::start(const std::string& host, int port) {
  if (server_) return Error{"metrics server already started"};
  auto srv = std::make_unique<httplib::Server>();
  srv->new_task_queue = [] { return new httplib::ThreadPool(2); };  // scrapes are rare and cheap
  srv->set_read_timeout(5, 0);
  srv->set_write_timeout(5, 0);
  srv->set_payload_max_length(4096);
  // httplib's default also sets SO_REUSEPORT, which would let a second agent bind the same port
  // silently and steal half the scrapes: only SO_REUSEADDR here.
  srv->set_socket_options([](int sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  srv->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(renderMetrics(source_()), "text/plain; version=0.0.4; charset=utf-8");
  });
  // Probes: one line, the reason; never cached (a proxy must not answer for a changed agent).
  auto probe = [](httplib::Response& res, const ProbeVerdict& v) {
    res.status = v.ok ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(v.reason + "\n", "text/plain; charset=utf-8");
  };
  srv->Get("/readyz", [this, probe](const httplib::Request&, httplib::Response& res) {
    probe(res, evaluateReadiness(source_().readiness));
  });
  srv->Get("/livez", [this, probe](const httplib::Request&, httplib::Response& res) {
    auto r = source_().readiness;
    probe(res, evaluateLiveness(r.loopAgeMs, r.electionTimeoutMs));
  });
  srv->Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("egress-agent: metrics at /metrics, probes at /readyz and /livez\n", "text/plain");
  });
  int bound = port == 0 ? srv->bind_to_any_port(host) : (srv->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) return Error{"cannot listen for metrics on " + host + ":" + std::to_string(port)};
  server_ = std::move(srv);
  thread_ = std::thread([s = server_.get()] { s->listen_after_bind(); });
  log::get("api")->info("metrics on http://{}:{}/metrics", host, bound);
  return bound;
}

void MetricsServer::stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

}  // namespace egw
