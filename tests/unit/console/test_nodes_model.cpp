// NodesModel: diffs states into removals, one batched dataChanged and insertions; never a reset.
#include <QtCore/QItemSelectionModel>
#include <QtCore/QSortFilterProxyModel>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/nodes_model.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

namespace {
constexpr qint64 kNow = 1'700'000'000'000;

ClusterSnapshot manyNodes(int n, quint64 bytes = 0) {
  ClusterSnapshot s;
  s.master = QStringLiteral("n0");
  s.term = 1;
  for (int i = 0; i < n; ++i) {
    NodeInfo ni;
    ni.name = QStringLiteral("n%1").arg(i);
    ni.candidacy = Candidacy::Enabled;
    ni.healthy = true;
    ni.snatBytes = bytes;
    ni.wallTimeMs = kNow;
    s.nodes << ni;
  }
  return s;
}
}  // namespace

class TestNodesModel : public QObject {
  Q_OBJECT

 private slots:
  void showsTheCluster() {
    NodesModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.applyState(sampleCluster(), 1'700'000'000'000);
    QCOMPARE(m.rowCount(), 4);
    QCOMPARE(m.columnCount(), int(NodesModel::ColumnCount));
    const int r = m.rowOf(QStringLiteral("egress-1"));
    QCOMPARE(m.index(r, NodesModel::Role).data().toString(), QStringLiteral("master"));
    QCOMPARE(m.index(r, NodesModel::EgressIp).data().toString(), QStringLiteral("172.16.0.7"));
    QCOMPARE(m.index(r, NodesModel::HeartbeatAge).data().toString(), QStringLiteral("100 ms"));
    QCOMPARE(m.index(r, NodesModel::Allowlist).data().toString(), QStringLiteral("ok"));
    const int w = m.rowOf(QStringLiteral("worker-1"));
    QCOMPARE(m.index(w, NodesModel::Allowlist).data().toString(), QStringLiteral("—"));
    QCOMPARE(m.headerData(NodesModel::TrafficRate, Qt::Horizontal).toString(), QStringLiteral("Traffic"));
  }

  void unhealthyNodeExplainsWhy() {
    NodesModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ClusterSnapshot s = sampleCluster();
    s.nodes[1].healthy = false;
    s.nodes[1].healthProblems = {QStringLiteral("egress interface eth1 down"), QStringLiteral("net.ipv4.ip_forward=0")};
    m.applyState(s, kNow);
    const QModelIndex i = m.index(1, NodesModel::Healthy);
    QCOMPARE(i.data().toString(), QStringLiteral("unhealthy (2)"));
    QVERIFY(i.data(Qt::ToolTipRole).toString().contains(QStringLiteral("net.ipv4.ip_forward=0")));
    QCOMPARE(i.data(NodesModel::SeverityRole).toInt(), 2);
  }

  void updatesAreOneBatchAndNeverAReset() {
    NodesModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.applyState(manyNodes(50), kNow);
    QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);

    ClusterSnapshot s = manyNodes(50);
    s.nodes[5].term = 2;
    s.nodes[30].healthy = false;
    m.applyState(s, kNow);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().row(), 5);
    QCOMPARE(changed.first().at(1).toModelIndex().row(), 30);

    m.applyState(s, kNow);  // nothing changed: no signal
    QCOMPARE(changed.size(), 1);

    s.nodes.removeAt(10);
    s.nodes.removeAt(10);
    NodeInfo extra;
    extra.name = QStringLiteral("new-node");
    s.nodes << extra;
    m.applyState(s, kNow);
    QCOMPARE(removed.size(), 1);  // rows 10..11 in one go
    QCOMPARE(inserted.size(), 1);
    QCOMPARE(m.rowCount(), 49);
    QCOMPARE(m.rowOf(QStringLiteral("n12")), 10);
    QCOMPARE(m.rowOf(QStringLiteral("new-node")), 48);
    QCOMPARE(reset.size(), 0);
  }

  void selectionSurvivesUpdatesThroughASortProxy() {
    NodesModel m;
    QSortFilterProxyModel proxy;
    proxy.setSourceModel(&m);
    proxy.setSortRole(NodesModel::SortRole);
    proxy.sort(NodesModel::Name);
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester proxyTester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.applyState(manyNodes(20), kNow);
    QItemSelectionModel sel(&proxy);
    const QModelIndex n7 = proxy.mapFromSource(m.index(m.rowOf(QStringLiteral("n7")), 0));
    sel.select(n7, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    sel.setCurrentIndex(n7, QItemSelectionModel::NoUpdate);

    for (int round = 1; round <= 5; ++round) {
      ClusterSnapshot s = manyNodes(20, quint64(round) * 1000);
      s.nodes[7].term = quint64(round);
      if (round == 3) s.nodes.removeAt(2);  // a removal before the selected row
      m.applyState(s, kNow + round * 1000);
    }
    QCOMPARE(sel.selectedRows().size(), 1);
    QCOMPARE(sel.selectedRows().first().data(NodesModel::NodeNameRole).toString(), QStringLiteral("n7"));
    QCOMPARE(sel.currentIndex().data(NodesModel::NodeNameRole).toString(), QStringLiteral("n7"));
  }

  void heartbeatAgeMovesWithTheClock() {
    NodesModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.applyState(sampleCluster(), kNow);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    m.setNow(kNow + 5'000);
    QCOMPARE(changed.size(), 1);
    QCOMPARE(changed.first().at(0).toModelIndex().column(), int(NodesModel::HeartbeatAge));
    QCOMPARE(changed.first().at(1).toModelIndex().column(), int(NodesModel::HeartbeatAge));
    QCOMPARE(m.index(0, NodesModel::HeartbeatAge).data().toString(), QStringLiteral("5.1 s"));
  }

  void trafficRateComesFromTheRates() {
    NodesModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.applyState(sampleCluster(), kNow, {{QStringLiteral("egress-1"), 2'500'000.0}});
    QCOMPARE(m.index(0, NodesModel::TrafficRate).data().toString(), QStringLiteral("2.5 MB/s"));
    QCOMPARE(m.index(0, NodesModel::TrafficRate).data(NodesModel::SortRole).toDouble(), 2'500'000.0);
  }
};

QTEST_GUILESS_MAIN(TestNodesModel)
#include "test_nodes_model.moc"
