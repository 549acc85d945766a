// The seed's last picture, end to end in the testbed: a fourth egress node (public IP 172.16.0.5)
// joins a running cluster. It is `pending`; drift shows its IP `missing` from the external
// service's allowlist; its probe cannot get through (the service silently drops it, which the
// agent reads as a refusal because the other candidates reach the service), so enabling it is
// refused. The test then does what the service's owner does: adds the IPs from the exported CSV
// to the service's own firewall. The probe turns ok, candidacy is enabled, and when the other
// candidates are out of the way and the master is killed, the new node carries the traffic with
// 172.16.0.5. Before that: with 172.16.0.5 removed from the service's list again, killing the
// master never elects the new node, and no pod traffic is black-holed.
#include <unistd.h>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include "support/testbed.h"

namespace {

const egwtest::Testbed bed{QStringLiteral("egwjoin")};
const QString kNewNode = QStringLiteral("egress-4");
const QString kNewIp = QStringLiteral("172.16.0.5");

// egressctl from the management namespace, asking the voters.
QString ctl(const QString& args, int* rc = nullptr) {
  return bed.ctl(QStringLiteral("--timeout 2s %1 %2").arg(egwtest::Testbed::voterEndpoints(), args), rc);
}

using egwtest::monoNs;

QJsonObject status() {
  const auto out = bed.ctl(QStringLiteral("--timeout 1s %1 status -o json 2>/dev/null").arg(egwtest::Testbed::voterEndpoints()));
  return QJsonDocument::fromJson(out.toUtf8()).object();
}

QString master() { return status().value(QStringLiteral("master")).toString(); }

QJsonObject nodeStatus(const QString& name) {
  for (const auto& n : status().value(QStringLiteral("nodes")).toArray())
    if (n.toObject().value(QStringLiteral("name")).toString() == name) return n.toObject();
  return {};
}

QString field(const QString& node, const char* key) { return nodeStatus(node).value(QLatin1String(key)).toString(); }

// The service's allowlist as its owner keeps it: the elements of its nft set.
QStringList serviceAllowlist() {
  auto out = bed.in(QStringLiteral("ext"), QStringLiteral("nft -j list set inet partner allowlist"));
  QStringList ips;
  for (const auto& i : QJsonDocument::fromJson(out.toUtf8()).object().value(QStringLiteral("nftables")).toArray()) {
    const auto set = i.toObject().value(QStringLiteral("set")).toObject();
    for (const auto& e : set.value(QStringLiteral("elem")).toArray()) ips << e.toString();
  }
  return ips;
}

// Pod traffic (UDP 9000, TCP 8080: everything but the agents' probes to 443) that the service's
// firewall refused: a black-holed packet. Counted by a rule the test puts before the drop.
qint64 podPacketsRefused() {
  auto out = bed.in(QStringLiteral("ext"), QStringLiteral("nft -j list counter inet partner pod_refused"));
  for (const auto& i : QJsonDocument::fromJson(out.toUtf8()).object().value(QStringLiteral("nftables")).toArray()) {
    const auto c = i.toObject().value(QStringLiteral("counter")).toObject();
    if (!c.isEmpty()) return c.value(QStringLiteral("packets")).toInteger();
  }
  return -1;
}

QJsonObject analyze(std::int64_t sinceNs) { return bed.analyze(sinceNs); }

// Source IPs that reached the service since `sinceNs`, in order of first arrival.
QStringList sourcesSince(std::int64_t sinceNs) {
  QStringList ips;
  for (const auto& s : analyze(sinceNs).value(QStringLiteral("sources")).toArray())
    ips << s.toObject().value(QStringLiteral("ip")).toString();
  return ips;
}

QString logs() { return bed.logs(); }

}  // namespace

