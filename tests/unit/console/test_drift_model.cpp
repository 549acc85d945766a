// DriftModel (with QAbstractItemModelTester) and the allowlist import/export helpers: every state
// with its reason, diffs instead of resets, import errors with line numbers and skipping bad
// rows, the export rows and formats as egressctl writes them.
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTemporaryDir>
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/allowlist_export.h"
#include "console/core/drift_model.h"
#include "console/core/events_model.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

namespace {

// egress-1 ok, egress-2 rejected, egress-3 unverified, egress-4 pending (missing), worker-1 none.
ClusterSnapshot driftCluster() {
  ClusterSnapshot s = sampleCluster();
  s.nodes[1].allowlist = AllowlistVerdict::Rejected;
  s.nodes[1].allowlistDetail = QStringLiteral("refused (TCP reset)");
  s.nodes[2].allowlist = AllowlistVerdict::Unverified;
  s.nodes[2].allowlistDetail = QStringLiteral("no answer within 2s");
  NodeInfo n = s.nodes[2];
  n.name = QStringLiteral("egress-4");
  n.egressIp = QStringLiteral("172.16.0.5");
  n.candidacy = Candidacy::Pending;
  n.allowlist = AllowlistVerdict::Unknown;
  s.nodes << n;
  return s;
}

egw::Allowlist list(const char* text) {
  auto r = egw::parseAllowlist(text);
  if (!r) qFatal("%s", r.error().c_str());
  return *r;
}

QMap<QString, QString> statesByIp(const DriftModel& m) {
  QMap<QString, QString> out;
  for (int r = 0; r < m.rowCount(); ++r)
    out.insert(m.index(r, DriftModel::Ip).data().toString(), m.index(r, DriftModel::State).data().toString());
  return out;
}

}  // namespace

class TestDriftModel : public QObject {
  Q_OBJECT

 private slots:
  void everyStateWithItsReason() {
    DriftModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setCluster(driftCluster());
    QCOMPARE(m.rowCount(), 0);  // nothing to compare with yet
    QVERIFY(m.summary().contains(QStringLiteral("No allowlist imported")));
    m.setAllowlist(list("172.16.0.7\n172.16.0.8\n172.16.0.9\n203.0.113.4 # old node\n"), QStringLiteral("allow.txt"));
    const auto states = statesByIp(m);
    QCOMPARE(states.value(QStringLiteral("172.16.0.7")), QStringLiteral("ok"));
    QCOMPARE(states.value(QStringLiteral("172.16.0.8")), QStringLiteral("rejected"));
    QCOMPARE(states.value(QStringLiteral("172.16.0.9")), QStringLiteral("unverified"));
    QCOMPARE(states.value(QStringLiteral("172.16.0.5")), QStringLiteral("missing"));
    QCOMPARE(states.value(QStringLiteral("203.0.113.4")), QStringLiteral("stale"));
    QCOMPARE(m.rowCount(), 5);
    QVERIFY(!m.report().clean());
    QVERIFY2(m.summary().startsWith(QStringLiteral("drift:")), qPrintable(m.summary()));
    for (int r = 0; r < m.rowCount(); ++r) {
      QVERIFY(!m.index(r, DriftModel::Reason).data().toString().isEmpty());
      const auto st = egw::DriftState(m.index(r, 0).data(DriftModel::StateRole).toInt());
      QCOMPARE(m.index(r, 0).data(DriftModel::SeverityRole).toInt(), DriftModel::severityOf(st));
    }
    QCOMPARE(DriftModel::severityOf(egw::DriftState::Missing), 2);
    QCOMPARE(DriftModel::severityOf(egw::DriftState::Stale), 1);
    QCOMPARE(DriftModel::severityOf(egw::DriftState::Ok), 0);
    const int missingRow = [&] {
      for (int r = 0; r < m.rowCount(); ++r)
        if (m.index(r, 0).data().toString() == QStringLiteral("172.16.0.5")) return r;
      return -1;
    }();
    QVERIFY(m.index(missingRow, DriftModel::Reason).data().toString().contains(QStringLiteral("black-holed")));
    QCOMPARE(m.index(missingRow, DriftModel::Line).data().toString(), QStringLiteral("—"));
    m.setAllowlist(std::nullopt);
    QCOMPARE(m.rowCount(), 0);
  }

