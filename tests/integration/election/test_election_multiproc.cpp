// Three real egress-agent processes on loopback with --no-datapath: a master is elected;
// SIGKILL of the master elects another; SIGTERM of the master hands over at once.

#include <QDeadlineTimer>
#include <QTemporaryDir>
#include <QTest>

#include "support/agent_procs.h"

using namespace egwtest;

class TestElectionMultiproc : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

  QString agreedMaster(std::uint64_t* term = nullptr) { return c_->agreedMaster(term); }
  AgentProc& byName(const QString& name) { return c_->byName(name); }
  QString logs() const { return c_->logs(); }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    // The agents' fast end: 50 ms heartbeats, a 200 ms election timeout.
    c_ = std::make_unique<AgentCluster>(dir_, 4, 50, 200);
    QVERIFY2(c_->startAll(), qPrintable(logs()));
  }

  void electsOneMaster() {
    QTRY_VERIFY2_WITH_TIMEOUT(!agreedMaster().isEmpty(), qPrintable(logs()), 15000);
  }

  void sigkillElectsAnother() {
    std::uint64_t term1 = 0;
    const auto first = agreedMaster(&term1);
    QVERIFY(!first.isEmpty());
    auto& m = byName(first);
    c_->kill9(m);
    QVERIFY(!m.running());
    QString second;
    std::uint64_t term2 = 0;
    QTRY_VERIFY2_WITH_TIMEOUT((second = agreedMaster(&term2), !second.isEmpty() && second != first), qPrintable(logs()), 15000);
    QVERIFY(term2 > term1);
    // The killed node restarts with its persisted term and rejoins as a follower (no preempt).
    c_->start(m);
    QVERIFY(m.running());
    // A new channel for every try: nothing of the killed process's connection (or of gRPC's
    // reconnect backoff while the new one starts) is carried over.
    const auto followsSecond = [&] {
      auto stub = pb::Cluster::NewStub(agentChannel(m.apiEndpoint().toStdString()));
      auto st = fetchState(*stub);
      return st && st->master() == second.toStdString();
    };
    QDeadlineTimer deadline(15000);
    while (!followsSecond() && !deadline.hasExpired()) QTest::qWait(50);
    if (!followsSecond()) qWarning("%s", qPrintable(logs()));  // QVERIFY2 truncates long messages
    QVERIFY(followsSecond());
    QCOMPARE(agreedMaster(), second);
  }

  void sigtermHandsOver() {
    const auto before = agreedMaster();
    QVERIFY(!before.isEmpty());
    auto& m = byName(before);
    m.proc->terminate();  // SIGTERM
    QVERIFY(m.proc->waitForFinished(10000));
    QCOMPARE(m.proc->exitCode(), 0);
    QString after;
    QTRY_VERIFY2_WITH_TIMEOUT((after = agreedMaster(), !after.isEmpty() && after != before), qPrintable(logs()), 15000);
    QVERIFY2(logs().contains(QStringLiteral("handing over to")), qPrintable(logs()));
    // The handover is recorded as an event that any agent serves.
    auto& survivor = byName(after);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    pb::ListEventsRequest req;
    req.set_page_size(1000);
    pb::ListEventsResponse resp;
    QVERIFY(survivor.stub->ListEvents(&ctx, req, &resp).ok());
    bool sawHandover = false, sawElected = false;
    for (const auto& e : resp.events()) {
      sawHandover |= e.kind() == "handover" && e.origin() == before.toStdString();
      sawElected |= e.kind() == "master_elected" && e.node() == after.toStdString();
    }
    QVERIFY2(sawHandover, qPrintable(logs()));
    QVERIFY2(sawElected, qPrintable(logs()));
  }

  void cleanupTestCase() { c_.reset(); }  // agents killed, gRPC stubs gone before the library shuts down at exit
};

QTEST_GUILESS_MAIN(TestElectionMultiproc)
#include "test_election_multiproc.moc"
