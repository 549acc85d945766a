// GrpcAgentClient against the agent's own Cluster service (agent/api/cluster_service) and event
// journal, in-process on loopback: stream, the agent "crashes" (service, server and journal
// destroyed) and restarts from its journal on disk, and the console resumes with no duplicate
// and no missing event; handover through the real service.
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <atomic>

#include "console/core/console_session.h"
#include "console/core/grpc_agent_client.h"
#include "console/core/proto_convert.h"
#include "egw/version.h"
#include "agent/api/cluster_service.h"
#include "agent/store/event_store.h"

using namespace egw::console;
namespace pb = egressgw::v1;

namespace {

constexpr int kWaitMs = 10'000;

class TestBackend final : public egw::ClusterBackend {
 public:
  pb::ClusterState snapshot() const override {
    std::lock_guard lock(mu_);
    return state_;
  }
  void setCandidacy(const std::string&, bool, bool, const std::string&, std::function<void(bool, std::string)> done) override {
    done(true, "ok");
  }
  void handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) override {
    {
      std::lock_guard lock(mu_);
      state_.set_master(to);
      state_.set_term(state_.term() + 1);
    }
    if (egw::ClusterService* s = svc.load()) s->notifyStateChanged();
    done(true, "handed over", to);
  }
  void probeAllowlist(const std::string&, std::function<void(pb::ProbeAllowlistResponse)> done) override {
    done(pb::ProbeAllowlistResponse());
  }

  TestBackend() {
    state_.set_master("egress-1");
    state_.set_term(3);
    state_.set_served_by("egress-1");
    state_.set_protocol(egw::kProtocolVersion);
    for (const char* n : {"egress-1", "egress-2"}) {
      pb::NodeStatus* s = state_.add_nodes();
      s->set_name(n);
      s->set_candidacy(pb::CANDIDACY_ENABLED);
      s->set_healthy(true);
    }
  }
  // Changes the state and tells the service, as the agent does.
  void update(const std::function<void(pb::ClusterState&)>& change) {
    {
      std::lock_guard lock(mu_);
      change(state_);
    }
    if (egw::ClusterService* s = svc.load()) s->notifyStateChanged();
  }
  std::atomic<egw::ClusterService*> svc{nullptr};

 private:
  mutable std::mutex mu_;
  pb::ClusterState state_;
};

// One agent incarnation: journal, service, server. Destroyed in the order cluster_service.h asks.
struct Agent {
  Agent(TestBackend& backend, const QString& dir, int port) {
    auto opened = egw::EventStore::open(dir.toStdString(), "egress-1", egw::FlushPolicy::None);
    if (!opened) qFatal("EventStore::open: %s", opened.error().c_str());
    store = std::move(*opened);
    svc = std::make_unique<egw::ClusterService>(backend, *store);
    backend.svc = svc.get();
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &this->port);
    b.RegisterService(svc.get());
    server = b.BuildAndStart();
    this->backend = &backend;
  }
  ~Agent() {
    backend->svc = nullptr;
    svc->shutdown();
    server->Shutdown(std::chrono::system_clock::now());
    server.reset();
    svc.reset();
    store.reset();
  }
  void append(int n, const char* kind) {
    for (int i = 0; i < n; ++i) QVERIFY(store->append(kind, "egress-2", 3, "test").ok());
  }
  QString endpoint() const { return QStringLiteral("127.0.0.1:%1").arg(port); }

  TestBackend* backend = nullptr;
  std::unique_ptr<egw::EventStore> store;
  std::unique_ptr<egw::ClusterService> svc;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

ClientOptions fastOptions(const QString& endpoint) {
  ClientOptions o;
  o.endpoints = {endpoint};
  o.backoff = BackoffPolicy{50, 400, 2.0};
  return o;
}

}  // namespace

class TestClientVsAgentApi : public QObject {
  Q_OBJECT

