// bench_datapath: how long the kernel side of the datapath takes, inside a throwaway network
// namespace (root needed). Prints medians and compares with `nft -f` of the same text, measured
// in the same run. Targets (DESIGN.md / issues 4 and 10): 10k CIDRs <= 100 ms, switching master
// on a non-master <= 10 ms, lease refresh well under 1 ms.
//
//   bench_datapath [--runs N]
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "egw/log.h"
#include "agent/datapath/nft_datapath.h"

using namespace egw;
using Clock = std::chrono::steady_clock;

namespace {

std::string nsName() { return "egwt-bench-" + std::to_string(::getpid()); }

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

void cleanup() { run("ip netns del " + nsName()); }

double medianUs(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}
double percentileUs(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

double timeUs(const std::function<void()>& fn) {
  auto t0 = Clock::now();
  fn();
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

Config makeConfig(std::size_t destinations) {
  Config c;
  c.node.name = "bench";
  c.node.address = *IpAddress::parse("10.0.0.11");
  c.node.egress.interface = "eg0";
  c.node.egress.ip = IpAddress::parse("172.16.0.7");
  c.node.candidate = true;
  PolicyConfig p;
  p.name = "bench";
  p.sources.push_back(*Cidr::parse("10.244.0.0/16"));
  // Distinct /24s from 20.0.0.0 upwards: no overlaps, one interval each.
  for (std::size_t i = 0; i < destinations; ++i)
    p.destinations.emplace_back(IpAddress::v4((20u << 24) + static_cast<std::uint32_t>(i << 8)), 24);
  c.policies.push_back(std::move(p));
  return c;
}

void check(const DatapathError& e, const char* what) {
  if (e.kind != DatapathErrorKind::None) {
    std::fprintf(stderr, "%s failed: %s\n", what, e.message.c_str());
    cleanup();
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 7;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
  if (::geteuid() != 0) {
    std::fprintf(stderr, "bench_datapath: needs root (it creates a network namespace)\n");
    return 2;
  }
  log::setup("warn", LogFormat::Text);
  const auto ns = nsName();
  cleanup();
  std::atexit(cleanup);
  for (const std::string& c : {"ip netns add " + ns, "ip -n " + ns + " link add eg0 type veth peer name peg0",
                              "ip -n " + ns + " link add cl0 type veth peer name pcl0",
                              "ip -n " + ns + " addr add 172.16.0.7/24 dev eg0", "ip -n " + ns + " addr add 10.0.0.11/24 dev cl0",
                              "ip -n " + ns + " link set eg0 up", "ip -n " + ns + " link set peg0 up",
                              "ip -n " + ns + " link set cl0 up", "ip -n " + ns + " link set pcl0 up",
                              "ip -n " + ns + " route add default via 172.16.0.1"}) {
    if (run(c) != 0) {
      std::fprintf(stderr, "setup failed: %s\n", c.c_str());
      return 1;
    }
  }
  int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    std::perror("setns");
    return 1;
  }
  ::close(fd);

  std::printf("bench_datapath: %d runs per figure, medians, in netns %s\n\n", runs, ns.c_str());
  std::printf("%-34s %12s %12s %14s %8s\n", "operation", "median", "p90", "nft -f (CLI)", "target");

  DesiredState masterState;
  masterState.role = DatapathRole::Master;
  masterState.lease = Millis{60000};
  const std::string tmp = "/tmp/" + ns + ".nft";
  for (std::size_t n : {std::size_t{10}, std::size_t{1000}, std::size_t{10000}, std::size_t{100000}}) {
    auto cfg = makeConfig(n);
    auto dp = NftDatapath::create(cfg);
    if (!dp.ok()) {
      std::fprintf(stderr, "%s\n", dp.error().c_str());
      return 1;
    }
    int r = n >= 100000 ? std::max(1, runs / 2) : runs;
    std::vector<double> ours, cli, render;
    for (int i = 0; i < r; ++i) {
      render.push_back(timeUs([&] { (void)renderRuleset(cfg, masterState); }));
      // Each run creates the table from nothing (the first apply, or after drift): removeAll
      // first (not timed), which also makes NftDatapath forget what the kernel holds.
      (void)(*dp)->removeAll();
      ours.push_back(timeUs([&] { check((*dp)->apply(masterState), "apply"); }));
    }
    {
      auto st = masterState;
      st.egressIp = cfg.node.egress.ip;
      std::ofstream(tmp) << renderRuleset(cfg, st);
    }
    for (int i = 0; i < r; ++i) cli.push_back(timeUs([&] { run("nft -f " + tmp); }));
    auto name = "create table, " + std::to_string(n) + " CIDRs";
    std::printf("%-34s %9.2f ms %9.2f ms %11.2f ms %8s\n", name.c_str(), medianUs(ours) / 1000,
                percentileUs(ours, 0.9) / 1000, medianUs(cli) / 1000, n == 10000 ? "100 ms" : "");
    std::printf("%-34s %9.2f ms\n", ("  of which render (pure), " + std::to_string(n)).c_str(), medianUs(render) / 1000);

    // A role change (master <-> follower) refills the chains in place; the baseline is what a
    // role change used to do, replacing the whole table (sets included), in the same run.
    (void)(*dp)->removeAll();
    check((*dp)->apply(masterState), "apply");
    DesiredState fol;
    fol.role = DatapathRole::Follower;
    fol.masterAddress = IpAddress::parse("10.0.0.12");
    std::vector<double> change, replace;
    for (int i = 0; i < r; ++i) {
      const auto& st = i % 2 ? masterState : fol;
      change.push_back(timeUs([&] { check((*dp)->apply(st), "role change"); }));
    }
    auto full = masterState;
    full.egressIp = cfg.node.egress.ip;
    for (int i = 0; i < r; ++i) {
      const auto text = renderRuleset(cfg, i % 2 ? full : fol);
      replace.push_back(timeUs([&] { check((*dp)->runScript(text), "replace"); }));
    }
    std::printf("%-34s %9.2f ms %9.2f ms %14s\n", ("role change, " + std::to_string(n)).c_str(), medianUs(change) / 1000,
                percentileUs(change, 0.9) / 1000, "");
    std::printf("%-34s %9.2f ms %9.2f ms %14s  (role change %.1fx faster)\n",
                ("  baseline: replace table, " + std::to_string(n)).c_str(), medianUs(replace) / 1000,
                percentileUs(replace, 0.9) / 1000, "", medianUs(replace) / std::max(1.0, medianUs(change)));
    (void)(*dp)->removeAll();
  }
  std::remove(tmp.c_str());

  // Switching master on a non-master: follower(m1) -> follower(m2), 1k and 10k CIDRs.
  for (std::size_t n : {std::size_t{1000}, std::size_t{10000}}) {
    auto cfg = makeConfig(n);
    auto dp = NftDatapath::create(cfg);
    DesiredState f;
    f.role = DatapathRole::Follower;
    f.masterAddress = IpAddress::parse("10.0.0.12");
    check((*dp)->apply(f), "apply follower");
    std::vector<double> sw;
    for (int i = 0; i < runs * 3; ++i) {
      f.masterAddress = IpAddress::parse(i % 2 ? "10.0.0.12" : "10.0.0.13");
      sw.push_back(timeUs([&] { check((*dp)->apply(f), "switch"); }));
    }
    auto name = "switch master (follower), " + std::to_string(n);
    std::printf("%-34s %9.2f ms %9.2f ms %14s %8s\n", name.c_str(), medianUs(sw) / 1000, percentileUs(sw, 0.9) / 1000,
                "", "10 ms");
    (void)(*dp)->removeAll();
  }

  // Lease refresh on a master with 10k CIDRs (the set size must not matter).
  {
    auto cfg = makeConfig(10000);
    auto dp = NftDatapath::create(cfg);
    check((*dp)->apply(masterState), "apply");
    std::vector<double> lr;
    for (int i = 0; i < 1000; ++i) lr.push_back(timeUs([&] { check((*dp)->refreshLease(Millis{240}), "refresh"); }));
    std::vector<double> cli;
    const std::string script = renderLeaseRefresh(cfg, Millis{240});
    for (int i = 0; i < runs; ++i) cli.push_back(timeUs([&] { run("nft '" + script + "'"); }));
    std::printf("%-34s %9.3f ms %9.3f ms %11.2f ms %8s\n", "lease refresh (1000 runs)", medianUs(lr) / 1000,
                percentileUs(lr, 0.9) / 1000, medianUs(cli) / 1000, "<1 ms");
    (void)(*dp)->removeAll();
  }
  return 0;
}
