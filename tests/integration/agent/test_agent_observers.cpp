// Membership protocol 2 with real agent processes (docs/membership.md): 3 voters and 20 observers
// on loopback. Every observer learns the master from its feed voter, serves only its own status,
// and follows a new master after the master's SIGKILL; a voter that is not master serves the whole
// cluster (relayed through the feeds and the master's heartbeats).
#include <QTest>

#include <set>

#include "support/agent_procs.h"

using egwtest::AgentCluster;
using egwtest::fetchState;

namespace {
constexpr int kObservers = 20;
}

class TestAgentObservers : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

  // The master every running agent reports, observers included, once all 23 agree and it is not
  // `not_`: asked once per 200 ms (one Watch per agent each time), for at most 30 s.
  QString waitAgreed(const QString& not_ = {}) {
    for (int i = 0; i < 150; ++i) {
      const QString m = c_->agreedMaster();
      if (!m.isEmpty() && m != not_) return m;
      QTest::qWait(200);
    }
    return {};
  }

 private slots:
  void init() {
    c_ = std::make_unique<AgentCluster>(dir_, 5);
    for (int i = 1; i <= kObservers; ++i) c_->addObserver(QStringLiteral("worker-%1").arg(i), 10 + i);
    QVERIFY(c_->startAll());
  }
  void cleanup() {
    if (QTest::currentTestFailed()) qWarning("%s", qPrintable(c_->summary()));
    c_.reset();
  }

  void observersFollowTheMasterAndItsSuccessor() {
    const QString first = waitAgreed();
    QVERIFY(!first.isEmpty());

    // An observer has no view of the others: it serves itself, and the master it follows.
    auto& w1 = c_->byName(QStringLiteral("worker-1"));
    auto s = fetchState(*w1.stub);
    QVERIFY(s);
    QCOMPARE(QString::fromStdString(s->master()), first);
    QCOMPARE(s->nodes_size(), 1);
    QCOMPARE(s->nodes(0).role(), egressgw::v1::OBSERVER);

    // A voter that is not master serves all 23 nodes, relayed by the feeds and the master.
    auto& other = c_->byName(first == QStringLiteral("egress-1") ? QStringLiteral("egress-2") : QStringLiteral("egress-1"));
    auto names = [&] {
      std::set<std::string> out;
      if (auto st = fetchState(*other.stub))
        for (const auto& n : st->nodes()) out.insert(n.name());
      return out.size();
    };
    QTRY_COMPARE_WITH_TIMEOUT(names(), std::size_t(3 + kObservers), 30'000);

    c_->kill9(c_->byName(first));
    const QString second = waitAgreed(first);
    QVERIFY(!second.isEmpty());
    for (int i = 1; i <= kObservers; ++i) {
      auto st = fetchState(*c_->byName(QStringLiteral("worker-%1").arg(i)).stub);
      QVERIFY(st);
      QCOMPARE(QString::fromStdString(st->master()), second);
    }
  }
};

QTEST_GUILESS_MAIN(TestAgentObservers)
#include "test_agent_observers.moc"
