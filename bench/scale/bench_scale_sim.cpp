// bench_scale_sim: what the peer protocol costs as a cluster grows, measured in one process under
// simulated time (tests/sim/: the real agent drivers over an in-memory transport).
//
// For each cluster size (V voters that are candidates, plus N observers: the workers of a real
// cluster, every one running the agent) it settles the cluster, then counts over a window of
// simulated time what every node sends and receives (messages and serialized bytes per second of
// simulated time), and how much real time this process spent per simulated second: every
// driver's work for the whole cluster on one core, a lower bound of the agents' CPU (no gRPC, no
// TLS, no kernel). Then it SIGKILLs the master and measures, in simulated time, until the new
// master is elected and until the last observer's datapath follows it.
//
// The baseline, in the same run: the first size (by default the voters alone, N = 0), and the
// growth between sizes as an exponent: bytes(N2)/bytes(N1) = (N2/N1)^k. k = 1 is linear, k = 2
// is what issue 15 measured with real processes.
//
// Usage: bench_scale_sim [--observers 0,10,20,50,100,200] [--voters 3] [--window-ms 5000]
//                        [--seed 1] [--loss 0]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "egw/log.h"
#include "egw/version.h"
#include "sim/sim_cluster.h"

using egw::sim::NodeSpec;
using egw::sim::SimCluster;
using egw::sim::Time;
using egw::sim::Traffic;

namespace {

struct Options {
  std::vector<int> observers{0, 10, 20, 50, 100, 200};
  int voters = 3;
  Time windowMs = 5000;
  std::uint64_t seed = 1;
  double loss = 0;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "bench_scale_sim: %s\n"
               "usage: bench_scale_sim [--observers 0,10,20,50,100,200] [--voters 3] [--window-ms 5000]\n"
               "                       [--seed 1] [--loss 0.0]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") usage("the peer protocol's cost per cluster size, under simulated time");
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--observers") {
      o.observers.clear();
      for (std::size_t p = 0; p <= v.size();) {
        auto q = v.find(',', p);
        if (q == std::string::npos) q = v.size();
        long n = std::strtol(v.substr(p, q - p).c_str(), &end, 10);
        if (*end || n < 0 || n > 100000) usage(("--observers: not a count: " + v.substr(p, q - p)).c_str());
        o.observers.push_back(static_cast<int>(n));
        p = q + 1;
      }
    } else if (a == "--voters") {
      o.voters = static_cast<int>(std::strtol(v.c_str(), &end, 10));
      if (*end || o.voters < 1 || o.voters > 9) usage("--voters: 1 to 9");
    } else if (a == "--window-ms") {
      o.windowMs = std::strtol(v.c_str(), &end, 10);
      if (*end || o.windowMs < 100) usage("--window-ms: at least 100");
    } else if (a == "--seed") {
      o.seed = std::strtoull(v.c_str(), &end, 10);
      if (*end) usage("--seed: a number");
    } else if (a == "--loss") {
      o.loss = std::strtod(v.c_str(), &end);
      if (*end || o.loss < 0 || o.loss >= 1) usage("--loss: a probability in [0, 1)");
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  return o;
}

struct Row {
  int observers = 0;
  double masterOutMsgs = 0, masterOutBytes = 0, masterInMsgs = 0, masterInBytes = 0;
  double observerInBytes = 0, observerOutMsgs = 0;  // per observer
  double totalBytes = 0;                            // everything sent, all nodes
  double realMsPerSimSecond = 0;
  Time elected = -1, lastObserver = -1;             // after the SIGKILL, simulated ms
};

struct Totals {
  std::uint64_t msgs = 0, bytes = 0;
};
Totals sum(const Traffic& t) { return {t.count(), t.bytes}; }

