// GrpcAgentClient against a real gRPC server on loopback (port 0): streaming, a server killed
// and restarted (resume from the last cursor, no duplicate, no gap), failover between endpoints,
// and the bad inputs that must end in a clear state rather than a hang.
#include <QtCore/QElapsedTimer>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/grpc_agent_client.h"
#include "egw/version.h"
#include "fakes/fake_cluster_server.h"

using namespace egw::console;
using egw::testing::FakeCluster;
using egw::testing::FakeClusterServer;
using egw::testing::makeEvent;
using egw::testing::sampleState;
namespace pb = egressgw::v1;

namespace {

constexpr int kWaitMs = 10'000;  // upper bound for QTRY_*; the waits end as soon as the condition holds

// Records everything a client emits.
struct Recorder {
  explicit Recorder(AgentClient* c) {
    QObject::connect(c, &AgentClient::snapshotReceived, c, [this](const ClusterSnapshot& s) { snapshots << s; });
    QObject::connect(c, &AgentClient::stateUpdated, c, [this](const ClusterSnapshot& s) { states << s; });
    QObject::connect(c, &AgentClient::eventReceived, c, [this](const ClusterEvent& e, quint64 cursor) {
      seqs << e.seq;
      cursors << cursor;
    });
    QObject::connect(c, &AgentClient::connectionStateChanged, c,
                     [this](ConnectionState s, const QString& ep, const QString& detail) {
                       this->states_seen << s;
                       lastState = s;
                       lastEndpoint = ep;
                       lastDetail = detail;
                       if (s == ConnectionState::Backoff || s == ConnectionState::Incompatible) errors << ep + QStringLiteral(" ") + detail;
                     });
    QObject::connect(c, &AgentClient::actionFinished, c, [this](const ActionResult& r) { actions << r; });
  }
  QList<ClusterSnapshot> snapshots;
  QList<ClusterSnapshot> states;
  QList<quint64> seqs;
  QList<quint64> cursors;
  QList<ConnectionState> states_seen;
  QList<ActionResult> actions;
  QStringList errors;
  ConnectionState lastState = ConnectionState::Idle;
  QString lastEndpoint;
  QString lastDetail;
};

ClientOptions fastOptions(QStringList endpoints) {
  ClientOptions o;
  o.endpoints = std::move(endpoints);
  o.backoff = BackoffPolicy{50, 400, 2.0};
  o.snapshotTimeoutMs = 2'000;
  o.connectTimeoutMs = 1'000;
  return o;
}

QList<quint64> range(quint64 from, quint64 to) {
  QList<quint64> r;
  for (quint64 i = from; i <= to; ++i) r << i;
  return r;
}

qint64 now() { return egw::testing::FakeClusterService::nowMs(); }

}  // namespace

class TestGrpcAgentClient : public QObject {
  Q_OBJECT

 private slots:
  void streamsSnapshotStateAndEvents() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    for (int i = 0; i < 3; ++i) cluster.appendEvent(makeEvent("health_changed", "egress-2", 3, now()));
    FakeClusterServer server(&cluster, 0);
    QVERIFY(server.ok());

