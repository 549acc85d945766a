// bench_watch_deltas: what one console's Watch stream costs at 1,000 nodes when about 10 nodes
// change a second: whole states (a client without WatchRequest.deltas, the old way) against
// deltas, in the same process, through the real ClusterService on a loopback gRPC server.
//
// Each update changes `--changes` nodes (health, counters, wall time; the others keep theirs),
// tells the service, and waits until the watcher has read it, so no update is coalesced. One
// update a second is the agent's pace for 10 changes a second (it publishes as they come, the
// stream coalesces; one per second is the costlier end), so bytes per update = bytes per second.
//
// Per update it records:
// - bytes: the update's serialized size (WatchUpdate.ByteSizeLong: the payload gRPC frames;
//   HTTP/2 framing adds ~9 bytes per frame and no compression is configured);
// - server CPU: the process's CPU time over the update minus the reading thread's own (its Read,
//   and parse): the service's worker (snapshot copy, compare/publish), the stream's message
//   and gRPC's server-side serialization and transport;
// - client CPU: the reading thread's (Read and parse), for what a console parses.
// Medians over `--updates` updates per mode, and the ratios; with 1 watcher and with 10 (a voter
// serving several consoles and egressctl runs): the server's cost per update is a fixed part (the
// backend's snapshot, and with deltas the node-by-node compare) plus one part per stream.
//
// Usage: bench_watch_deltas [--nodes 1000] [--changes 10] [--updates 300] [--watchers 1,10] [--seed 1]
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/cluster_service.h"
#include "agent/security/grpc_util.h"
#include "agent/store/event_store.h"
#include "egw/log.h"
#include "egw/version.h"

namespace v1 = egressgw::v1;

namespace {

struct Options {
  int nodes = 1000;
  int changes = 10;
  int updates = 300;
  unsigned seed = 1;
  std::vector<int> watchers{1, 10};
};

double cpuMs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// A node as a voter's view holds it: an observer (a worker) reporting to its feed.
v1::NodeStatus worker(int i) {
  v1::NodeStatus n;
  const std::string name = "worker-" + std::to_string(i);
  const std::string ip = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
  n.set_name(name);
  n.set_address(ip);
  n.set_peer_endpoint(ip + ":7400");
  n.set_api_endpoint(ip + ":7401");
  n.set_role(v1::OBSERVER);
  n.set_term(12);
  n.set_candidacy(v1::CANDIDACY_NONE);
  n.set_healthy(true);
  n.mutable_marked()->set_packets(1000 + i);
  n.mutable_marked()->set_bytes(150000 + i);
  n.set_version(egw::kVersion);
  n.set_wall_time_ms(1'700'000'000'000);
  n.set_event_seq(3);
  n.set_datapath_ready(true);
  n.set_protocol(egw::kProtocolVersion);
  n.set_master("egress-1");
  n.set_feed("egress-" + std::to_string(1 + i % 3));
  return n;
}

class Backend final : public egw::ClusterBackend {
 public:
  explicit Backend(int nodes) {
    state_.set_master("egress-1");
    state_.set_term(12);
    state_.set_master_since_ms(1'700'000'000'000);
    state_.set_served_by("egress-2");
    state_.set_protocol(egw::kProtocolVersion);
    state_.set_mode("primary-ip");
    state_.set_lease_ms(240);
    state_.set_lease_refresh_ms(100);
    state_.set_drift_margin_ms(60);
    for (const char* v : {"egress-1", "egress-2", "egress-3"}) state_.add_voters(v);
    for (int i = 0; i < nodes; ++i) *state_.add_nodes() = worker(i);
  }
  v1::ClusterState snapshot() const override {
    std::lock_guard lk(mu_);
    return state_;
  }
  // `count` random nodes change: health flips, counters and wall time move.
  void change(int count, std::mt19937& rng, std::int64_t wallMs) {
    std::lock_guard lk(mu_);
    std::uniform_int_distribution<int> pick(0, state_.nodes_size() - 1);
    for (int k = 0; k < count; ++k) {
      auto* n = state_.mutable_nodes(pick(rng));
      n->set_healthy(!n->healthy());
      n->mutable_marked()->set_packets(n->marked().packets() + 17);
      n->mutable_marked()->set_bytes(n->marked().bytes() + 2300);
      n->set_wall_time_ms(wallMs);
    }
  }
  void setCandidacy(const std::string&, bool, bool, const std::string&, std::function<void(bool, std::string)> done) override {
    done(false, "bench");
  }
  void handover(const std::string&, std::function<void(bool, std::string, std::string)> done) override {
    done(false, "bench", "");
  }
  void probeAllowlist(const std::string&, std::function<void(v1::ProbeAllowlistResponse)> done) override { done({}); }

 private:
  mutable std::mutex mu_;
  v1::ClusterState state_;
};

struct Figures {
  std::vector<double> bytes, serverMs, clientMs;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// `watchers` Watch streams (all with deltas or all without) over `opt.updates` updates.
Figures run(const Options& opt, int watchers, bool deltas) {
  Backend backend(opt.nodes);
  auto events = egw::EventStore::inMemory("egress-2", [] { return std::int64_t(1'700'000'000'000); });
  egw::ClusterService::Limits limits;
  limits.maxWatchPerPeer = std::size_t(watchers);  // every stream comes from 127.0.0.1
  egw::ClusterService service(backend, *events, limits);
  auto server = egw::startGrpcServer("127.0.0.1:0", {&service});
  if (!server.ok()) {
    std::fprintf(stderr, "bench_watch_deltas: %s\n", server.error().c_str());
    std::exit(1);
  }
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port), grpc::InsecureChannelCredentials());
  auto stub = v1::Cluster::NewStub(channel);

