// The ruleset renderer against golden files: every role x mode x no_master combination.
// EGW_UPDATE_GOLDEN=1 rewrites the files; each golden is also checked by `nft -c -f` when nft
// is installed and we may use it (root).
#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "agent/core/ruleset.h"
#include "support/paths.h"

using namespace egw;

namespace {

const char* kConfig =
    "node:\n"
    "  name: egress-1\n"
    "  address: 10.0.0.11\n"
    "  egress: { interface: eth1, ip: 172.16.0.7 }\n"
    "  candidate: true\n"
    "listen: { peer: \"127.0.0.1:7400\", api: \"127.0.0.1:7401\" }\n"
    "voters:\n"
    "  - { name: egress-1, address: \"10.0.0.11:7400\" }\n"
    "election: { heartbeat_interval: 100ms, election_timeout: 300ms }\n"
    "mode: MODE\n"
    "virtual_ip: { address: 172.16.0.100/24, interface: eth1 }\n"
    "policies:\n"
    "  - { name: partner-api, sources: [10.244.0.0/16, 10.96.0.0/12], destinations: [198.51.100.0/24, 203.0.113.7], exclude: [198.51.100.128/25] }\n"
    "  - { name: billing, sources: [10.244.5.0/24], destinations: [192.0.2.0/24] }\n"
    "datapath: { table: egress_gateway, fwmark: 0x4000, route_table: 4000, no_master: NOMASTER }\n";

Config makeConfig(const std::string& mode, const std::string& noMaster) {
  std::string text = kConfig;
  text.replace(text.find("MODE"), 4, mode);
  text.replace(text.find("NOMASTER"), 8, noMaster);
  auto c = parseConfig(text, "golden.yaml");
  if (!c.ok()) qFatal("%s", c.error().c_str());
  return *c;
}

DesiredState stateFor(DatapathRole role) {
  DesiredState st;
  st.role = role;
  if (role == DatapathRole::Follower) st.masterAddress = IpAddress::parse("10.0.0.12");
  if (role == DatapathRole::Master) {
    st.egressIp = IpAddress::parse("172.16.0.7");
    st.lease = Millis{240};
  }
  return st;
}

QString goldenPath(const QString& name) {
  return egwtest::sourcePath(u"tests/unit/ruleset/golden/") + name + QStringLiteral(".nft");
}

std::string readFile(const QString& path) {
  std::ifstream in(path.toStdString());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool nftUsable() { return geteuid() == 0 && !QStandardPaths::findExecutable(QStringLiteral("nft")).isEmpty(); }

}  // namespace

class TestRuleset : public QObject {
  Q_OBJECT
 private slots:
  void golden_data() {
    QTest::addColumn<QString>("mode");
    QTest::addColumn<QString>("noMaster");
    QTest::addColumn<int>("role");
    for (auto mode : {"primary-ip", "virtual-ip"})
      for (auto nm : {"drop", "pass"})
        for (auto role : {DatapathRole::Master, DatapathRole::Follower, DatapathRole::NoMaster}) {
          auto name = QString::fromStdString(roleName(role)) + QLatin1Char('-') + QLatin1String(mode) +
                      QLatin1Char('-') + QLatin1String(nm);
          QTest::newRow(name.toUtf8().constData()) << QString::fromLatin1(mode) << QString::fromLatin1(nm)
                                                   << static_cast<int>(role);
        }
  }
  void golden() {
    QFETCH(QString, mode);
    QFETCH(QString, noMaster);
    QFETCH(int, role);
    auto cfg = makeConfig(mode.toStdString(), noMaster.toStdString());
    auto st = stateFor(static_cast<DatapathRole>(role));
    auto ok = checkRenderable(cfg, st);
    QVERIFY2(ok.ok(), ok.ok() ? "" : ok.error().c_str());
    auto text = renderRuleset(cfg, st);
    auto path = goldenPath(QString::fromLatin1(QTest::currentDataTag()));
    if (qEnvironmentVariableIntValue("EGW_UPDATE_GOLDEN") == 1) {
      std::ofstream(path.toStdString()) << text;
    }
    auto want = readFile(path);
    QVERIFY2(!want.empty(), qPrintable(QStringLiteral("missing golden ") + path + QStringLiteral(" (run with EGW_UPDATE_GOLDEN=1)")));
    QCOMPARE(QString::fromStdString(text), QString::fromStdString(want));
    // Every rule carries a counter.
    std::size_t rules = 0, counters = 0;
    std::istringstream lines(text);
    for (std::string l; std::getline(lines, l);) {
      if (l.find(" comment \"") != std::string::npos) {
        ++rules;
        counters += l.find(" counter ") != std::string::npos;
      }
    }
    QCOMPARE(counters, rules);
    QCOMPARE(rules - (mode == QStringLiteral("virtual-ip") ? 1 : 0), expectedRuleCount(cfg, st));
    // Never drop invalid conntrack state: a flow moved to a new master arrives mid-stream.
    QVERIFY(text.find("invalid") == std::string::npos);

    if (!nftUsable()) QSKIP("nft -c needs root and nft");
    QProcess nft;
    nft.start(QStringLiteral("nft"), {QStringLiteral("-c"), QStringLiteral("-f"), path});
    QVERIFY(nft.waitForFinished(10000));
    QVERIFY2(nft.exitCode() == 0, nft.readAllStandardError().constData());
  }

