// GET /readyz and /livez on real egress-agent processes (--no-datapath, loopback): a voter that
// cannot reach a majority is live but not ready; once the cluster has a master every agent is
// ready and names it; when the majority is gone again the survivor turns not ready by itself.
// With --no-datapath readiness is the cluster view alone (the reason says so).
#include <httplib.h>

#include <QtTest>

#include "support/agent_procs.h"

using namespace egwtest;

namespace {

struct Answer {
  int status = 0;  // 0: no answer
  QString body;
};

Answer get(const AgentProc& n, const char* path) {
  httplib::Client cli(n.host.toStdString(), 7402);
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(2, 0);
  auto res = cli.Get(path);
  if (!res) return {};
  return {res->status, QString::fromStdString(res->body).trimmed()};
}

}  // namespace

class TestAgentReadyz : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

 private slots:
  void init() {
    // Constant 10: 127.220-239.y.0/24, apart from the agent tests (20-199).
    c_ = std::make_unique<AgentCluster>(dir_, 10);
    c_->setMetrics(true);
    for (auto& n : c_->nodes()) QVERIFY(c_->writeConfig(n));
  }
  void cleanup() {
    if (QTest::currentTestFailed()) qWarning("%s", qPrintable(c_->summary()));
    c_.reset();
  }

  void readinessFollowsTheClusterView() {
    auto& one = c_->nodes()[0];
    c_->start(one);
    QTRY_COMPARE_WITH_TIMEOUT(get(one, "/livez").status, 200, 10000);
    QVERIFY(get(one, "/livez").body.startsWith(QStringLiteral("live: loop thread ran ")));
    // Alone it cannot win an election (1 of 3 voters): live, never ready. Three election
    // timeouts give it every chance to (wrongly) claim mastership.
    for (int i = 0; i < 6; ++i) {
      auto a = get(one, "/readyz");
      QCOMPARE(a.status, 503);
      QVERIFY2(a.body.startsWith(QStringLiteral("no master known (")), qPrintable(a.body));
      QTest::qWait(300);
    }

    c_->start(c_->nodes()[1]);
    c_->start(c_->nodes()[2]);
    QString master;
    QTRY_VERIFY_WITH_TIMEOUT(!(master = c_->agreedMaster()).isEmpty(), 30000);
    for (auto& n : c_->nodes()) {
      QTRY_COMPARE_WITH_TIMEOUT(get(n, "/readyz").status, 200, 10000);
      auto body = get(n, "/readyz").body;
      if (n.name == master)
        QVERIFY2(body.startsWith(QStringLiteral("ready: master, term ")), qPrintable(body));
      else
        QVERIFY2(body.startsWith(QStringLiteral("ready: following ") + master + QStringLiteral(", term ")), qPrintable(body));
      QVERIFY2(body.endsWith(QStringLiteral("(datapath disabled: --no-datapath)")), qPrintable(body));
      httplib::Client cli(n.host.toStdString(), 7402);
      auto metrics = cli.Get("/metrics");
      QVERIFY(metrics);
      QVERIFY(metrics->body.find("egress_ready{node=\"" + n.name.toStdString() + "\"} 1\n") != std::string::npos);
    }

    // The majority goes away: the survivor loses its master (or, as master, its lease).
    c_->kill9(c_->nodes()[1]);
    c_->kill9(c_->nodes()[2]);
    QTRY_COMPARE_WITH_TIMEOUT(get(one, "/readyz").status, 503, 10000);
    auto a = get(one, "/readyz").body;
    QVERIFY2(a.startsWith(QStringLiteral("no master known (")) || a.startsWith(QStringLiteral("master without a valid lease")),
             qPrintable(a));
    QCOMPARE(get(one, "/livez").status, 200);
    httplib::Client cli(one.host.toStdString(), 7402);
    auto metrics = cli.Get("/metrics");
    QVERIFY(metrics);
    QVERIFY(metrics->body.find("egress_ready{node=\"egress-1\"} 0\n") != std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestAgentReadyz)
#include "test_agent_readyz.moc"