  struct Watcher {
    grpc::ClientContext ctx;
    std::unique_ptr<grpc::ClientReader<v1::WatchUpdate>> reader;
    std::thread thread;
    bool snapshot = false;
    int received = 0;      // updates after the snapshot
    double cpu = 0;        // its reading thread's CPU time so far, ms
    std::vector<double> bytes;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Watcher>> ws;
  for (int k = 0; k < watchers; ++k) {
    auto w = std::make_unique<Watcher>();
    v1::WatchRequest req;
    req.set_deltas(deltas);
    w->reader = stub->Watch(&w->ctx, req);
    w->thread = std::thread([&, w = w.get()] {
      v1::WatchUpdate u;
      const double start = cpuMs(CLOCK_THREAD_CPUTIME_ID);
      while (w->reader->Read(&u)) {
        std::lock_guard lk(mu);
        if (u.has_snapshot()) {
          w->snapshot = true;
        } else {
          ++w->received;
          w->bytes.push_back(double(u.ByteSizeLong()));
        }
        w->cpu = cpuMs(CLOCK_THREAD_CPUTIME_ID) - start;
        cv.notify_all();
      }
      if (!w->snapshot) {
        std::fprintf(stderr, "bench_watch_deltas: Watch failed: %s\n", w->reader->Finish().error_message().c_str());
        std::exit(1);
      }
    });
    ws.push_back(std::move(w));
  }
  auto all = [&](auto pred) { return std::all_of(ws.begin(), ws.end(), [&](const auto& w) { return pred(*w); }); };
  auto clientCpu = [&] {
    double sum = 0;
    for (const auto& w : ws) sum += w->cpu;
    return sum;
  };
  {
    std::unique_lock lk(mu);  // a change before a stream started would be in its snapshot
    cv.wait(lk, [&] { return all([](const Watcher& w) { return w.snapshot; }); });
  }
  std::mt19937 rng(opt.seed);
  Figures f;
  const int warmup = 10;
  for (int i = 0; i < opt.updates + warmup; ++i) {
    double client0;
    {
      std::lock_guard lk(mu);
      client0 = clientCpu();
    }
    const double process0 = cpuMs(CLOCK_PROCESS_CPUTIME_ID);
    backend.change(opt.changes, rng, 1'700'000'000'000 + 1000 * (i + 1));
    service.notifyStateChanged();
    std::unique_lock lk(mu);
    cv.wait(lk, [&] { return all([i](const Watcher& w) { return w.received > i; }); });
    const double process = cpuMs(CLOCK_PROCESS_CPUTIME_ID) - process0;
    const double client = clientCpu() - client0;
    if (i < warmup) continue;
    f.serverMs.push_back(process - client);
    f.clientMs.push_back(client / watchers);
  }
  {
    std::lock_guard lk(mu);
    f.bytes.assign(ws.front()->bytes.begin() + warmup, ws.front()->bytes.end());
  }
  for (auto& w : ws) w->ctx.TryCancel();
  for (auto& w : ws) {
    w->thread.join();
    (void)w->reader->Finish();
  }
  service.shutdown();
  server->server->Shutdown();
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    auto value = [&](const char* name) -> const char* {
      if (std::strcmp(argv[i], name) != 0 || i + 1 >= argc) return nullptr;
      return argv[++i];
    };
    if (const char* v = value("--nodes")) opt.nodes = std::atoi(v);
    else if (const char* v = value("--changes")) opt.changes = std::atoi(v);
    else if (const char* v = value("--updates")) opt.updates = std::atoi(v);
    else if (const char* v = value("--seed")) opt.seed = unsigned(std::atoi(v));
    else if (const char* v = value("--watchers")) {
      opt.watchers.clear();
      for (const char* p = v; *p; ++p)
        if (p == v || p[-1] == ',') opt.watchers.push_back(std::max(1, std::atoi(p)));
    }
    else {
      std::fprintf(stderr, "usage: bench_watch_deltas [--nodes 1000] [--changes 10] [--updates 300] [--watchers 1,10] [--seed 1]\n");
      return 2;
    }
  }
  egw::log::get("api")->set_level(spdlog::level::warn);

  std::printf("Watch streams, %d nodes, %d changing per update, %d updates per run (medians)\n", opt.nodes,
              opt.changes, opt.updates);
  std::printf("%-9s %-12s %13s %20s %20s\n", "watchers", "mode", "bytes/update", "server CPU ms/update",
              "client CPU ms/update");
  for (int watchers : opt.watchers) {
    const Figures whole = run(opt, watchers, false);
    const Figures delta = run(opt, watchers, true);
    auto row = [&](const char* name, const Figures& f) {
      std::printf("%-9d %-12s %13.0f %20.3f %20.3f\n", watchers, name, median(f.bytes), median(f.serverMs),
                  median(f.clientMs));
    };
    row("whole state", whole);
    row("deltas", delta);
    std::printf("%-9d %-12s %12.0fx %19.1fx %19.1fx\n", watchers, "ratio", median(whole.bytes) / std::max(1.0, median(delta.bytes)),
                median(whole.serverMs) / std::max(1e-6, median(delta.serverMs)),
                median(whole.clientMs) / std::max(1e-6, median(delta.clientMs)));
  }
  std::printf("client CPU is per watcher; server CPU is for all the watchers of the row\n");
  return 0;
}