  void updatesAreDiffsNotResets() {
    DriftModel m;
    QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
    m.setAllowlist(list("172.16.0.7\n172.16.0.8\n172.16.0.9\n"));
    m.setCluster(driftCluster());
    QCOMPARE(m.rowCount(), 4);
    QSignalSpy reset(&m, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
    QSignalSpy inserted(&m, &QAbstractItemModel::rowsInserted);
    QSignalSpy removed(&m, &QAbstractItemModel::rowsRemoved);
    // The probe of egress-2 turns ok: one dataChanged, nothing inserted or removed.
    ClusterSnapshot s = driftCluster();
    s.nodes[1].allowlist = AllowlistVerdict::Ok;
    m.setCluster(s);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(inserted.count(), 0);
    QCOMPARE(removed.count(), 0);
    QCOMPARE(statesByIp(m).value(QStringLiteral("172.16.0.8")), QStringLiteral("ok"));
    // The same state again: no signal at all.
    m.setCluster(s);
    QCOMPARE(changed.count(), 1);
    // egress-4 leaves: one removal.
    s.nodes.removeLast();
    m.setCluster(s);
    QCOMPARE(removed.count(), 1);
    QCOMPARE(m.rowCount(), 3);
    QCOMPARE(reset.count(), 0);
  }

  void importReportsBadRowsAndCanSkipThem() {
    const QByteArray csv = "ip,node\r\n172.16.0.7,egress-1\r\n172.16.0.300,egress-2\r\n172.16.0.9,egress-3\r\n,empty\r\n";
    AllowlistImport strict = importAllowlist(csv, QStringLiteral("allow.csv"), false);
    QVERIFY(!strict.ok);
    QCOMPARE(strict.errors.size(), 2);
    QVERIFY2(strict.errors[0].startsWith(QStringLiteral("allow.csv: line 3: ")), qPrintable(strict.errors[0]));
    QVERIFY(strict.errors[1].startsWith(QStringLiteral("allow.csv: line 5: ")));
    QVERIFY(strict.canSkipBadRows);
    QCOMPARE(strict.goodRows, 2);
    AllowlistImport lenient = importAllowlist(csv, QStringLiteral("allow.csv"), true);
    QVERIFY(lenient.ok);
    QCOMPARE(int(lenient.list.entries.size()), 2);
    QCOMPARE(lenient.skipped.size(), 2);
    QVERIFY(lenient.skipped[0].contains(QStringLiteral("line 3")));
    // An unterminated quote cannot be skipped.
    AllowlistImport broken = importAllowlist("ip\n\"172.16.0.7\n", QStringLiteral("b.csv"), false);
    QVERIFY(!broken.ok);
    QVERIFY(!broken.canSkipBadRows);
    // Warnings survive a good import; a missing file is one error naming it.
    AllowlistImport dup = importAllowlist("172.16.0.7\n172.16.0.7\n", QStringLiteral("d.txt"), false);
    QVERIFY(dup.ok);
    QCOMPARE(dup.warnings.size(), 1);
    AllowlistImport missing = importAllowlistFile(QStringLiteral("/nonexistent/allow.csv"), false);
    QVERIFY(!missing.ok);
    QCOMPARE(missing.errors.size(), 1);
    QVERIFY(missing.errors[0].contains(QStringLiteral("/nonexistent/allow.csv")));
  }

  void exportRowsAndFormats() {
    ClusterSnapshot s = driftCluster();
    s.mode = QStringLiteral("virtual-ip");
    s.virtualIp = QStringLiteral("172.16.0.100/24");
    EventsModel events;
    events.appendEvents({ClusterEvent{QStringLiteral("egress-1"), 1, 2'000, QStringLiteral("node_joined"), QStringLiteral("egress-4"), 3, {}, -1},
                         ClusterEvent{QStringLiteral("egress-2"), 1, 1'000, QStringLiteral("node_joined"), QStringLiteral("egress-4"), 3, {}, -1},
                         ClusterEvent{QStringLiteral("egress-2"), 2, 500, QStringLiteral("master_elected"), QStringLiteral("egress-1"), 3, {}, -1}});
    const auto firstSeen = firstSeenFromEvents(events);
    QCOMPARE(firstSeen.size(), 1);
    QCOMPARE(firstSeen.value(QStringLiteral("egress-4")), 1'000);
    const QList<ExportRow> rows = allowlistRows(s, firstSeen);
    QCOMPARE(rows.size(), 5);  // 4 egress nodes + the VIP; no worker
    QCOMPARE(rows[0].role, QStringLiteral("master"));
    QCOMPARE(rows[3].state, QStringLiteral("pending"));
    QCOMPARE(rows[3].firstSeen, QStringLiteral("1970-01-01T00:00:01.000Z"));
    QCOMPARE(rows[4], (ExportRow{QStringLiteral("172.16.0.100"), QStringLiteral("egress-1"), QStringLiteral("vip"),
                                 QStringLiteral("active"), {}}));
    const QByteArray csv = allowlistCsv(rows);
    QVERIFY(csv.startsWith("ip,node,role,state,first_seen\r\n172.16.0.7,egress-1,master,enabled,\r\n"));
    QCOMPARE(csv.count("\r\n"), 6);
    auto back = egw::parseAllowlist(csv.toStdString());
    QVERIFY(back.ok());
    QCOMPARE(int(back->entries.size()), 5);
    const QJsonArray arr = QJsonDocument::fromJson(allowlistJson(rows)).array();
    QCOMPARE(arr.size(), 5);
    QCOMPARE(arr[3].toObject().value(QStringLiteral("first_seen")).toString(), QStringLiteral("1970-01-01T00:00:01.000Z"));
    QVERIFY(arr[0].toObject().value(QStringLiteral("first_seen")).isNull());
    const QByteArray txt = allowlistTxt(rows, QStringLiteral("egress-1"));
    auto txtBack = egw::parseAllowlist(txt.toStdString());
    QVERIFY(txtBack.ok());
    QCOMPARE(int(txtBack->entries.size()), 5);
    QCOMPARE(exportFormatFor(QStringLiteral("/tmp/a.JSON")), ExportFormat::Json);
    QCOMPARE(exportFormatFor(QStringLiteral("a.txt")), ExportFormat::Txt);
    QCOMPARE(exportFormatFor(QStringLiteral("a.csv")), ExportFormat::Csv);
  }
};

QTEST_GUILESS_MAIN(TestDriftModel)
#include "test_drift_model.moc"