    GrpcAgentClient client(fastOptions({QString::fromStdString(server.endpoint())}));
    Recorder rec(&client);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);
    QTRY_COMPARE_WITH_TIMEOUT(rec.seqs, range(1, 3), kWaitMs);
    QCOMPARE(rec.snapshots.size(), 1);
    QCOMPARE(rec.snapshots.first().master, QStringLiteral("egress-1"));
    QCOMPARE(rec.snapshots.first().nodes.size(), 4);
    QCOMPARE(rec.snapshots.first().nodes.at(1).egressIp, QStringLiteral("172.16.0.8"));

    cluster.mutateState([](auto& s) { s.set_term(4); });
    QTRY_VERIFY_WITH_TIMEOUT(!rec.states.isEmpty() && rec.states.last().term == 4, kWaitMs);
    QCOMPARE(client.connectionState(), ConnectionState::Streaming);
  }

  void resumesAfterServerRestartWithoutGapOrDuplicate() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    for (int i = 0; i < 5; ++i) cluster.appendEvent(makeEvent("health_changed", "egress-2", 3, now()));
    auto server = std::make_unique<FakeClusterServer>(&cluster, 0);
    QVERIFY(server->ok());
    const int port = server->port();
    const QString ep = QString::fromStdString(server->endpoint());

    GrpcAgentClient client(fastOptions({ep}));
    Recorder rec(&client);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.seqs, range(1, 5), kWaitMs);
    for (int i = 0; i < 5; ++i) cluster.appendEvent(makeEvent("candidacy_changed", "egress-3", 3, now()));
    QTRY_COMPARE_WITH_TIMEOUT(rec.seqs, range(1, 10), kWaitMs);
    QCOMPARE(client.resumeCursor(ep), quint64(10));

    server->kill();
    QTRY_VERIFY_WITH_TIMEOUT(rec.lastState == ConnectionState::Backoff || rec.lastState == ConnectionState::Connecting,
                             kWaitMs);
    // Events recorded while the console is cut off must arrive after the restart.
    for (int i = 0; i < 5; ++i) cluster.appendEvent(makeEvent("master_elected", "egress-2", 4, now(), 300));
    server = std::make_unique<FakeClusterServer>(&cluster, port);
    QVERIFY2(server->ok(), "could not rebind the port");

    QTRY_COMPARE_WITH_TIMEOUT(rec.seqs, range(1, 15), kWaitMs);
    QCOMPARE(rec.cursors, range(1, 15));
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);
    QCOMPARE(rec.snapshots.size(), 2);  // one per stream
    const auto sinces = cluster.sinces();
    QVERIFY(sinces.size() >= 2);
    QCOMPARE(sinces.front(), std::uint64_t(0));
    QCOMPARE(sinces.back(), std::uint64_t(10));
    QVERIFY(!rec.errors.isEmpty());
    QVERIFY2(rec.errors.first().contains(QStringLiteral("stream ended")), qPrintable(rec.errors.first()));
  }

  void failsOverToTheNextEndpoint() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    FakeClusterServer server(&cluster, 0);
    const QString live = QString::fromStdString(server.endpoint());
    GrpcAgentClient client(fastOptions({QStringLiteral("127.0.0.1:1"), live}));
    Recorder rec(&client);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);
    QCOMPARE(rec.lastEndpoint, live);
    QCOMPARE(client.currentEndpoint(), live);
    QVERIFY(!rec.errors.isEmpty());
    QVERIFY2(rec.errors.first().startsWith(QStringLiteral("127.0.0.1:1 ")), qPrintable(rec.errors.first()));
  }

  void unreachableEndpointsGiveAClearStateAndNoHang() {
    QElapsedTimer t;
    t.start();
    {
      GrpcAgentClient client(fastOptions({QStringLiteral("127.0.0.1:1"), QStringLiteral("127.0.0.1:2")}));
      Recorder rec(&client);
      client.start();
      QTRY_VERIFY_WITH_TIMEOUT(rec.errors.size() >= 2, kWaitMs);
      QCOMPARE(rec.lastState, ConnectionState::Backoff);
      QVERIFY2(rec.errors.first().contains(QStringLiteral("UNAVAILABLE")), qPrintable(rec.errors.first()));
      QVERIFY2(rec.errors.first().contains(QStringLiteral("retrying 127.0.0.1:2")), qPrintable(rec.errors.first()));
      QVERIFY(rec.snapshots.isEmpty());
    }
    QVERIFY2(t.elapsed() < kWaitMs, "the client must give up and be destroyed promptly");
  }

  void otherProtocolVersionIsRefused() {
    FakeCluster cluster;
    cluster.setState(sampleState(99, now()));
    FakeClusterServer server(&cluster, 0);
    GrpcAgentClient client(fastOptions({QString::fromStdString(server.endpoint())}));
    Recorder rec(&client);
    client.start();
    QTRY_VERIFY_WITH_TIMEOUT(rec.states_seen.contains(ConnectionState::Incompatible), kWaitMs);
    QVERIFY(!rec.errors.isEmpty());
    const QString expected = QStringLiteral("agent egress-1 speaks protocol 99, console speaks %1").arg(egw::kProtocolVersion);
    QVERIFY2(rec.errors.first().contains(expected), qPrintable(rec.errors.first()));
    QVERIFY(rec.snapshots.isEmpty());
    QVERIFY(!rec.states_seen.contains(ConnectionState::Streaming));
  }

  void silentAgentTimesOut() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    cluster.silent = true;
    FakeClusterServer server(&cluster, 0);
    ClientOptions o = fastOptions({QString::fromStdString(server.endpoint())});
    o.snapshotTimeoutMs = 300;
    GrpcAgentClient client(o);
    Recorder rec(&client);
    client.start();
    QTRY_VERIFY_WITH_TIMEOUT(!rec.errors.isEmpty(), kWaitMs);
    QVERIFY2(rec.errors.first().contains(QStringLiteral("no snapshot within 300 ms")), qPrintable(rec.errors.first()));
  }

  void missingTlsFilesAreReported() {
    ClientOptions o = fastOptions({QStringLiteral("127.0.0.1:1")});
    o.tls.caPath = QStringLiteral("/nonexistent/ca.pem");
    GrpcAgentClient client(o);
    Recorder rec(&client);
    client.start();
    QTRY_VERIFY_WITH_TIMEOUT(!rec.errors.isEmpty(), kWaitMs);
    QVERIFY2(rec.errors.first().contains(QStringLiteral("TLS: /nonexistent/ca.pem (the cluster CA): No such file or directory")),
             qPrintable(rec.errors.first()));
  }

  void handoverAndCandidacyReachTheAgent() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    FakeClusterServer server(&cluster, 0);
    GrpcAgentClient client(fastOptions({QString::fromStdString(server.endpoint())}));
    Recorder rec(&client);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);

    client.handover(QStringLiteral("egress-2"));
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 1, kWaitMs);
    QVERIFY(rec.actions.at(0).ok);
    QCOMPARE(rec.actions.at(0).action, Action::Handover);
    QCOMPARE(rec.actions.at(0).newMaster, QStringLiteral("egress-2"));
    QTRY_VERIFY_WITH_TIMEOUT(!rec.states.isEmpty() && rec.states.last().master == QStringLiteral("egress-2"), kWaitMs);

    client.setCandidacy(QStringLiteral("egress-3"), false, false, {});
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 2, kWaitMs);
    QVERIFY(rec.actions.at(1).ok);
    QTRY_VERIFY_WITH_TIMEOUT(!rec.states.isEmpty() && rec.states.last().nodes.at(2).candidacy == Candidacy::Disabled,
                             kWaitMs);

    client.setCandidacy(QStringLiteral("nope"), true, false, {});
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 3, kWaitMs);
    QVERIFY(!rec.actions.at(2).ok);
    QCOMPARE(rec.actions.at(2).message, QStringLiteral("no such node: nope"));
  }

  void probeReasonAndLeaseFiguresCross() {
    FakeCluster cluster;
    pb::ClusterState st = sampleState(egw::kProtocolVersion, now());
    st.set_lease_ms(250);
    st.set_lease_refresh_ms(100);
    st.set_drift_margin_ms(50);
    st.mutable_nodes(1)->set_allowlist(pb::ALLOWLIST_REJECTED);
    st.mutable_nodes(1)->set_allowlist_detail("refused (TCP reset)");
    st.mutable_nodes(1)->set_egress_ip("172.16.0.8");
    cluster.setState(st);
    FakeClusterServer server(&cluster, 0);
    GrpcAgentClient client(fastOptions({QString::fromStdString(server.endpoint())}));
    Recorder rec(&client);
    ClusterSnapshot snap;
    connect(&client, &AgentClient::snapshotReceived, this, [&](const ClusterSnapshot& s) { snap = s; });
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);
    QCOMPARE(snap.leaseMs, 250);
    QCOMPARE(snap.leaseRefreshMs, 100);
    QCOMPARE(snap.driftMarginMs, 50);

    const QString node = QString::fromStdString(st.nodes(1).name());
    client.probeAllowlist(node);
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 1, kWaitMs);
    QCOMPARE(rec.actions.at(0).action, Action::ProbeAllowlist);
    QVERIFY(rec.actions.at(0).ok);
    QCOMPARE(rec.actions.at(0).target, node);
    QCOMPARE(rec.actions.at(0).verdict, AllowlistVerdict::Rejected);
    QCOMPARE(rec.actions.at(0).message, QStringLiteral("refused (TCP reset)"));
    QCOMPARE(rec.actions.at(0).egressIp, QStringLiteral("172.16.0.8"));
    client.probeAllowlist(QStringLiteral("nope"));
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 2, kWaitMs);
    QVERIFY(!rec.actions.at(1).ok);  // the call failed
    QVERIFY2(rec.actions.at(1).message.startsWith(QStringLiteral("NOT_FOUND")), qPrintable(rec.actions.at(1).message));

    client.setCandidacy(node, true, true, QStringLiteral("NET-9: confirmed"));
    QTRY_COMPARE_WITH_TIMEOUT(rec.actions.size(), 3, kWaitMs);
    std::lock_guard lock(cluster.mu);
    QCOMPARE(cluster.candidacyReasons, std::vector<std::string>{"NET-9: confirmed"});
  }

  void stopEndsTheStream() {
    FakeCluster cluster;
    cluster.setState(sampleState(egw::kProtocolVersion, now()));
    FakeClusterServer server(&cluster, 0);
    GrpcAgentClient client(fastOptions({QString::fromStdString(server.endpoint())}));
    Recorder rec(&client);
    client.start();
    QTRY_COMPARE_WITH_TIMEOUT(rec.lastState, ConnectionState::Streaming, kWaitMs);
    client.stop();
    QCOMPARE(rec.lastState, ConnectionState::Stopped);
    cluster.appendEvent(makeEvent("health_changed", "egress-2", 3, now()));
    QTest::qWait(200);  // nothing may arrive after stop(); there is no event to wait for instead
    QVERIFY(rec.seqs.isEmpty());
    QCOMPARE(rec.lastState, ConnectionState::Stopped);
  }
};

QTEST_GUILESS_MAIN(TestGrpcAgentClient)
#include "test_grpc_agent_client.moc"