class TestJoinE2e : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

  // Kills the master with SIGKILL and waits for a new one; the fault's time in `faultNs`.
  void killMaster(QString& old, QString& next, std::int64_t& faultNs) {
    QTRY_VERIFY2_WITH_TIMEOUT(!(old = master()).isEmpty(), qPrintable(logs()), 30000);
    faultNs = monoNs();
    TB(bed, QStringLiteral("kill %1 KILL").arg(old));
    QTRY_VERIFY2_WITH_TIMEOUT(!(next = master()).isEmpty() && next != old, qPrintable(logs()), 30000);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    if (geteuid() != 0) QSKIP("needs root (network namespaces, nftables)");
    TB(bed, QStringLiteral("up --traffic"));
    // The test's eye on black-holing: pod packets the service refuses, counted before its drop.
    int rc = 0;
    auto out = bed.sh(QStringLiteral("ip netns exec %1ext nft add counter inet partner pod_refused && "
                                 "ip netns exec %1ext nft insert rule inet partner input ip daddr 198.51.100.10 "
                                 "ip saddr != @allowlist tcp dport != 443 counter name pod_refused && "
                                 "ip netns exec %1ext nft insert rule inet partner input ip daddr 198.51.100.10 "
                                 "ip saddr != @allowlist meta l4proto udp counter name pod_refused")
                      .arg(bed.prefix()),
                  &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    QCOMPARE(podPacketsRefused(), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!master().isEmpty(), qPrintable(logs()), 60000);
  }

  void newNodeJoinsPending() {
    // A high priority: whenever it may stand, it is the one the cluster would pick first.
    TB(bed, QStringLiteral("add-node --priority 500 %1 10.0.0.14 %2").arg(kNewNode, kNewIp));
    QTRY_VERIFY2_WITH_TIMEOUT(field(kNewNode, "candidacy") == QStringLiteral("pending"), qPrintable(logs()), 30000);
    QCOMPARE(field(kNewNode, "egress_ip"), kNewIp);
    QCOMPARE(nodeStatus(kNewNode).value(QStringLiteral("voter")).toBool(), false);
    QVERIFY(!serviceAllowlist().contains(kNewIp));
  }

  void driftShowsItMissing() {
    const auto file = dir_.filePath(QStringLiteral("service-allowlist.txt"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write((QStringLiteral("# the service's allowlist today\n") + serviceAllowlist().join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8());
    f.close();
    int rc = 0;
    const auto out = ctl(QStringLiteral("drift --allowlist %1 -o json").arg(file), &rc);
    QCOMPARE(rc, 1);  // drift
    bool missing = false;
    for (const auto& r : QJsonDocument::fromJson(out.toUtf8()).object().value(QStringLiteral("rows")).toArray()) {
      const auto row = r.toObject();
      if (row.value(QStringLiteral("ip")).toString() == kNewIp) {
        QCOMPARE(row.value(QStringLiteral("state")).toString(), QStringLiteral("missing"));
        QCOMPARE(row.value(QStringLiteral("node")).toString(), kNewNode);
        missing = true;
      } else {
        QCOMPARE(row.value(QStringLiteral("state")).toString(), QStringLiteral("ok"));
      }
    }
    QVERIFY2(missing, qPrintable(out));
  }

  void enablingIsRefusedUntilTheServiceAcceptsIt() {
    // The service drops 172.16.0.5 without a word; the other candidates reach it, so the new
    // node's agent reads the silence as a refusal.
    QTRY_VERIFY2_WITH_TIMEOUT(field(kNewNode, "allowlist") == QStringLiteral("rejected"), qPrintable(logs()), 30000);
    QVERIFY2(field(kNewNode, "allowlist_detail").contains(QStringLiteral("silently drops")),
             qPrintable(field(kNewNode, "allowlist_detail")));
    int rc = 0;
    const auto out = ctl(QStringLiteral("candidacy enable %1").arg(kNewNode), &rc);
    QCOMPARE(rc, 1);
    QVERIFY2(out.contains(QStringLiteral("refused to enable egress-4")) && out.contains(kNewIp), qPrintable(out));
    QCOMPARE(field(kNewNode, "candidacy"), QStringLiteral("pending"));
  }

  void serviceOwnerAddsTheExportedIps() {
    const auto csv = dir_.filePath(QStringLiteral("export.csv"));
    int rc = 0;
    auto out = ctl(QStringLiteral("allowlist export --format csv --output %1").arg(csv), &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    // The owner's side reads it with a CSV reader that is not ours and adds every IP.
    out = bed.sh(QStringLiteral("python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1], newline=\"\"))); "
                            "assert r and list(r[0].keys())==[\"ip\",\"node\",\"role\",\"state\",\"first_seen\"], r; "
                            "print(\" \".join(x[\"ip\"] for x in r))' %1")
                 .arg(csv),
             &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    const auto ips = out.trimmed().split(QLatin1Char(' '));
    QVERIFY2(ips.contains(kNewIp), qPrintable(out));
    for (const auto& ip : ips) {
      out = bed.in(QStringLiteral("ext"), QStringLiteral("nft add element inet partner allowlist '{ %1 }'").arg(ip), &rc);
      QVERIFY2(rc == 0, qPrintable(out));
    }
    QVERIFY(serviceAllowlist().contains(kNewIp));
    QTRY_VERIFY2_WITH_TIMEOUT(field(kNewNode, "allowlist") == QStringLiteral("ok"), qPrintable(logs()), 30000);
  }

  void candidacyEnabledAndDriftClean() {
    int rc = 0;
    auto out = ctl(QStringLiteral("candidacy enable %1").arg(kNewNode), &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    QTRY_VERIFY_WITH_TIMEOUT(field(kNewNode, "candidacy") == QStringLiteral("enabled"), 15000);
    const auto file = dir_.filePath(QStringLiteral("service-allowlist-2.txt"));
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write((serviceAllowlist().join(QLatin1Char('\n')) + QLatin1Char('\n')).toUtf8());
    f.close();
    out = ctl(QStringLiteral("drift --allowlist %1").arg(file), &rc);
    QVERIFY2(rc == 0, qPrintable(out));
  }

  void removedFromTheServiceItIsNeverElected() {
    int rc = 0;
    auto out = bed.in(QStringLiteral("ext"), QStringLiteral("nft delete element inet partner allowlist '{ %1 }'").arg(kNewIp), &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    QTRY_VERIFY2_WITH_TIMEOUT(field(kNewNode, "allowlist") == QStringLiteral("rejected"), qPrintable(logs()), 30000);
    QCOMPARE(field(kNewNode, "candidacy"), QStringLiteral("enabled"));  // still enabled: it just may not stand
    const auto refusedBefore = podPacketsRefused();
    QString old, next;
    std::int64_t faultNs = 0;
    killMaster(old, next, faultNs);
    QVERIFY2(next != kNewNode, qPrintable(logs()));
    // Traffic resumes from the new master's allowlisted IP, and for a while after nothing changes.
    const auto nextIp = field(next, "egress_ip");
    QTRY_VERIFY2_WITH_TIMEOUT(!sourcesSince(faultNs).isEmpty() && sourcesSince(faultNs).last() == nextIp, qPrintable(logs()), 15000);
    QTest::qWait(5000);
    QCOMPARE(master(), next);
    QVERIFY(!sourcesSince(faultNs).contains(kNewIp));
    QCOMPARE(podPacketsRefused(), refusedBefore);
    // Bring the killed voter back: the next step needs its vote.
    TB(bed, QStringLiteral("start %1").arg(old));
    QTRY_VERIFY2_WITH_TIMEOUT(!field(old, "role").isEmpty() && field(old, "role") != QStringLiteral("master"), qPrintable(logs()), 30000);
  }

  void newNodeCarriesTheTrafficWith172_16_0_5() {
    int rc = 0;
    auto out = bed.in(QStringLiteral("ext"), QStringLiteral("nft add element inet partner allowlist '{ %1 }'").arg(kNewIp), &rc);
    QVERIFY2(rc == 0, qPrintable(out));
    QTRY_VERIFY2_WITH_TIMEOUT(field(kNewNode, "allowlist") == QStringLiteral("ok"), qPrintable(logs()), 30000);
    // The other candidates step aside (they stay voters), then the master is killed.
    const auto m = master();
    QVERIFY(!m.isEmpty() && m != kNewNode);
    for (const auto& n : {QStringLiteral("egress-1"), QStringLiteral("egress-2"), QStringLiteral("egress-3")}) {
      if (n == m) continue;
      out = ctl(QStringLiteral("candidacy disable %1").arg(n), &rc);
      QVERIFY2(rc == 0, qPrintable(out));
    }
    const auto refusedBefore = podPacketsRefused();
    QString old, next;
    std::int64_t faultNs = 0;
    killMaster(old, next, faultNs);
    QCOMPARE(next, kNewNode);
    QTRY_VERIFY2_WITH_TIMEOUT(!sourcesSince(faultNs).isEmpty() && sourcesSince(faultNs).last() == kNewIp, qPrintable(logs()), 15000);
    const auto switched = monoNs();
    QTRY_VERIFY_WITH_TIMEOUT(analyze(switched).value(QStringLiteral("udp")).toInt() > 100, 15000);
    QCOMPARE(sourcesSince(switched), QStringList{kNewIp});
    QCOMPARE(podPacketsRefused(), refusedBefore);
    qInfo("%s -> %s: gap %.1f ms", qPrintable(old), qPrintable(next), analyze(faultNs).value(QStringLiteral("max_gap_ms")).toDouble());
  }

  void cleanupTestCase() {
    if (geteuid() == 0) bed.down();
  }
};

QTEST_GUILESS_MAIN(TestJoinE2e)
#include "test_join_e2e.moc"