  // Role changes refill chains in place (renderRoleChange), which needs the same chains in
  // every role: the chain declarations depend on the config only.
  void chainsDependOnTheConfigOnly() {
    auto decls = [](const std::string& text) {
      std::string out;
      std::istringstream lines(text);
      for (std::string l; std::getline(lines, l);)
        if (l.find("  chain ") == 0 || l.find("    type ") == 0) out += l + "\n";
      return out;
    };
    for (auto mode : {"primary-ip", "virtual-ip"})
      for (auto nm : {"drop", "pass"}) {
        auto cfg = makeConfig(mode, nm);
        const auto want = decls(renderRuleset(cfg, stateFor(DatapathRole::Master)));
        QVERIFY(want.find("egress_snat") != std::string::npos);
        QCOMPARE(decls(renderRuleset(cfg, stateFor(DatapathRole::Follower))), want);
        QCOMPARE(decls(renderRuleset(cfg, stateFor(DatapathRole::NoMaster))), want);
      }
  }

  // The role change holds exactly the rules and the lease element of the whole ruleset for that
  // role, flushes every chain and the lease set, and leaves the tables and policy sets alone.
  void roleChangeRefillsEveryChain() {
    for (auto mode : {"primary-ip", "virtual-ip"})
      for (auto nm : {"drop", "pass"})
        for (auto role : {DatapathRole::Master, DatapathRole::Follower, DatapathRole::NoMaster}) {
          auto cfg = makeConfig(mode, nm);
          const auto st = stateFor(role);
          const auto full = renderRuleset(cfg, st);
          const auto change = renderRoleChange(cfg, st);
          QVERIFY(change.find("delete") == std::string::npos && change.find("\ntable ") == std::string::npos);
          QVERIFY(change.find("p0_src {") == std::string::npos && change.find("flush set inet egress_gateway p") == std::string::npos);
          std::string chainName;
          std::size_t rules = 0;
          std::istringstream lines(full);
          for (std::string l; std::getline(lines, l);) {
            if (l.find("  chain ") == 0) {
              chainName = l.substr(8, l.find(' ', 8) - 8);
              const auto family = chainName == "arp_fence" ? std::string("arp") : std::string("inet");
              QVERIFY2(change.find("flush chain " + family + " egress_gateway " + chainName + "\n") != std::string::npos, chainName.c_str());
            } else if (l.find(" comment \"") != std::string::npos) {
              ++rules;
              QVERIFY2(change.find(" " + chainName + " " + l.substr(4) + "\n") != std::string::npos, l.c_str());
            }
          }
          std::size_t added = 0;
          for (auto p = change.find("add rule "); p != std::string::npos; p = change.find("add rule ", p + 1)) ++added;
          QCOMPARE(added, rules);
          const bool lease = role == DatapathRole::Master;
          QCOMPARE(change.find("add element inet egress_gateway lease { \"eth1\" timeout 240ms }") != std::string::npos, lease);
          QVERIFY(change.find("flush set inet egress_gateway lease\n") != std::string::npos);

          // And the kernel takes it on top of the table of any role (checked, not applied).
          if (!nftUsable()) continue;
          for (auto from : {DatapathRole::Master, DatapathRole::Follower, DatapathRole::NoMaster}) {
            QProcess nft;
            nft.start(QStringLiteral("nft"), {QStringLiteral("-c"), QStringLiteral("-f"), QStringLiteral("-")});
            nft.write(QByteArray::fromStdString(renderRuleset(cfg, stateFor(from)) + change));
            nft.closeWriteChannel();
            QVERIFY(nft.waitForFinished(10000));
            QVERIFY2(nft.exitCode() == 0, nft.readAllStandardError().constData());
          }
        }
  }

