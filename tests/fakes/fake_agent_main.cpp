// egw-fake-agent: serves a simulated cluster over the Cluster API (FakeClusterService), for the
// screenshot script and demos without a testbed. Not an agent: no election, no datapath.
//   egw-fake-agent [--port N] [--failover-every S] [--protocol P]
// Prints "listening on 127.0.0.1:PORT" once ready.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>

#include "egw/version.h"
#include "fakes/fake_cluster_server.h"

using namespace egw::testing;

namespace {
std::atomic<bool> g_stop{false};
void onSignal(int) { g_stop = true; }
}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  int failoverEvery = 20;
  unsigned protocol = egw::kProtocolVersion;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--port") == 0) port = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--failover-every") == 0) failoverEvery = std::max(2, std::atoi(argv[i + 1]));
    else if (std::strcmp(argv[i], "--protocol") == 0) protocol = unsigned(std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: egw-fake-agent [--port N] [--failover-every S] [--protocol P]\n");
      return 2;
    }
  }
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  FakeCluster cluster;
  const std::int64_t start = FakeClusterService::nowMs();
  pb::ClusterState state = sampleState(protocol, start);
  state.set_last_failover_gap_ms(412);
  pb::NodeStatus* w2 = state.add_nodes();
  *w2 = state.nodes(3);
  w2->set_name("worker-2");
  w2->set_address("10.0.0.15");
  pb::NodeStatus* pending = state.add_nodes();
  *pending = state.nodes(2);
  pending->set_name("egress-4");
  pending->set_address("10.0.0.16");
  pending->set_egress_ip("172.16.0.5");
  pending->set_role(pb::FOLLOWER);
  pending->set_candidacy(pb::CANDIDACY_PENDING);
  pending->set_allowlist(pb::ALLOWLIST_UNVERIFIED);
  pending->set_allowlist_detail("probe 198.51.100.10:443: connection timed out");
  state.mutable_nodes(2)->set_healthy(false);
  state.mutable_nodes(2)->add_health_problems("net.ipv4.conf.eth1.rp_filter=1 (want 0 or 2)");
  cluster.setState(state);
  // History: earlier failovers, so the gap chart has points.
  std::mt19937 rng(7);
  std::uint64_t term = 6;
  for (int i = 5; i >= 1; --i) {  // terms 1..5
    const std::int64_t t = start - i * 40'000;
    const std::uint64_t old = term - std::uint64_t(i);
    cluster.appendEvent(makeEvent("master_lost", "egress-2", old, t - 300));
    cluster.appendEvent(makeEvent("election_started", "egress-1", old, t - 250));
    cluster.appendEvent(makeEvent("master_elected", "egress-1", old, t, std::int64_t(200 + rng() % 500)));
  }
  cluster.mutateState([&](pb::ClusterState& s) {
    s.set_term(term);
    for (auto& n : *s.mutable_nodes()) n.set_term(term);
  });
  cluster.appendEvent(makeEvent("node_joined", "egress-4", term, start - 5'000, -1, "egress-4"));

  FakeClusterServer server(&cluster, port);
  if (!server.ok()) {
    std::fprintf(stderr, "egw-fake-agent: cannot listen on port %d\n", port);
    return 1;
  }
  std::printf("listening on %s\n", server.endpoint().c_str());
  std::fflush(stdout);

  const char* names[] = {"egress-1", "egress-2", "egress-3"};
  int master = 0;
  std::uint64_t bytes[3] = {0, 0, 0};
  for (int tick = 1; !g_stop; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::int64_t now = FakeClusterService::nowMs();
    const bool failover = tick % (failoverEvery * 2) == 0;
    std::int64_t gap = 0;
    if (failover) {
      const int next = (master + 1) % 2;  // egress-3 is unhealthy: only 1 and 2 alternate
      gap = 150 + std::int64_t(rng() % 600);
      ++term;
      cluster.appendEvent(makeEvent("master_lost", names[master], term - 1, now - gap));
      cluster.appendEvent(makeEvent("election_started", names[next], term, now - gap + 50));
      cluster.appendEvent(makeEvent("master_elected", names[next], term, now - 20, gap - 20, names[next]));
      cluster.appendEvent(makeEvent("datapath_switched", names[next], term, now, gap, names[next]));
      master = next;
    }
    bytes[master] += 1'500'000 + rng() % 1'000'000;
    cluster.mutateState([&](pb::ClusterState& s) {
      s.set_term(term);
      if (failover) {
        s.set_master(names[master]);
        s.set_master_since_ms(now);
        s.set_last_failover_gap_ms(gap);
      }
      for (int i = 0; i < s.nodes_size(); ++i) {
        pb::NodeStatus* n = s.mutable_nodes(i);
        n->set_wall_time_ms(now - std::int64_t(rng() % 120));
        n->set_term(term);
        if (i < 3) {
          n->set_role(i == master ? pb::MASTER : pb::FOLLOWER);
          n->mutable_snat()->set_bytes(bytes[i]);
          n->mutable_snat()->set_packets(bytes[i] / 1200);
        }
      }
    });
  }
  server.kill();
  return 0;
}
