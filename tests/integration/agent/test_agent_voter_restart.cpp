// kill -9 of voters (a follower, then the master) and a restart with the same state_dir: the
// persisted election.state never goes back in term, the restarted voter rejoins without deposing
// anyone, the cluster converges with exactly one master, and the merged journal never shows two
// masters elected in one term. A corrupt state file is reported and the voter still rejoins.
#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>

#include "support/agent_procs.h"
#include "support/paths.h"

using namespace egwtest;

namespace {

struct StateFile {
  std::uint64_t term = 0;
  QString votedFor;
  bool wellFormed = false;
  QString text;
};

// agent/store/state_store.cpp: "egress-gateway-state 1", "term N", "voted_for NAME|-",
// "candidacy ...", "crc32 XXXXXXXX".
StateFile readState(const AgentProc& n) {
  StateFile s;
  QFile f(n.stateDir + QStringLiteral("/election.state"));
  if (!f.open(QIODevice::ReadOnly)) return s;
  s.text = QString::fromUtf8(f.readAll());
  const auto lines = s.text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  bool term = false, crc = false;
  for (const auto& l : lines) {
    const auto kv = l.split(QLatin1Char(' '));
    if (kv.size() != 2) continue;
    if (kv[0] == QStringLiteral("term")) s.term = kv[1].toULongLong(&term);
    if (kv[0] == QStringLiteral("voted_for")) s.votedFor = kv[1];
    if (kv[0] == QStringLiteral("crc32")) crc = kv[1].size() == 8;
  }
  s.wellFormed = !lines.isEmpty() && lines.first() == QStringLiteral("egress-gateway-state 1") && term && crc;
  return s;
}

}  // namespace

