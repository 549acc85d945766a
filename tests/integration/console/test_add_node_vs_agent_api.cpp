// The add-node flow (console_core, no widgets) over real gRPC against the agent's own Cluster
// service (agent/api/cluster_service) on loopback: one service plays the cluster's agent
// (egress-1, serving the view with egress-4 pending), one plays egress-4's own agent, whose
// ProbeAllowlist runs the agent's real AllowlistProber (a TCP connect from 127.0.0.1 to a
// loopback "external service": refused until the test starts listening, the owner applying the
// list). The backends answer SetCandidacy the way the agent does (agent/node/driver_ops.cpp):
// only for their own node, and (egress-4) enabling refuses an IP whose verdict is not ok unless
// forced.
#include <QtCore/QTemporaryDir>
#include <QtNetwork/QTcpServer>
#include <QtTest/QTest>

#include <atomic>
#include <mutex>
#include <thread>

#include "console/core/add_node_flow.h"
#include "console/core/grpc_agent_client.h"
#include "egw/version.h"
#include "agent/core/codec.h"
#include "agent/probe/allowlist_prober.h"
#include "agent/api/cluster_service.h"
#include "agent/store/event_store.h"

using namespace egw::console;
namespace pb = egressgw::v1;

namespace {

constexpr int kWaitMs = 15'000;

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

pb::NodeStatus status(const std::string& name, const std::string& api, const std::string& ip, pb::Candidacy c,
                      pb::Role role) {
  pb::NodeStatus n;
  n.set_name(name);
  n.set_address(ip);
  n.set_api_endpoint(api);
  n.set_egress_ip(ip);
  n.set_egress_interface("lo");
  n.set_role(role);
  n.set_term(3);
  n.set_candidacy(c);
  n.set_healthy(true);
  n.set_datapath_ready(true);
  n.set_protocol(egw::kProtocolVersion);
  n.set_version(egw::kVersion);
  return n;
}

// One agent's view and answers. `self` is the node this agent is.
class Backend final : public egw::ClusterBackend {
 public:
  Backend(std::string self, std::uint16_t probePort) : self_(std::move(self)), probePort_(probePort) {}

  pb::ClusterState snapshot() const override {
    std::lock_guard lock(mu_);
    pb::ClusterState s;
    s.set_master("egress-1");
    s.set_term(3);
    s.set_served_by(self_);
    s.set_protocol(egw::kProtocolVersion);
    s.set_mode("primary-ip");
    s.set_lease_ms(250);
    s.set_lease_refresh_ms(100);
    s.set_drift_margin_ms(50);
    auto* one = s.add_nodes();
    *one = status("egress-1", clusterApi, "172.16.0.7", pb::CANDIDACY_ENABLED, pb::MASTER);
    one->set_allowlist(pb::ALLOWLIST_OK);
    auto* four = s.add_nodes();
    *four = status("egress-4", nodeApi, "127.0.0.1", candidacy, pb::FOLLOWER);
    four->set_voter(false);
    four->set_allowlist(verdict);
    four->set_allowlist_detail(detail);
    four->set_wall_time_ms(wallMs());
    return s;
  }

  void setCandidacy(const std::string& node, bool enable, bool force, const std::string& /*reason*/,
                    std::function<void(bool, std::string)> done) override {
    std::lock_guard lock(mu_);
    if (node != self_) {
      done(false, "candidacy of " + node + " must be changed on that node's agent (" +
                      (node == "egress-4" ? nodeApi : clusterApi) + ")");
      return;
    }
    if (enable && !force && verdict != pb::ALLOWLIST_OK) {
      done(false, node + ": allowlist verdict is not ok (" + detail + "); enable with force to override");
      return;
    }
    candidacy = enable ? pb::CANDIDACY_ENABLED : pb::CANDIDACY_DISABLED;
    forced = force;
    if (auto* s = svc.load()) s->notifyStateChanged();
    done(true, node + " candidacy " + (enable ? "enabled" : "disabled") + (force ? " (forced)" : ""));
  }
  void handover(const std::string&, std::function<void(bool, std::string, std::string)> done) override {
    done(false, "not in this test", "");
  }
  void probeAllowlist(const std::string& node, std::function<void(pb::ProbeAllowlistResponse)> done) override {
    ++probes;
    if (!node.empty() && node != self_) {
      pb::ProbeAllowlistResponse r;
      r.set_detail("the probe runs on the node itself: ask " + node + "'s agent");
      done(r);
      return;
    }
    // Like the agent: the probe waits up to its timeout, never on a gRPC thread.
    std::thread([this, done = std::move(done)] {
      egw::AllowlistProber::Options o;
      o.target = egw::Endpoint{"127.0.0.1", probePort_};
      o.source = *egw::IpAddress::parse("127.0.0.1");
      o.timeout = std::chrono::milliseconds(2000);
      const egw::ProbeResult res = egw::AllowlistProber::probeOnce(o);
      pb::ProbeAllowlistResponse out;
      out.set_verdict(egw::codec::toProto(res.verdict));
      out.set_detail(res.detail);
      out.set_egress_ip("127.0.0.1");
      {
        std::lock_guard lock(mu_);
        verdict = out.verdict();
        detail = res.detail;
      }
      if (auto* s = svc.load()) s->notifyStateChanged();
      done(out);
    }).detach();
  }

