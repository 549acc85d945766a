// SIGHUP on a real agent: a priority change is applied and shows in the Cluster API; a voters
// change is refused (needs a restart); an invalid file is refused with FILE:LINE: key. The agent
// keeps running and the cluster keeps its master throughout.
#include "support/agent_procs.h"

using namespace egwtest;

class TestAgentReload : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;
  QString master_;

  AgentProc& target() { return c_->byName(QStringLiteral("egress-2")); }

  int priorityOf(AgentProc& via, const QString& name) {
    auto s = fetchState(*via.stub);
    if (!s) return -1;
    auto n = nodeIn(*s, name);
    return n ? n->priority() : -1;
  }

  static int count(const QString& text, const QString& what) { return static_cast<int>(text.count(what)); }

  // The agent is alive, serves its API, and the cluster kept its master (a reload never
  // preempts).
  void verifyUndisturbed() {
    QVERIFY2(target().running(), qPrintable(c_->logs()));
    QCOMPARE(c_->agreedMaster(), master_);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c_ = std::make_unique<AgentCluster>(dir_, 0);
    QVERIFY(c_->startAll());
    QTRY_VERIFY2_WITH_TIMEOUT(!(master_ = c_->agreedMaster()).isEmpty(), qPrintable(c_->logs()), 15000);
  }

  void priorityIsApplied() {
    auto& n = target();
    QCOMPARE(priorityOf(n, n.name), 100);
    n.priority = 700;
    QVERIFY(c_->writeConfig(n));
    ::kill(n.pid(), SIGHUP);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(n).contains(QStringLiteral("reload: applied: priority 100 -> 700")),
                              qPrintable(c_->log(n)), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(priorityOf(n, n.name), 700, 5000);
    // The status report carries it to the master's cluster view too.
    QTRY_COMPARE_WITH_TIMEOUT(priorityOf(c_->byName(master_), n.name), 700, 5000);
    verifyUndisturbed();
  }

  void votersChangeIsRefused() {
    auto& n = target();
    const auto saved = n.votersYaml;
    n.votersYaml.replace(QStringLiteral(".3:7400"), QStringLiteral(".3:7410"));
    QVERIFY(n.votersYaml != saved);
    QVERIFY(c_->writeConfig(n));
    ::kill(n.pid(), SIGHUP);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(n).contains(QStringLiteral("refused: voters (needs a restart)")),
                              qPrintable(c_->log(n)), 5000);
    QCOMPARE(priorityOf(n, n.name), 700);
    verifyUndisturbed();
    n.votersYaml = saved;
  }

  void invalidConfigIsRefused() {
    auto& n = target();
    // Line 1 carries node.priority; 5000 is out of range (0..1000).
    auto text = c_->configText(n).replace(QStringLiteral("priority: 700"), QStringLiteral("priority: 5000"));
    QVERIFY(AgentCluster::writeFile(n.config, text));
    ::kill(n.pid(), SIGHUP);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(n).contains(QStringLiteral("reload refused, the config is invalid")),
                              qPrintable(c_->log(n)), 5000);
    const auto log = c_->log(n);
    const auto at = log.indexOf(QStringLiteral("reload refused, the config is invalid"));
    const auto detail = log.mid(at, 600);
    QVERIFY2(detail.contains(n.config + QStringLiteral(":1:")), qPrintable(detail));
    QVERIFY2(detail.contains(QStringLiteral("priority")), qPrintable(detail));
    QCOMPARE(priorityOf(n, n.name), 700);
    verifyUndisturbed();

    // A YAML syntax error is refused the same way.
    QVERIFY(AgentCluster::writeFile(n.config, c_->configText(n) + QStringLiteral("voters: [ {\n")));
    const int before = count(c_->log(n), QStringLiteral("reload refused, the config is invalid"));
    ::kill(n.pid(), SIGHUP);
    QTRY_COMPARE_WITH_TIMEOUT(count(c_->log(n), QStringLiteral("reload refused, the config is invalid")), before + 1, 5000);
    verifyUndisturbed();
  }

  void reloadStillWorksAfterRefusals() {
    auto& n = target();
    n.priority = 300;
    QVERIFY(c_->writeConfig(n));
    ::kill(n.pid(), SIGHUP);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(n).contains(QStringLiteral("reload: applied: priority 700 -> 300")),
                              qPrintable(c_->log(n)), 5000);
    QTRY_COMPARE_WITH_TIMEOUT(priorityOf(n, n.name), 300, 5000);
    verifyUndisturbed();
  }

  void cleanupTestCase() { c_.reset(); }
};

QTEST_GUILESS_MAIN(TestAgentReload)
#include "test_agent_reload.moc"