class TestAgentVoterRestart : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

  // All running agents agree on one master, and in the master's own view exactly one node has
  // the master role.
  bool convergedOnOneMaster(QString* master = nullptr, std::uint64_t* term = nullptr) {
    for (auto& n : c_->nodes())
      if (!n.running()) return false;
    auto m = c_->agreedMaster(term);
    if (m.isEmpty()) return false;
    auto s = fetchState(*c_->byName(m).stub);
    if (!s || QString::fromStdString(s->master()) != m) return false;
    int masters = 0;
    for (const auto& n : s->nodes()) masters += n.role() == pb::MASTER;
    if (masters != 1) return false;
    if (master) *master = m;
    return true;
  }

  // Waits until convergedOnOneMaster(). The bound is for liveness, not speed. Under ASan, with the
  // suite running two tests at a time (one of them the CPU-bound election simulation), a
  // restarted voter has twice taken 18-19 s to converge where it usually takes 1-3 s. The cause is
  // not explained yet. So the bound is 45 s, and any wait over 15 s prints every agent's
  // info-level log to the test output and appends it to BUILD/slow-convergence.log, which a
  // later ctest run does not overwrite, for the next look.
  bool waitConverged(const char* what) {
    QElapsedTimer t;
    t.start();
    bool ok = false;
    while (!(ok = convergedOnOneMaster()) && t.elapsed() < 45000) QTest::qWait(50);
    if (t.elapsed() > 15000) {
      const QString text = QStringLiteral("%1: %2: converged=%3 after %4 ms (slow); the agents' logs:\n%5\n")
                               .arg(QDateTime::currentDateTimeUtc().toString(Qt::ISODate), QString::fromUtf8(what))
                               .arg(ok)
                               .arg(t.elapsed())
                               .arg(c_->summary());
      qWarning("%s", qPrintable(text));
      QFile f(egwtest::binaryPath(u"slow-convergence.log"));
      if (f.open(QIODevice::Append)) f.write(text.toUtf8());
    }
    return ok;
  }

  // Every agent's merged journal: no term in which two different nodes were elected.
  void verifyOneMasterPerTerm() {
    for (auto& n : c_->nodes()) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      pb::ListEventsRequest req;
      req.set_page_size(1000);
      pb::ListEventsResponse resp;
      QVERIFY(n.stub->ListEvents(&ctx, req, &resp).ok());
      QMap<std::uint64_t, std::string> elected;
      for (const auto& e : resp.events()) {
        if (e.kind() != "master_elected") continue;
        auto it = elected.find(e.term());
        QVERIFY2(it == elected.end() || *it == e.node(),
                 qPrintable(QStringLiteral("term %1: %2 and %3 both elected (journal of %4)")
                                .arg(e.term())
                                .arg(QString::fromStdString(it == elected.end() ? std::string() : *it),
                                     QString::fromStdString(e.node()), n.name)));
        elected.insert(e.term(), e.node());
      }
    }
  }

  AgentProc& aFollower(const QString& master) {
    for (auto& n : c_->nodes())
      if (n.name != master) return n;
    qFatal("no follower");
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c_ = std::make_unique<AgentCluster>(dir_, 2);
    QVERIFY(c_->startAll());
    QVERIFY2(waitConverged("start"), qPrintable(c_->logs()));
  }

  void followerVoterRestarts() {
    QString master;
    std::uint64_t term = 0;
    QVERIFY(convergedOnOneMaster(&master, &term));
    auto& v = aFollower(master);
    const auto before = readState(v);
    QVERIFY2(before.wellFormed, qPrintable(before.text));
    QCOMPARE(before.term, term);
    c_->kill9(v);
    c_->start(v);
    QVERIFY(v.running());
    // It rejoins as a follower of the same master (no preemption) and keeps its term.
    QVERIFY2(waitConverged("follower restart"), qPrintable(c_->logs()));
    QCOMPARE(c_->agreedMaster(), master);
    const auto after = readState(v);
    QVERIFY2(after.wellFormed, qPrintable(after.text));
    QVERIFY(after.term >= before.term);
    verifyOneMasterPerTerm();
  }

  void masterVoterRestarts() {
    QString first;
    std::uint64_t term1 = 0;
    QVERIFY(convergedOnOneMaster(&first, &term1));
    auto& m = c_->byName(first);
    const auto before = readState(m);
    QVERIFY2(before.wellFormed, qPrintable(before.text));
    QVERIFY(before.term >= term1);
    QCOMPARE(before.votedFor, first);  // it voted for itself in the term it won
    c_->kill9(m);
    QString second;
    std::uint64_t term2 = 0;
    QTRY_VERIFY2_WITH_TIMEOUT((second = c_->agreedMaster(&term2), !second.isEmpty() && second != first), qPrintable(c_->logs()),
                              15000);
    QVERIFY(term2 > term1);
    c_->start(m);
    QVERIFY(m.running());
    QVERIFY2(waitConverged("master restart"), qPrintable(c_->logs()));
    QCOMPARE(c_->agreedMaster(), second);
    // Its file never went back, and it caught up with the new term by following its master.
    QVERIFY(readState(m).term >= before.term);
    QTRY_VERIFY2_WITH_TIMEOUT(readState(m).term >= term2, qPrintable(readState(m).text), 5000);
    verifyOneMasterPerTerm();
  }

  void corruptStateFileIsReported() {
    QString master;
    QVERIFY(convergedOnOneMaster(&master));
    auto& v = aFollower(master);
    c_->kill9(v);
    const auto path = v.stateDir + QStringLiteral("/election.state");
    auto text = readState(v).text;
    QVERIFY(!text.isEmpty());
    text.replace(QStringLiteral("term "), QStringLiteral("term 9"));  // the checksum no longer matches
    QVERIFY(AgentCluster::writeFile(path, text));
    c_->start(v);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(v).contains(QStringLiteral("checksum mismatch")), qPrintable(c_->log(v)), 5000);
    QVERIFY(c_->log(v).contains(QStringLiteral("will not vote in the current term")));
    QVERIFY2(waitConverged("restart with a corrupt state file"), qPrintable(c_->logs()));
    QVERIFY2(c_->agreedMaster() == master, qPrintable(c_->summary()));
    // Rewritten (well-formed again) once it heard of the current term.
    QTRY_VERIFY2_WITH_TIMEOUT(readState(v).wellFormed, qPrintable(readState(v).text), 5000);
    verifyOneMasterPerTerm();
  }

  void cleanupTestCase() { c_.reset(); }
};

QTEST_GUILESS_MAIN(TestAgentVoterRestart)
#include "test_agent_voter_restart.moc"
