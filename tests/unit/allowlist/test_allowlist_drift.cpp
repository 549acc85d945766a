// Drift between the allowlist file and the cluster: every state, CIDR coverage, the VIP, and the
// summary.
#include <QTest>

#include "egw/drift.h"

using namespace egw;

namespace {

Allowlist list(const char* text) {
  auto r = parseAllowlist(text);
  if (!r.ok()) qFatal("bad test allowlist: %s", r.error().c_str());
  return *r;
}

DriftNode node(std::string name, std::string ip, AllowlistVerdict v, NodeCandidacy c = NodeCandidacy::Enabled,
               bool master = false, std::string detail = {}) {
  return DriftNode{std::move(name), std::move(ip), c, master, v, std::move(detail)};
}

// "ip node state line" per row, for compact comparisons.
QStringList brief(const DriftReport& r) {
  QStringList out;
  for (const auto& row : r.rows)
    out << QStringLiteral("%1 %2 %3 %4")
               .arg(QString::fromStdString(row.ip), QString::fromStdString(row.node.empty() ? "-" : row.node),
                    QString::fromStdString(std::string(driftStateName(row.state))))
               .arg(row.line);
  return out;
}

QString reason(const DriftReport& r, std::size_t i) { return QString::fromStdString(r.rows.at(i).reason); }

}  // namespace

class TestAllowlistDrift : public QObject {
  Q_OBJECT

 private slots:
  void everyState() {
    auto l = list("172.16.0.7\n172.16.0.8\n172.16.0.9\n172.16.0.10\n203.0.113.9 # old egress-0\n");
    DriftInput in;
    in.nodes = {node("egress-1", "172.16.0.7", AllowlistVerdict::Ok, NodeCandidacy::Enabled, true),
                node("egress-2", "172.16.0.8", AllowlistVerdict::Unverified, NodeCandidacy::Enabled, false,
                     "no answer within 2s (TCP connect to 198.51.100.10:443 from 172.16.0.8)"),
                node("egress-3", "172.16.0.9", AllowlistVerdict::Rejected, NodeCandidacy::Enabled, false,
                     "198.51.100.10:443 refused the connection from 172.16.0.9 (TCP reset)"),
                node("egress-4", "172.16.0.5", AllowlistVerdict::Unknown, NodeCandidacy::Pending),
                node("egress-5", "172.16.0.10", AllowlistVerdict::Unknown),
                node("worker-1", "", AllowlistVerdict::Unknown, NodeCandidacy::None)};
    auto r = computeDrift(l, in);
    QCOMPARE(brief(r), (QStringList{QStringLiteral("172.16.0.7 egress-1 ok 1"), QStringLiteral("172.16.0.8 egress-2 unverified 2"),
                                    QStringLiteral("172.16.0.9 egress-3 rejected 3"), QStringLiteral("172.16.0.5 egress-4 missing 0"),
                                    QStringLiteral("172.16.0.10 egress-5 unverified 4"), QStringLiteral("203.0.113.9 - stale 5")}));
    QCOMPARE(reason(r, 0), QStringLiteral("on the list (line 1) and the probe from it is accepted"));
    QCOMPARE(reason(r, 1), QStringLiteral("on the list (line 2), but the probe failed: no answer within 2s (TCP connect to "
                                          "198.51.100.10:443 from 172.16.0.8)"));
    QCOMPARE(reason(r, 2), QStringLiteral("on the list (line 3), but the external service refuses it: 198.51.100.10:443 refused "
                                          "the connection from 172.16.0.9 (TCP reset)"));
    QCOMPARE(reason(r, 3), QStringLiteral("not on the list: traffic would be black-holed if egress-4 became master (candidacy pending)"));
    QCOMPARE(reason(r, 4), QStringLiteral("on the list (line 4); not probed yet"));
    QCOMPARE(reason(r, 5), QStringLiteral("on the list (line 5) but no node's egress IP any more: someone else may get this "
                                          "address (the list says: old egress-0)"));
    QVERIFY(!r.clean());
    QCOMPARE(r.count(DriftState::Missing), std::size_t(1));
    QCOMPARE(QString::fromStdString(r.summary()),
             QStringLiteral("drift: 1 missing, 1 rejected, 2 unverified, 1 stale (of 6 addresses)"));
  }

  void cleanWhenEveryIpIsListedAndAccepted() {
    auto l = list("ip,node\n172.16.0.7,egress-1\n172.16.0.8,egress-2\n");
    DriftInput in;
    in.nodes = {node("egress-1", "172.16.0.7", AllowlistVerdict::Ok, NodeCandidacy::Enabled, true),
                node("egress-2", "172.16.0.8", AllowlistVerdict::Ok, NodeCandidacy::Disabled),
                node("worker-1", "", AllowlistVerdict::Unknown, NodeCandidacy::None)};
    auto r = computeDrift(l, in);
    QVERIFY(r.clean());
    QCOMPARE(QString::fromStdString(r.summary()), QStringLiteral("clean: 2 addresses on the allowlist and accepted by the probe"));
  }