  std::string clusterApi, nodeApi;
  pb::Candidacy candidacy = pb::CANDIDACY_PENDING;
  pb::AllowlistVerdict verdict = pb::ALLOWLIST_UNKNOWN;
  std::string detail;
  bool forced = false;
  std::atomic<int> probes{0};
  std::atomic<egw::ClusterService*> svc{nullptr};

 private:
  std::string self_;
  std::uint16_t probePort_;
  mutable std::mutex mu_;
};

struct Agent {
  Agent(Backend& b, const QString& dir, const char* name) : backend(&b) {
    auto opened = egw::EventStore::open(dir.toStdString(), name, egw::FlushPolicy::None);
    if (!opened) qFatal("EventStore::open: %s", opened.error().c_str());
    store = std::move(*opened);
    svc = std::make_unique<egw::ClusterService>(b, *store);
    b.svc = svc.get();
    grpc::ServerBuilder sb;
    sb.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    sb.RegisterService(svc.get());
    server = sb.BuildAndStart();
  }
  ~Agent() {
    backend->svc = nullptr;
    svc->shutdown();
    server->Shutdown(std::chrono::system_clock::now());
  }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port); }

  Backend* backend;
  std::unique_ptr<egw::EventStore> store;
  std::unique_ptr<egw::ClusterService> svc;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

std::unique_ptr<AgentClient> client(const QString& endpoint) {
  ClientOptions o;
  o.endpoints = {endpoint};
  o.backoff = BackoffPolicy{50, 400, 2.0};
  return std::make_unique<GrpcAgentClient>(std::move(o));
}

// A loopback port nothing listens on (yet): bound, noted, released.
quint16 freePort() {
  QTcpServer s;
  if (!s.listen(QHostAddress::LocalHost, 0)) qFatal("listen");
  return s.serverPort();
}

}  // namespace

class TestAddNodeVsAgentApi : public QObject {
  Q_OBJECT

  QTemporaryDir dir1_, dir4_;
  quint16 servicePort_ = 0;
  std::unique_ptr<Backend> clusterB_, nodeB_;
  std::unique_ptr<Agent> cluster_, node_;

  ClusterSnapshot clusterView() {
    auto c = client(QString::fromStdString(cluster_->endpoint()));
    ClusterSnapshot view;
    connect(c.get(), &AgentClient::snapshotReceived, this, [&](const ClusterSnapshot& s) { view = s; });
    c->start();
    if (!QTest::qWaitFor([&] { return !view.nodes.isEmpty(); }, kWaitMs)) qWarning("no snapshot from the cluster agent");
    c->stop();
    return view;
  }

 private slots:
  void init() {
    servicePort_ = freePort();
    clusterB_ = std::make_unique<Backend>("egress-1", servicePort_);
    nodeB_ = std::make_unique<Backend>("egress-4", servicePort_);
    cluster_ = std::make_unique<Agent>(*clusterB_, dir1_.path(), "egress-1");
    node_ = std::make_unique<Agent>(*nodeB_, dir4_.path(), "egress-4");
    for (Backend* b : {clusterB_.get(), nodeB_.get()}) {
      b->clusterApi = cluster_->endpoint();
      b->nodeApi = node_->endpoint();
    }
  }
  void cleanup() {
    node_.reset();
    cluster_.reset();
  }