 private slots:
  void resumesAcrossAnAgentRestart() {
    QTemporaryDir dir;
    TestBackend backend;
    auto agent = std::make_unique<Agent>(backend, dir.path(), 0);
    QVERIFY(agent->port > 0);
    const int port = agent->port;
    agent->append(5, "health_changed");

    GrpcAgentClient client(fastOptions(agent->endpoint()));
    QList<quint64> seqs;
    QList<ConnectionState> states;
    int snapshots = 0;
    connect(&client, &AgentClient::eventReceived, this, [&](const ClusterEvent& e, quint64) { seqs << e.seq; });
    connect(&client, &AgentClient::snapshotReceived, this, [&](const ClusterSnapshot&) { ++snapshots; });
    connect(&client, &AgentClient::connectionStateChanged, this,
            [&](ConnectionState s, const QString&, const QString&) { states << s; });
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(seqs.size(), 5, kWaitMs);
    agent->append(3, "candidacy_changed");
    QTRY_COMPARE_WITH_TIMEOUT(seqs.size(), 8, kWaitMs);

    agent.reset();  // the agent goes away; its journal stays on disk
    QTRY_VERIFY_WITH_TIMEOUT(states.contains(ConnectionState::Backoff), kWaitMs);
    agent = std::make_unique<Agent>(backend, dir.path(), port);
    QVERIFY2(agent->port == port, "could not rebind the port");
    agent->append(4, "master_elected");

    QTRY_COMPARE_WITH_TIMEOUT(seqs.size(), 12, kWaitMs);
    QList<quint64> expected;
    for (quint64 i = 1; i <= 12; ++i) expected << i;
    QCOMPARE(seqs, expected);
    QTRY_COMPARE_WITH_TIMEOUT(snapshots, 2, kWaitMs);
    QCOMPARE(client.resumeCursor(agent->endpoint()), agent->store->lastCursor());
  }

  // The client asks for deltas; after a change, a removal and a header change its state, and so
  // the session's, equals a fresh snapshot, and the removed node's row is gone.
  void deltasKeepTheConsoleEqualToAFreshSnapshot() {
    QTemporaryDir dir;
    TestBackend backend;
    backend.update([](pb::ClusterState& s) {
      for (int i = 1; i <= 20; ++i) {
        pb::NodeStatus* n = s.add_nodes();
        n->set_name("worker-" + std::to_string(i));
        n->set_candidacy(pb::CANDIDACY_NONE);
        n->set_healthy(true);
      }
    });
    Agent agent(backend, dir.path(), 0);
    ConsoleSession session;
    session.setClient(std::make_unique<GrpcAgentClient>(fastOptions(agent.endpoint())));
    QTRY_COMPARE_WITH_TIMEOUT(session.nodes()->rowCount(), 22, kWaitMs);

    backend.update([](pb::ClusterState& s) {
      s.mutable_nodes(5)->set_healthy(false);  // worker-4
      s.mutable_nodes()->DeleteSubrange(8, 1);  // worker-7
      s.set_term(4);
    });
    QTRY_COMPARE_WITH_TIMEOUT(session.nodes()->rowCount(), 21, kWaitMs);
    QCOMPARE(session.nodes()->rowOf(QStringLiteral("worker-7")), -1);
    QCOMPARE(session.state(), fromProto(backend.snapshot()));
    QCOMPARE(session.state().term, quint64(4));
    QVERIFY(!session.state().findNode(QStringLiteral("worker-4"))->healthy);
  }

  void handoverThroughTheService() {
    QTemporaryDir dir;
    TestBackend backend;
    Agent agent(backend, dir.path(), 0);
    GrpcAgentClient client(fastOptions(agent.endpoint()));
    QString master;
    QList<ActionResult> results;
    connect(&client, &AgentClient::snapshotReceived, this, [&](const ClusterSnapshot& s) { master = s.master; });
    connect(&client, &AgentClient::stateUpdated, this, [&](const ClusterSnapshot& s) { master = s.master; });
    connect(&client, &AgentClient::actionFinished, this, [&](const ActionResult& r) { results << r; });
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(master, QStringLiteral("egress-1"), kWaitMs);
    client.handover(QStringLiteral("egress-2"));
    QTRY_COMPARE_WITH_TIMEOUT(results.size(), 1, kWaitMs);
    QVERIFY2(results.first().ok, qPrintable(results.first().message));
    QCOMPARE(results.first().newMaster, QStringLiteral("egress-2"));
    QTRY_COMPARE_WITH_TIMEOUT(master, QStringLiteral("egress-2"), kWaitMs);
  }
};

QTEST_GUILESS_MAIN(TestClientVsAgentApi)
#include "test_client_vs_agent_api.moc"
