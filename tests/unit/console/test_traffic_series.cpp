// TrafficSeries: rates from SNAT counters, counter resets, one failover marker per term.
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/traffic_series.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

class TestTrafficSeries : public QObject {
  Q_OBJECT

 private slots:
  void ratesFromCounters() {
    TrafficSeries t;
    ClusterSnapshot s = sampleCluster();
    auto at = [&s](qint64 ms) {
      for (NodeInfo& n : s.nodes) n.wallTimeMs = ms;
    };
    s.nodes[0].snatBytes = 1'000'000;
    at(10'000);
    t.record(10'050, s);
    QCOMPARE(t.nodes(), (QStringList{QStringLiteral("egress-1"), QStringLiteral("egress-2"), QStringLiteral("egress-3")}));
    QVERIFY(t.samples(QStringLiteral("egress-1")).isEmpty());  // a rate needs two samples
    s.nodes[0].snatBytes = 3'000'000;
    at(12'000);
    t.record(12'900, s);  // received late: the rate still uses the report times
    QCOMPARE(t.currentRate(QStringLiteral("egress-1")), 1'000'000.0);
    QCOMPARE(t.samples(QStringLiteral("egress-1")), (QList<QPointF>{QPointF(12'000, 1'000'000)}));
    QCOMPARE(t.currentRate(QStringLiteral("egress-2")), 0.0);
    QVERIFY(t.samples(QStringLiteral("worker-1")).isEmpty());  // not an egress node
    // The agent restarted: the counter starts again from zero.
    s.nodes[0].snatBytes = 500'000;
    at(13'000);
    t.record(13'000, s);
    QCOMPARE(t.currentRate(QStringLiteral("egress-1")), 500'000.0);
    // The same report again adds no sample.
    t.record(13'500, s);
    QCOMPARE(t.samples(QStringLiteral("egress-1")).size(), 2);
  }

  void keepsAWindow() {
    TrafficSeries t;
    t.setWindow(10'000);
    ClusterSnapshot s = sampleCluster();
    for (qint64 ms = 1'000; ms <= 31'000; ms += 1'000) {
      for (NodeInfo& n : s.nodes) n.wallTimeMs = ms;
      t.record(ms, s);
    }
    QCOMPARE(t.samples(QStringLiteral("egress-1")).size(), 11);
    QCOMPARE(t.samples(QStringLiteral("egress-1")).first().x(), 21'000.0);
  }

  void oneMarkerPerFailover() {
    TrafficSeries t;
    QSignalSpy changed(&t, &TrafficSeries::changed);
    t.addEvents({ClusterEvent{QStringLiteral("a"), 1, 1000, QStringLiteral("master_lost"), QStringLiteral("egress-1"), 4, {}, -1},
                 ClusterEvent{QStringLiteral("a"), 2, 1300, QStringLiteral("master_elected"), QStringLiteral("egress-2"), 4, {}, 300},
                 ClusterEvent{QStringLiteral("a"), 3, 1400, QStringLiteral("datapath_switched"), QStringLiteral("egress-2"), 4, {}, 412},
                 ClusterEvent{QStringLiteral("a"), 4, 9000, QStringLiteral("master_elected"), QStringLiteral("egress-3"), 5, {}, -1}});
    QCOMPARE(changed.size(), 1);
    QCOMPARE(t.failovers().size(), 2);
    QCOMPARE(t.failovers().at(0), (FailoverMarker{1400, 4, QStringLiteral("egress-2"), 412}));
    QCOMPARE(t.failovers().at(1).gapMs, qint64(-1));
    t.addEvents({ClusterEvent{QStringLiteral("a"), 1, 1000, QStringLiteral("health_changed"), QStringLiteral("egress-1"), 4, {}, -1}});
    QCOMPARE(changed.size(), 1);
  }
};

QTEST_GUILESS_MAIN(TestTrafficSeries)
#include "test_traffic_series.moc"
