// SIGHUP's plan: priority and candidacy apply live; every other key that differs is refused by
// name (before, policies, datapath, virtual_ip, tls, allowlist and log changes were silently
// ignored).
#include <QTest>

#include <functional>

#include "agent/core/reload_plan.h"

using egw::Config;

namespace {

Config base() {
  Config c;
  c.node.name = "egress-1";
  c.node.address = *egw::IpAddress::parse("10.0.0.11");
  c.node.candidate = true;
  c.node.egress.interface = "eth1";
  c.listen.peer = *egw::Endpoint::parse("10.0.0.11:7400");
  c.listen.api = *egw::Endpoint::parse("127.0.0.1:7401");
  c.voters = {{"egress-1", *egw::Endpoint::parse("10.0.0.11:7400")}};
  egw::PolicyConfig p;
  p.name = "all";
  p.sources = {*egw::Cidr::parse("10.244.0.0/16")};
  p.destinations = {*egw::Cidr::parse("198.51.100.0/24")};
  c.policies = {p};
  return c;
}

using Change = std::function<void(Config&)>;

}  // namespace

Q_DECLARE_METATYPE(Change)

class TestReloadPlan : public QObject {
  Q_OBJECT

 private slots:
  void plan_data() {
    QTest::addColumn<Change>("change");
    QTest::addColumn<QString>("summary");
    QTest::newRow("nothing") << Change([](Config&) {}) << QStringLiteral("nothing to apply");
    QTest::newRow("priority") << Change([](Config& c) { c.node.priority = 150; })
                              << QStringLiteral("applied: priority 100 -> 150");
    QTest::newRow("candidate off") << Change([](Config& c) { c.node.candidate = false; })
                                   << QStringLiteral("applied: candidate false");
    QTest::newRow("egress interface") << Change([](Config& c) { c.node.egress.interface = "eth2"; })
                                      << QStringLiteral("nothing to apply; refused: node.egress (needs a restart)");
    QTest::newRow("policies") << Change([](Config& c) { c.policies[0].destinations.push_back(*egw::Cidr::parse("203.0.113.0/24")); })
                              << QStringLiteral("nothing to apply; refused: policies (needs a restart)");
    QTest::newRow("datapath") << Change([](Config& c) { c.datapath.fwmark = 0x8000; })
                              << QStringLiteral("nothing to apply; refused: datapath (needs a restart)");
    QTest::newRow("virtual ip") << Change([](Config& c) { c.virtualIp = egw::VirtualIpConfig{*egw::Cidr::parse("172.16.0.100/24"), "eth1"}; })
                                << QStringLiteral("nothing to apply; refused: virtual_ip (needs a restart)");
    QTest::newRow("allowlist probe") << Change([](Config& c) { c.probe.interval = std::chrono::milliseconds(5000); })
                                     << QStringLiteral("nothing to apply; refused: allowlist (needs a restart)");
    QTest::newRow("tls") << Change([](Config& c) { c.tls = egw::TlsConfig{"ca.pem", "node.pem", "node-key.pem"}; })
                         << QStringLiteral("nothing to apply; refused: tls (needs a restart)");
    QTest::newRow("log") << Change([](Config& c) { c.log.level = "debug"; })
                         << QStringLiteral("nothing to apply; refused: log (needs a restart)");
    QTest::newRow("election") << Change([](Config& c) { c.election.electionTimeout = std::chrono::milliseconds(600); })
                              << QStringLiteral("nothing to apply; refused: election (needs a restart)");
    QTest::newRow("voters") << Change([](Config& c) { c.voters.push_back({"egress-2", *egw::Endpoint::parse("10.0.0.12:7400")}); })
                            << QStringLiteral("nothing to apply; refused: voters (needs a restart)");
    QTest::newRow("mixed") << Change([](Config& c) { c.node.priority = 90; c.stateDir = "/tmp/x"; c.insecure = true; })
                           << QStringLiteral("applied: priority 100 -> 90; refused: insecure (needs a restart), state_dir (needs a restart)");
  }
  void plan() {
    QFETCH(Change, change);
    QFETCH(QString, summary);
    auto next = base();
    change(next);
    auto p = egw::planReload(base(), next);
    QCOMPARE(QString::fromStdString(p.summary()), summary);
  }

  void candidateOnWithNewInterfaceIsRefused() {
    auto cur = base();
    cur.node.candidate = false;
    auto next = cur;
    next.node.candidate = true;
    next.node.egress.interface = "eth2";
    auto p = egw::planReload(cur, next);
    QVERIFY(!p.candidate);
    QCOMPARE(QString::fromStdString(p.summary()),
             QStringLiteral("nothing to apply; refused: node.candidate (egress interface changed too: restart the agent)"));
  }

  void sourcePathIsNotASetting() {
    // A config moved to another file reloads as "nothing".
    auto next = base();
    next.sourcePath = "/etc/other.yaml";
    QCOMPARE(QString::fromStdString(egw::planReload(base(), next).summary()), QStringLiteral("nothing to apply"));
  }
};

QTEST_GUILESS_MAIN(TestReloadPlan)
#include "test_reload_plan.moc"