  void snatIsIdenticalOnEveryCandidateInVirtualIpMode() {
    auto a = makeConfig("virtual-ip", "drop");
    auto b = a;
    b.node.name = "egress-2";
    b.node.egress.ip = IpAddress::parse("172.16.0.8");
    auto snatLine = [](const std::string& text) {
      auto p = text.find("snat ip to");
      return text.substr(text.rfind('\n', p), text.find('\n', p) - text.rfind('\n', p));
    };
    auto sa = stateFor(DatapathRole::Master);
    auto sb = sa;
    sb.egressIp = IpAddress::parse("172.16.0.8");
    QCOMPARE(snatLine(renderRuleset(a, sa)), snatLine(renderRuleset(b, sb)));
    QVERIFY(snatLine(renderRuleset(a, sa)).find("172.16.0.100") != std::string::npos);
  }

  void leaseElementOnlyOnMasterWithLease() {
    auto cfg = makeConfig("primary-ip", "drop");
    auto st = stateFor(DatapathRole::Master);
    QVERIFY(renderRuleset(cfg, st).find("\"eth1\" timeout 240ms") != std::string::npos);
    st.lease = Millis{0};
    QVERIFY(renderRuleset(cfg, st).find("timeout 240ms") == std::string::npos);
    QVERIFY(renderRuleset(cfg, stateFor(DatapathRole::Follower)).find("elements = { \"eth1\"") == std::string::npos);
  }

  void leaseRefreshIsOneIdempotentScript() {
    auto cfg = makeConfig("virtual-ip", "drop");
    auto text = renderLeaseRefresh(cfg, Millis{240});
    QCOMPARE(QString::fromStdString(text),
             QStringLiteral("add element inet egress_gateway lease { \"eth1\" timeout 240ms }\n"
                            "delete element inet egress_gateway lease { \"eth1\" }\n"
                            "add element inet egress_gateway lease { \"eth1\" timeout 240ms }\n"
                            "add element arp egress_gateway lease { \"eth1\" timeout 240ms }\n"
                            "delete element arp egress_gateway lease { \"eth1\" }\n"
                            "add element arp egress_gateway lease { \"eth1\" timeout 240ms }\n"));
  }

  void badStatesAreRefused() {
    auto cfg = makeConfig("primary-ip", "drop");
    DesiredState follower;
    follower.role = DatapathRole::Follower;
    QVERIFY(!checkRenderable(cfg, follower).ok());
    DesiredState master;
    master.role = DatapathRole::Master;
    auto st = checkRenderable(cfg, master);
    QVERIFY(!st.ok());
    QVERIFY(st.error().find("egress IP") != std::string::npos);
    auto bad = cfg;
    bad.node.egress.interface = "eth1\"; flush ruleset";
    master.egressIp = IpAddress::parse("172.16.0.7");
    QVERIFY(!checkRenderable(bad, master).ok());
    bad = cfg;
    bad.policies.clear();
    QVERIFY(!checkRenderable(bad, master).ok());
    bad = cfg;
    bad.policies[0].destinations.push_back(*Cidr::parse("2001:db8::/32"));
    QVERIFY(!checkRenderable(bad, master).ok());
  }
};

QTEST_GUILESS_MAIN(TestRuleset)
#include "test_ruleset.moc"