Row measure(const Options& o, int observers) {
  Row r;
  r.observers = observers;
  SimCluster c(o.seed);
  c.net.minDelay = 1;
  c.net.maxDelay = 3;
  c.net.loss = o.loss;
  for (int i = 1; i <= o.voters; ++i) c.add(NodeSpec{"n" + std::to_string(i), true, true, 100, false});
  for (int i = 1; i <= observers; ++i) c.add(NodeSpec{"w" + std::to_string(i), false, false, 100, false});
  c.start();
  c.run(3000);
  const std::string master = c.master();
  if (master.empty()) {
    std::fprintf(stderr, "bench_scale_sim: no master after 3 s with %d observers\n", observers);
    std::exit(1);
  }
  const auto names = c.names();
  std::vector<Totals> out0, in0;
  for (const auto& n : names) {
    out0.push_back(sum(c.traffic(n)));
    in0.push_back(sum(c.received(n)));
  }
  const auto t0 = std::chrono::steady_clock::now();
  c.run(o.windowMs);
  const double realMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  const double secs = static_cast<double>(o.windowMs) / 1000.0;
  double obsIn = 0, obsOut = 0, total = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto out = sum(c.traffic(names[i])), in = sum(c.received(names[i]));
    const double om = static_cast<double>(out.msgs - out0[i].msgs) / secs, ob = static_cast<double>(out.bytes - out0[i].bytes) / secs;
    const double im = static_cast<double>(in.msgs - in0[i].msgs) / secs, ib = static_cast<double>(in.bytes - in0[i].bytes) / secs;
    total += ob;
    if (names[i] == master) {
      r.masterOutMsgs = om;
      r.masterOutBytes = ob;
      r.masterInMsgs = im;
      r.masterInBytes = ib;
    }
    if (names[i][0] == 'w') {
      obsIn += ib;
      obsOut += om;
    }
  }
  if (observers > 0) {
    r.observerInBytes = obsIn / observers;
    r.observerOutMsgs = obsOut / observers;
  }
  r.totalBytes = total;
  r.realMsPerSimSecond = realMs / secs;

  // Failover: SIGKILL the master; step 5 ms until a new master is elected and every observer's
  // datapath follows it (at most 10 s).
  c.crash(master);
  for (Time t = 5; t <= 10000; t += 5) {
    c.run(5);
    const auto m = c.master();
    if (m.empty() || m == master) continue;
    if (r.elected < 0 && c.driver(m).role() == egw::Role::Master) r.elected = t;
    if (r.elected < 0) continue;
    bool all = true;
    for (const auto& n : names)
      if (n[0] == 'w' && c.datapathRole(n) != "follower of " + m) {
        all = false;
        break;
      }
    if (all) {
      r.lastObserver = t;
      break;
    }
  }
  return r;
}

std::string human(double bytesPerSecond) {
  char buf[32];
  if (bytesPerSecond >= 1e6)
    std::snprintf(buf, sizeof buf, "%.2f MB/s", bytesPerSecond / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.1f KB/s", bytesPerSecond / 1e3);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  egw::log::setup("error", egw::LogFormat::Text);  // the drivers' own logs would drown the table
  std::printf("bench_scale_sim: %d voters + N observers, default timers (100/300 ms), delay 1-3 ms, loss %.3f,\n"
              "window %lld ms of simulated time, seed %llu (protocol %u)\n\n",
              o.voters, o.loss, static_cast<long long>(o.windowMs), static_cast<unsigned long long>(o.seed),
              egw::kProtocolVersion);
  std::printf("%9s | %10s %12s | %10s %12s | %12s %9s | %12s | %10s | %9s %13s\n", "observers", "master out",
              "", "master in", "", "per observer", "", "all sent", "real ms per", "failover", "last observer");
  std::printf("%9s | %10s %12s | %10s %12s | %12s %9s | %12s | %10s | %9s %13s\n", "", "msg/s", "bytes/s", "msg/s",
              "bytes/s", "in bytes/s", "out msg/s", "bytes/s", "sim second", "elected", "follows");
  std::vector<Row> rows;
  for (int n : o.observers) {
    auto r = measure(o, n);
    std::printf("%9d | %10.0f %12s | %10.0f %12s | %12s %9.1f | %12s | %10.1f | %6lld ms %10lld ms\n", r.observers,
                r.masterOutMsgs, human(r.masterOutBytes).c_str(), r.masterInMsgs, human(r.masterInBytes).c_str(),
                human(r.observerInBytes).c_str(), r.observerOutMsgs, human(r.totalBytes).c_str(),
                r.realMsPerSimSecond, static_cast<long long>(r.elected), static_cast<long long>(r.lastObserver));
    std::fflush(stdout);
    rows.push_back(r);
  }
  std::printf("\ngrowth between sizes, as an exponent k in cost ~ N^k (1 = linear, 2 = quadratic):\n");
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto &a = rows[i - 1], &b = rows[i];
    if (a.observers == 0 || b.observers <= a.observers) continue;
    const double n = std::log(static_cast<double>(b.observers) / a.observers);
    std::printf("  %4d -> %4d observers: all bytes k = %.2f, master bytes in+out k = %.2f, real time k = %.2f\n",
                a.observers, b.observers, std::log(b.totalBytes / a.totalBytes) / n,
                std::log((b.masterInBytes + b.masterOutBytes) / (a.masterInBytes + a.masterOutBytes)) / n,
                std::log(b.realMsPerSimSecond / a.realMsPerSimSecond) / n);
  }
  if (!rows.empty() && rows.front().observers == 0)
    std::printf("baseline (voters alone): all bytes %s, master %s out; every size above is read against it\n",
                human(rows.front().totalBytes).c_str(), human(rows.front().masterOutBytes).c_str());
  return 0;
}
