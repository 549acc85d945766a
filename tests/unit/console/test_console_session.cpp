// ConsoleSession with a fake client: coalesced batches, banner tracking, connection problems,
// the headless status line, and reconnect policy / profiles (pure helpers of console_core).
#include <QtCore/QSettings>
#include <QtCore/QTemporaryDir>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/backoff.h"
#include "console/core/connection_profiles.h"
#include "console/core/console_session.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

class TestConsoleSession : public QObject {
  Q_OBJECT

  static constexpr qint64 kNow = 1'700'000'000'000;

  std::pair<std::unique_ptr<ConsoleSession>, FakeAgentClient*> make() {
    auto s = std::make_unique<ConsoleSession>();
    s->setClock([] { return kNow; });
    auto c = std::make_unique<FakeAgentClient>();
    FakeAgentClient* raw = c.get();
    s->setClient(std::move(c));
    return {std::move(s), raw};
  }

 private slots:
  void coalescesABurstIntoOneBatch() {
    auto [s, c] = make();
    QAbstractItemModelTester nodesTester(s->nodes(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester eventsTester(s->events(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(c->starts, 1);
    c->sendSnapshot(sampleCluster());
    QSignalSpy inserted(s->events(), &QAbstractItemModel::rowsInserted);
    for (int i = 0; i < 50; ++i) {
      c->sendEvent(ClusterEvent{QStringLiteral("egress-1"), quint64(i + 1), kNow, QStringLiteral("health_changed"),
                                QStringLiteral("egress-2"), 3, {}, -1});
    }
    QCOMPARE(s->nodes()->rowCount(), 0);  // nothing applied before the flush
    QTRY_COMPARE(s->nodes()->rowCount(), 4);  // the flush timer (100 ms) applies everything at once
    QCOMPARE(s->events()->rowCount(), 50);
    QCOMPARE(inserted.size(), 1);
  }

  void bannerFollowsTheMaster() {
    auto [s, c] = make();
    QSignalSpy banner(s.get(), &ConsoleSession::bannerChanged);
    c->sendSnapshot(sampleCluster());
    s->flush();
    QCOMPARE(s->banner().master, QStringLiteral("egress-1"));
    QCOMPARE(s->banner().egressIp, QStringLiteral("172.16.0.7"));
    QVERIFY(s->banner().connected);
    c->sendState(sampleCluster(QStringLiteral("egress-2"), 4));
    s->flush();
    QCOMPARE(s->banner().master, QStringLiteral("egress-2"));
    QCOMPARE(s->banner().egressIp, QStringLiteral("172.16.0.8"));
    QCOMPARE(s->banner().term, quint64(4));
    QCOMPARE(s->statusLine(), QStringLiteral("master egress-2 term 4 · nodes 4/4 healthy · streaming via fake:7401"));

    ClusterSnapshot vip = sampleCluster(QStringLiteral("egress-2"), 4);
    vip.mode = QStringLiteral("virtual-ip");
    vip.virtualIp = QStringLiteral("172.16.0.100");
    c->sendState(vip);
    s->flush();
    QCOMPARE(s->banner().egressIp, QStringLiteral("172.16.0.100"));
  }

  // docs/membership.md: an observer's API serves only itself; the status line says so in words.
  void servedByAnObserverTheStatusLineSaysWhereTheWholeViewIs() {
    auto [s, c] = make();
    ClusterSnapshot observer = sampleCluster();
    observer.servedBy = QStringLiteral("worker-3");
    observer.partial = true;
    observer.voters = {QStringLiteral("egress-1"), QStringLiteral("egress-2"), QStringLiteral("egress-3")};
    c->sendSnapshot(observer);
    s->flush();
    QCOMPARE(s->statusLine(),
             QStringLiteral("master egress-1 term 3 · nodes 4/4 healthy · streaming via fake:7401 · served by observer "
                            "worker-3: it knows only itself and the master; connect to a voter (egress-1, egress-2, "
                            "egress-3) for the whole cluster"));
  }

  void connectionProblemsAreKeptUntilTheNextSnapshot() {
    auto [s, c] = make();
    c->sendSnapshot(sampleCluster());
    s->flush();
    c->setConnection(ConnectionState::Incompatible, QStringLiteral("agent egress-9 speaks protocol 2, console speaks 1"));
    QVERIFY(!s->banner().connected);
    QCOMPARE(s->lastError(), QStringLiteral("fake:7401: agent egress-9 speaks protocol 2, console speaks 1"));
    c->setConnection(ConnectionState::Connecting);
    QVERIFY(s->statusLine().contains(QStringLiteral("connecting via fake:7401")));
    QVERIFY(s->statusLine().contains(QStringLiteral("speaks protocol 2")));  // the reason, not "opening Watch"
    QCOMPARE(s->lastError(), QStringLiteral("fake:7401: agent egress-9 speaks protocol 2, console speaks 1"));
    // Each endpoint keeps its own reason.
    c->endpoint = QStringLiteral("other:7401");
    c->setConnection(ConnectionState::Backoff, QStringLiteral("stream ended: UNAVAILABLE"));
    QCOMPARE(s->lastError(), QStringLiteral("fake:7401: agent egress-9 speaks protocol 2, console speaks 1\n"
                                            "other:7401: stream ended: UNAVAILABLE"));
    c->endpoint = QStringLiteral("fake:7401");
    c->sendSnapshot(sampleCluster());
    s->flush();
    QVERIFY(s->lastError().isEmpty());
    QVERIFY(s->banner().connected);
  }

  void replacingTheClientStopsTheOldOne() {
    auto [s, c] = make();
    QSignalSpy conn(s.get(), &ConsoleSession::connectionChanged);
    auto next = std::make_unique<FakeAgentClient>();
    next->endpoint = QStringLiteral("other:7401");
    s->setClient(std::move(next));
    QCOMPARE(s->endpoint(), QStringLiteral("other:7401"));
    QCOMPARE(s->connectionState(), ConnectionState::Connecting);
  }

  void backoffGrowsAndIsCapped() {
    const BackoffPolicy p{250, 10'000, 2.0};
    QCOMPARE(p.delayMs(1), 250);
    QCOMPARE(p.delayMs(2), 500);
    QCOMPARE(p.delayMs(3), 1000);
    QCOMPARE(p.delayMs(50), 10'000);
    ReconnectSchedule r({QStringLiteral("a:1"), QStringLiteral("b:2")}, p);
    QCOMPARE(r.current(), QStringLiteral("a:1"));
    QCOMPARE(r.fail(), 250);
    QCOMPARE(r.current(), QStringLiteral("b:2"));
    QCOMPARE(r.fail(), 500);
    QCOMPARE(r.current(), QStringLiteral("a:1"));
    r.succeeded();
    QCOMPARE(r.fail(), 250);
  }

  void profilesRoundTripThroughQSettings() {
    QTemporaryDir dir;
    QSettings settings(dir.filePath(QStringLiteral("console.ini")), QSettings::IniFormat);
    ConnectionProfiles p;
    p.load(settings);
    QCOMPARE(p.all().size(), 1);
    QCOMPARE(p.current(), ConnectionProfiles::defaultProfile());
    p.upsert(ConnectionProfile{QStringLiteral("lab"), {QStringLiteral("10.0.0.11:7401"), QStringLiteral("10.0.0.12:7401")},
                               QStringLiteral("/etc/egress-gateway/tls")});
    p.setCurrent(QStringLiteral("lab"));
    p.save(settings);
    ConnectionProfiles q;
    q.load(settings);
    QCOMPARE(q.all().size(), 2);
    QCOMPARE(q.currentName(), QStringLiteral("lab"));
    QCOMPARE(q.current().endpoints.size(), 2);
    QCOMPARE(q.current().tlsDir, QStringLiteral("/etc/egress-gateway/tls"));
    q.remove(QStringLiteral("lab"));
    QCOMPARE(q.currentName(), QStringLiteral("local"));
  }

  void endpointsAreParsed() {
    QString error;
    QCOMPARE(ConnectionProfiles::parseEndpoints(QStringLiteral("a:1, b.example:7401 [::1]:7401"), &error),
             (QStringList{QStringLiteral("a:1"), QStringLiteral("b.example:7401"), QStringLiteral("[::1]:7401")}));
    QVERIFY(ConnectionProfiles::parseEndpoints(QStringLiteral("a:1, nohost"), &error).isEmpty());
    QCOMPARE(error, QStringLiteral("'nohost' is not HOST:PORT"));
    QVERIFY(ConnectionProfiles::parseEndpoints(QStringLiteral("a:99999"), &error).isEmpty());
  }
};

QTEST_GUILESS_MAIN(TestConsoleSession)
#include "test_console_session.moc"