  void cidrEntriesCoverNodes() {
    auto l = list("172.16.0.0/29\n10.50.0.0/16\n2001:db8::/64\n");
    DriftInput in;
    in.nodes = {node("egress-1", "172.16.0.7", AllowlistVerdict::Ok), node("egress-2", "172.16.0.8", AllowlistVerdict::Ok),
                node("egress-6", "2001:db8::6", AllowlistVerdict::Ok)};
    auto r = computeDrift(l, in);
    QCOMPARE(brief(r), (QStringList{QStringLiteral("172.16.0.7 egress-1 ok 1"), QStringLiteral("172.16.0.8 egress-2 missing 0"),
                                    QStringLiteral("2001:db8::6 egress-6 ok 3"), QStringLiteral("10.50.0.0/16 - stale 2")}));
    QCOMPARE(reason(r, 0), QStringLiteral("on the list (line 1, 172.16.0.0/29) and the probe from it is accepted"));
    QCOMPARE(reason(r, 1), QStringLiteral("not on the list: traffic would be black-holed if egress-2 became master; the probe is "
                                          "accepted, so the file may be out of date"));
    QCOMPARE(reason(r, 3), QStringLiteral("on the list (line 2) but covers no node's egress IP"));
  }

  void virtualIp() {
    DriftInput in;
    in.nodes = {node("egress-1", "172.16.0.7", AllowlistVerdict::Ok, NodeCandidacy::Enabled, true)};
    in.vip = "172.16.0.100/24";
    auto listed = computeDrift(list("172.16.0.7\n172.16.0.100\n"), in);
    QCOMPARE(brief(listed), (QStringList{QStringLiteral("172.16.0.7 egress-1 ok 1"), QStringLiteral("172.16.0.100 vip ok 2")}));
    QVERIFY(listed.clean());
    auto missing = computeDrift(list("172.16.0.7\n"), in);
    QCOMPARE(brief(missing), (QStringList{QStringLiteral("172.16.0.7 egress-1 ok 1"), QStringLiteral("172.16.0.100 vip missing 0")}));
    QCOMPARE(reason(missing, 1),
             QStringLiteral("the virtual IP is not on the list: every master's traffic leaves with it and is black-holed"));
  }

  void masterMissingAndRejectedConfirmed() {
    DriftInput in;
    in.nodes = {node("egress-1", "172.16.0.7", AllowlistVerdict::Rejected, NodeCandidacy::Enabled, true)};
    auto r = computeDrift(list(""), in);
    QCOMPARE(brief(r), QStringList{QStringLiteral("172.16.0.7 egress-1 missing 0")});
    QCOMPARE(reason(r, 0), QStringLiteral("not on the list, and egress-1 is the master: its traffic is refused now; the probe "
                                          "confirms the refusal"));
  }

  void oddNodes() {
    auto l = list("10.0.0.31\n");
    DriftInput in;
    in.nodes = {node("egress-7", "", AllowlistVerdict::Unknown), node("egress-8", "eth1?", AllowlistVerdict::Unknown),
                node("worker-2", "10.0.0.31", AllowlistVerdict::Unknown, NodeCandidacy::None),
                node("egress-a", "172.16.0.7", AllowlistVerdict::Ok), node("egress-b", "172.16.0.7", AllowlistVerdict::Ok)};
    auto r = computeDrift(l, in);
    QCOMPARE(brief(r), (QStringList{QStringLiteral(" egress-7 unverified 0"), QStringLiteral("eth1? egress-8 unverified 0"),
                                    QStringLiteral("172.16.0.7 egress-a, egress-b missing 0"),
                                    QStringLiteral("10.0.0.31 - stale 1")}));
    QCOMPARE(reason(r, 0), QStringLiteral("egress-7 reports no egress IP (egress interface down or without an address?)"));
    QCOMPARE(reason(r, 3), QStringLiteral("on the list (line 1), but worker-2 is not an egress node"));
    QVERIFY(reason(r, 2).endsWith(QStringLiteral("; also the egress IP of egress-b")));
  }

  void emptyClusterAndList() {
    auto r = computeDrift(list(""), DriftInput{});
    QVERIFY(r.clean());
    QVERIFY(r.rows.empty());
  }
};

QTEST_APPLESS_MAIN(TestAllowlistDrift)
#include "test_allowlist_drift.moc"
