// MetricsServer: GET /metrics over loopback with httplib's client; the exposition text itself.
#include <QtTest>

#include <httplib.h>

#include "integration/api/api_fixture.h"
#include "agent/api/metrics_server.h"

namespace {

egw::MetricsFigures figures() {
  auto f = egw::MetricsFigures::fromState(egwtest::sampleState(), "egress-1");
  auto& n = *f.traffic.begin();
  n.snatBytes = 123456;
  n.snatPackets = 789;
  n.markedBytes = 42;
  f.failoversTotal = 2;
  f.failoverGap.observe(0.18);
  f.failoverGap.observe(0.2);  // on a bound: counted in le="0.2"
  f.failoverGap.observe(45);   // beyond every bound: only +Inf
  f.electionMessages = {{"heartbeat", 1000}, {"vote", 3}};
  f.version = "0.1.0";
  return f;
}

bool hasLine(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace

class TestMetrics : public QObject {
  Q_OBJECT

 private slots:
  void renderedText() {
    auto text = egw::renderMetrics(figures());
    for (const char* line : {
             "egress_up{node=\"egress-1\"} 1",
             "egress_master{node=\"egress-1\"} 1",
             "egress_master{node=\"egress-2\"} 0",
             "egress_term 7",
             "egress_failovers_total 2",
             "# TYPE egress_failover_gap_seconds histogram",
             "egress_failover_gap_seconds_bucket{le=\"0.1\"} 0",
             "egress_failover_gap_seconds_bucket{le=\"0.2\"} 2",
             "egress_failover_gap_seconds_bucket{le=\"30\"} 2",
             "egress_failover_gap_seconds_bucket{le=\"+Inf\"} 3",
             "egress_failover_gap_seconds_count 3",
             "egress_bytes_total{node=\"egress-1\"} 123456",
             "egress_packets_total{node=\"egress-1\"} 789",
             "egress_bytes_total{node=\"egress-2\"} 0",
             "egress_marked_bytes_total{node=\"egress-1\"} 42",
             "egress_election_messages_total{type=\"heartbeat\"} 1000",
             "egress_election_messages_total{type=\"vote\"} 3",
             "# TYPE egress_failovers_total counter",
         })
      QVERIFY2(hasLine(text, line), line);
  }

  void labelValuesAreEscaped() {
    egw::MetricsFigures f;
    f.self = "a\"b\\c\nd";
    auto text = egw::renderMetrics(f);
    QVERIFY(hasLine(text, "egress_up{node=\"a\\\"b\\\\c\\nd\"} 1"));
    QVERIFY(hasLine(text, "egress_term 0"));
  }

  void servedOverHttp() {
    std::atomic<int> scrapes{0};
    egw::MetricsServer server([&] {
      ++scrapes;
      return figures();
    });
    auto port = server.start("127.0.0.1", 0);
    QVERIFY2(port.ok(), port.ok() ? "" : port.error().c_str());
    QVERIFY(*port > 0);
    httplib::Client cli("127.0.0.1", *port);
    cli.set_connection_timeout(2, 0);
    auto res = cli.Get("/metrics");
    QVERIFY(res);
    QCOMPARE(res->status, 200);
    QVERIFY(res->get_header_value("Content-Type").find("text/plain; version=0.0.4") == 0);
    QVERIFY(hasLine(res->body, "egress_master{node=\"egress-1\"} 1"));
    QVERIFY(hasLine(res->body, "egress_failover_gap_seconds_bucket{le=\"+Inf\"} 3"));
    QCOMPARE(scrapes.load(), 1);
    auto missing = cli.Get("/nope");
    QVERIFY(missing);
    QCOMPARE(missing->status, 404);

    // A second server cannot take the same port: a clear error, no crash.
    egw::MetricsServer other([] { return egw::MetricsFigures{}; });
    auto clash = other.start("127.0.0.1", *port);
    QVERIFY(!clash.ok());
    QVERIFY(clash.error().find(std::to_string(*port)) != std::string::npos);

    server.stop();
    server.stop();  // idempotent
    httplib::Client after("127.0.0.1", *port);
    after.set_connection_timeout(1, 0);
    QVERIFY(!after.Get("/metrics"));
  }
};

QTEST_GUILESS_MAIN(TestMetrics)
#include "test_metrics.moc"
