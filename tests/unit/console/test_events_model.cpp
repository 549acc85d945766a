// EventsModel: idempotent merge by (origin, seq), batched appends and trims, filter by kind/node.
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/events_model.h"

using namespace egw::console;

namespace {
ClusterEvent ev(const QString& origin, quint64 seq, const QString& kind, const QString& node, qint64 gap = -1) {
  return ClusterEvent{origin, seq, 1'700'000'000'000 + qint64(seq), kind, node, 3, kind + QLatin1Char(' ') + node, gap};
}
}  // namespace

class TestEventsModel : public QObject {
  Q_OBJECT

 private slots:
  void appendsInOneBatchAndDeduplicates() {
    EventsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy kinds(&m, &EventsModel::kindsChanged);
    QCOMPARE(m.appendEvents({ev(QStringLiteral("a"), 1, QStringLiteral("master_lost"), QStringLiteral("egress-1")),
                             ev(QStringLiteral("a"), 2, QStringLiteral("master_elected"), QStringLiteral("egress-2"), 412),
                             ev(QStringLiteral("b"), 1, QStringLiteral("master_lost"), QStringLiteral("egress-1"))}),
             3);
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(kinds.size(), 1);
    // The same events again (another agent's replay after a failover) add nothing.
    QCOMPARE(m.appendEvents({ev(QStringLiteral("a"), 2, QStringLiteral("master_elected"), QStringLiteral("egress-2"), 412),
                             ev(QStringLiteral("a"), 3, QStringLiteral("datapath_switched"), QStringLiteral("egress-2"), 380)}),
             1);
    QCOMPARE(inserted.size(), 2);
    QCOMPARE(m.rowCount(), 4);
    QCOMPARE(m.index(1, EventsModel::Gap).data().toString(), QStringLiteral("412 ms"));
    QCOMPARE(m.index(0, EventsModel::Gap).data().toString(), QString());
    QCOMPARE(m.kinds(), (QStringList{QStringLiteral("datapath_switched"), QStringLiteral("master_elected"),
                                     QStringLiteral("master_lost")}));
  }

  void trimsTheOldestInOneRemoval() {
    EventsModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setCapacity(10);
    QList<ClusterEvent> batch;
    for (quint64 i = 1; i <= 8; ++i) batch << ev(QStringLiteral("a"), i, QStringLiteral("k"), QStringLiteral("n"));
    m.appendEvents(batch);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    batch.clear();
    for (quint64 i = 9; i <= 14; ++i) batch << ev(QStringLiteral("a"), i, QStringLiteral("k"), QStringLiteral("n"));
    m.appendEvents(batch);
    QCOMPARE(removed.size(), 1);
    QCOMPARE(m.rowCount(), 10);
    QCOMPARE(m.event(0).seq, quint64(5));
    QCOMPARE(m.event(9).seq, quint64(14));
  }

  void filtersByKindAndNode() {
    EventsModel m;
    EventsFilterProxy p;
    p.setSourceModel(&m);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&p, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.appendEvents({ev(QStringLiteral("egress-1"), 1, QStringLiteral("master_lost"), QStringLiteral("egress-1")),
                    ev(QStringLiteral("egress-2"), 1, QStringLiteral("master_elected"), QStringLiteral("egress-2")),
                    ev(QStringLiteral("egress-2"), 2, QStringLiteral("health_changed"), QStringLiteral("egress-3"))});
    QCOMPARE(p.rowCount(), 3);
    p.setKindFilter(QStringLiteral("master_elected"));
    QCOMPARE(p.rowCount(), 1);
    p.setKindFilter({});
    p.setNodeFilter(QStringLiteral("egress-3"));
    QCOMPARE(p.rowCount(), 1);
    p.setNodeFilter(QStringLiteral("egress-2"));  // about egress-2, or recorded by it
    QCOMPARE(p.rowCount(), 2);
    p.setKindFilter(QStringLiteral("health_changed"));
    QCOMPARE(p.rowCount(), 1);
    // New events pass through the live filter.
    m.appendEvents({ev(QStringLiteral("egress-1"), 2, QStringLiteral("health_changed"), QStringLiteral("egress-2"))});
    QCOMPARE(p.rowCount(), 2);
  }
};

QTEST_GUILESS_MAIN(TestEventsModel)
#include "test_events_model.moc"