  void probedUntilAcceptedThenEnabled() {
    AddNodeFlow flow(client);
    flow.setProbeInterval(300);  // under the service's 5 calls/s per client
    flow.setCluster(clusterView());
    QCOMPARE(flow.pendingNodes().size(), 1);
    QVERIFY(flow.chooseNode(QStringLiteral("egress-4")));
    QCOMPARE(flow.endpoint(), QString::fromStdString(node_->endpoint()));

    flow.startPreflight();
    QVERIFY2(QTest::qWaitFor([&] { return flow.preflightDone(); }, kWaitMs), qPrintable(flow.summary()));
    QVERIFY2(flow.preflightPassed(), qPrintable(flow.summary()));
    QCOMPARE(flow.egressIp(), QStringLiteral("127.0.0.1"));
    QVERIFY(flow.csv(true).endsWith("127.0.0.1,egress-4,standby,pending,\r\n"));

    // The service does not accept the IP yet: the real probe sees a TCP reset.
    flow.startVerify();
    QVERIFY(QTest::qWaitFor([&] { return flow.probeAttempts() >= 2 && flow.lastVerdict() == AllowlistVerdict::Rejected; }, kWaitMs));
    QVERIFY2(flow.lastProbeDetail().contains(QStringLiteral("refused")), qPrintable(flow.lastProbeDetail()));
    // Cancel stops the probes at the agent too.
    flow.cancelVerify();
    QTest::qWait(400);  // an answer in flight may still arrive
    const int probes = nodeB_->probes;
    QTest::qWait(1000);
    QCOMPARE(nodeB_->probes.load(), probes);
    QCOMPARE(flow.verifyState(), AddNodeFlow::VerifyState::Cancelled);

    // The owner applies the list: the service accepts connections now.
    QTcpServer service;
    QVERIFY(service.listen(QHostAddress::LocalHost, servicePort_));
    flow.startVerify();
    QVERIFY2(QTest::qWaitFor([&] { return flow.verifyState() == AddNodeFlow::VerifyState::Accepted; }, kWaitMs),
             qPrintable(flow.lastProbeDetail()));

    flow.enableCandidacy();
    QVERIFY(QTest::qWaitFor([&] { return flow.enableState() != AddNodeFlow::EnableState::Sending; }, kWaitMs));
    QCOMPARE(flow.enableState(), AddNodeFlow::EnableState::Enabled);
    QCOMPARE(flow.enableMessage(), QStringLiteral("egress-4 candidacy enabled"));
    QVERIFY(!nodeB_->forced);
    // The node's own Watch stream shows it.
    QVERIFY(QTest::qWaitFor([&] { return flow.node() && flow.node()->candidacy == Candidacy::Enabled; }, kWaitMs));
  }

  void refusalsAndTheManualPath() {
    // Asked through the cluster's agent, the candidacy is refused with the agent's reason: that is
    // why the flow talks to the node's own agent.
    auto viaCluster = client(QString::fromStdString(cluster_->endpoint()));
    QList<ActionResult> results;
    connect(viaCluster.get(), &AgentClient::actionFinished, this, [&](const ActionResult& r) { results << r; });
    viaCluster->start();
    viaCluster->setCandidacy(QStringLiteral("egress-4"), true, false, {});
    QVERIFY(QTest::qWaitFor([&] { return !results.isEmpty(); }, kWaitMs));
    QVERIFY(!results.first().ok);
    QVERIFY2(results.first().message.contains(QStringLiteral("must be changed on that node's agent")), qPrintable(results.first().message));

    AddNodeFlow flow(client);
    flow.setProbeInterval(300);
    flow.setCluster(clusterView());
    QVERIFY(flow.chooseAddress(QString::fromStdString(node_->endpoint())));
    flow.startPreflight();
    QVERIFY2(QTest::qWaitFor([&] { return flow.preflightPassed(); }, kWaitMs), qPrintable(flow.summary()));
    QCOMPARE(flow.nodeName(), QStringLiteral("egress-4"));
    flow.startVerify();
    QVERIFY(QTest::qWaitFor([&] { return flow.lastVerdict() == AllowlistVerdict::Rejected; }, kWaitMs));

    // Unforced, egress-4's own agent refuses while the verdict is not ok: the text comes back.
    auto direct = client(QString::fromStdString(node_->endpoint()));
    results.clear();
    connect(direct.get(), &AgentClient::actionFinished, this, [&](const ActionResult& r) { results << r; });
    direct->start();
    direct->setCandidacy(QStringLiteral("egress-4"), true, false, {});
    QVERIFY(QTest::qWaitFor([&] { return !results.isEmpty(); }, kWaitMs));
    QVERIFY(!results.first().ok);
    QVERIFY2(results.first().message.contains(QStringLiteral("enable with force")), qPrintable(results.first().message));

    // The operator confirms by hand: the flow forces.
    QVERIFY(flow.confirmManually(QStringLiteral("NET-42: owner confirmed by phone")));
    flow.enableCandidacy();
    QVERIFY(QTest::qWaitFor([&] { return flow.enableState() != AddNodeFlow::EnableState::Sending; }, kWaitMs));
    QCOMPARE(flow.enableState(), AddNodeFlow::EnableState::Enabled);
    QVERIFY(flow.forceUsed());
    QVERIFY(nodeB_->forced);
    QVERIFY(flow.summary().contains(QStringLiteral("NET-42: owner confirmed by phone")));
  }
};

QTEST_GUILESS_MAIN(TestAddNodeVsAgentApi)
#include "test_add_node_vs_agent_api.moc"
