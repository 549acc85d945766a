// The config loader: defaults, every example, and a table of broken configs each naming its
// line and key.
#include <QDir>
#include <QTest>

#include "egw/config.h"
#include "support/paths.h"

using namespace egw;

namespace {

// A valid base; broken variants replace one line. Line numbers below refer to this text.
const char* kBase =
    "node:\n"                                                   // 1
    "  name: egress-1\n"                                        // 2
    "  address: 10.0.0.11\n"                                    // 3
    "  egress: { interface: eth1, ip: 172.16.0.7 }\n"           // 4
    "  candidate: true\n"                                       // 5
    "  priority: 100\n"                                         // 6
    "listen:\n"                                                 // 7
    "  peer: \"127.0.0.1:7400\"\n"                              // 8
    "  api: \"127.0.0.1:7401\"\n"                               // 9
    "voters:\n"                                                 // 10
    "  - { name: egress-1, address: \"10.0.0.11:7400\" }\n"     // 11
    "  - { name: egress-2, address: \"10.0.0.12:7400\" }\n"     // 12
    "  - { name: egress-3, address: \"10.0.0.13:7400\" }\n"     // 13
    "election: { heartbeat_interval: 100ms, election_timeout: 300ms }\n"  // 14
    "mode: primary-ip\n"                                        // 15
    "policies:\n"                                               // 16
    "  - { name: p1, sources: [10.244.0.0/16], destinations: [198.51.100.0/24] }\n"  // 17
    "datapath: { fwmark: 0x4000, route_table: 4000, no_master: drop }\n"  // 18
    "log: { level: info, format: text }\n";                     // 19

std::string replaceLine(const std::string& text, int line, const std::string& with) {
  std::string out;
  int n = 1;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    auto l = text.substr(start, end - start);
    out += (n == line ? with : l);
    out += "\n";
    ++n;
    start = end + 1;
  }
  return out;
}

}  // namespace

class TestConfig : public QObject {
  Q_OBJECT
 private slots:
  void baseIsValid() {
    auto c = parseConfig(kBase, "base.yaml");
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().c_str());
    QCOMPARE(c->node.name, std::string("egress-1"));
    QCOMPARE(c->node.address.str(), std::string("10.0.0.11"));
    QCOMPARE(c->node.egress.interface, std::string("eth1"));
    QCOMPARE(c->node.egress.ip->str(), std::string("172.16.0.7"));
    QVERIFY(c->node.candidate);
    QCOMPARE(c->voters.size(), std::size_t(3));
    QVERIFY(c->isVoter());
    QCOMPARE(c->election.heartbeatInterval.count(), 100);
    QCOMPARE(c->election.electionTimeout.count(), 300);
    QVERIFY(c->election.lease() < c->election.electionTimeout);
    QCOMPARE(c->datapath.fwmark, 0x4000u);
    QCOMPARE(c->policies.at(0).destinations.at(0).str(), std::string("198.51.100.0/24"));
  }

  void defaults() {
    auto c = parseConfig(
        "node: { name: w1, address: 127.0.0.1 }\n"
        "listen: { peer: '127.0.0.1:1', api: '127.0.0.1:2' }\n"
        "voters: [ { name: a, address: '127.0.0.1:1' } ]\n",
        "min.yaml");
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().c_str());
    QCOMPARE(c->election.heartbeatInterval.count(), 100);
    QCOMPARE(c->election.electionTimeout.count(), 300);
    QCOMPARE(c->datapath.table, std::string("egress_gateway"));
    QCOMPARE(c->datapath.routeTable, 4000u);
    QVERIFY(c->datapath.noMaster == NoMaster::Drop);
    QVERIFY(c->mode == Mode::PrimaryIp);
    QCOMPARE(c->node.priority, 100);
    QVERIFY(!c->node.candidate);
    QVERIFY(!c->isVoter());
    QCOMPARE(c->stateDir, std::string("/var/lib/egress-gateway"));
    QVERIFY(!c->listen.metrics);
  }

  void examplesAreValid() {
    QDir dir(egwtest::sourcePath(u"resources/examples"));
    const auto files = dir.entryList({QStringLiteral("*.yaml")}, QDir::Files);
    QVERIFY(files.size() >= 3);
    for (const auto& f : files) {
      auto c = loadConfig(dir.filePath(f).toStdString());
      QVERIFY2(c.ok(), qPrintable(f + QStringLiteral(": ") + QString::fromStdString(c.ok() ? "" : c.error())));
    }
  }

  void durations() {
    QCOMPARE(parseDuration("100ms")->count(), 100);
    QCOMPARE(parseDuration("2s")->count(), 2000);
    QCOMPARE(parseDuration("1.5s")->count(), 1500);
    QCOMPARE(parseDuration("1m")->count(), 60000);
    QVERIFY(!parseDuration("100"));
    QVERIFY(!parseDuration("ms"));
    QVERIFY(!parseDuration("10 ms"));
    QVERIFY(!parseDuration("-1s"));
    QVERIFY(!parseDuration("0.5ms"));
    QCOMPARE(formatDuration(Millis(2000)), std::string("2s"));
    QCOMPARE(formatDuration(Millis(250)), std::string("250ms"));
  }

  void broken_data() {
    QTest::addColumn<int>("line");
    QTest::addColumn<QString>("replacement");
    QTest::addColumn<QString>("expected");  // "LINE: key.path: fragment"

    auto row = [](const char* tag, int line, const char* repl, const char* expected) {
      QTest::newRow(tag) << line << QString::fromUtf8(repl) << QString::fromUtf8(expected);
    };
    row("name missing", 2, "  nme: egress-1", "base.yaml:2: node.nme: unknown key");
    row("name uppercase", 2, "  name: Egress-1", "base.yaml:2: node.name: must be 1-63");
    row("name too long", 2, ("  name: " + std::string(64, 'a')).c_str(), "base.yaml:2: node.name: must be 1-63");
    row("address not ip", 3, "  address: 10.0.0.300", "base.yaml:3: node.address: not an IP address");
    row("egress ip bad", 4, "  egress: { interface: eth1, ip: 172.16.0 }", "base.yaml:4: node.egress.ip: not an IP");
    row("candidate not bool", 5, "  candidate: yes please", "base.yaml:5: node.candidate: expected true or false");
    row("priority string", 6, "  priority: high", "base.yaml:6: node.priority: expected an integer");
    row("priority range", 6, "  priority: 5000", "base.yaml:6: node.priority: must be between 0 and 1000");
    row("candidate without interface", 4, "  egress: { ip: 172.16.0.7 }", "base.yaml:4: node.egress.interface: required for a candidate");
    row("peer no port", 8, "  peer: \"127.0.0.1\"", "base.yaml:8: listen.peer: expected HOST:PORT");
    row("port out of range", 9, "  api: \"127.0.0.1:70000\"", "base.yaml:9: listen.api: expected HOST:PORT (or :PORT for the node's address) with a port from 1 to 65535");
    row("port zero", 9, "  api: \"127.0.0.1:0\"", "base.yaml:9: listen.api: expected HOST:PORT");
    row("unknown listen key", 9, "  apis: \"127.0.0.1:7401\"", "base.yaml:9: listen.apis: unknown key");
    row("duplicate voter name", 12, "  - { name: egress-1, address: \"10.0.0.12:7400\" }", "base.yaml:12: voters[1].name: duplicate voter name 'egress-1'");
    row("duplicate voter address", 12, "  - { name: egress-2, address: \"10.0.0.11:7400\" }", "base.yaml:12: voters[1].address: duplicate voter address");
    row("even voters", 13, "", "base.yaml:11: voters: the number of voters must be odd");
    row("voter bad address", 13, "  - { name: egress-3, address: \"10.0.0.13\" }", "base.yaml:13: voters[2].address: expected HOST:PORT");
    row("voter unknown key", 13, "  - { name: egress-3, address: \"10.0.0.13:7400\", weight: 2 }", "base.yaml:13: voters[2].weight: unknown key");
    row("bad duration", 14, "election: { heartbeat_interval: 100, election_timeout: 300ms }", "base.yaml:14: election.heartbeat_interval: expected a duration");
    row("timeout too short", 14, "election: { heartbeat_interval: 100ms, election_timeout: 200ms }", "base.yaml:14: election.election_timeout: must be at least 3");
    row("bad mode", 15, "mode: nat", "base.yaml:15: mode: expected primary-ip or virtual-ip");
    row("vip missing", 15, "mode: virtual-ip", "base.yaml:15: virtual_ip: required when mode is virtual-ip");
    row("bad cidr", 17, "  - { name: p1, sources: [10.244.0.0/33], destinations: [198.51.100.0/24] }", "base.yaml:17: policies[0].sources[0]: not a CIDR");
    row("host bits", 17, "  - { name: p1, sources: [10.244.1.0/16], destinations: [198.51.100.0/24] }", "base.yaml:17: policies[0].sources[0]: host bits set in '10.244.1.0/16' (did you mean 10.244.0.0/16?)");
    row("overlapping cidrs", 17, "  - { name: p1, sources: [10.244.0.0/16], destinations: [198.51.100.0/24, 198.51.100.128/25] }", "base.yaml:17: policies[0].destinations[1]: 198.51.100.128/25 overlaps 198.51.100.0/24");
    row("no destinations", 17, "  - { name: p1, sources: [10.244.0.0/16] }", "base.yaml:17: policies[0].destinations: required key is missing");
    row("empty sources", 17, "  - { name: p1, sources: [], destinations: [198.51.100.0/24] }", "base.yaml:17: policies[0].sources: must not be empty");
    row("ipv6 destination", 17, "  - { name: p1, sources: [10.244.0.0/16], destinations: ['2001:db8::/32'] }", "base.yaml:17: policies[0].destinations[0]: IPv6 prefixes are not supported");
    row("fwmark zero", 18, "datapath: { fwmark: 0, route_table: 4000 }", "base.yaml:18: datapath.fwmark: must be between 1");
    row("reserved table", 18, "datapath: { route_table: 254 }", "base.yaml:18: datapath.route_table: tables 253 (default), 254 (main) and 255 (local) are reserved");
    row("no_master bad", 18, "datapath: { no_master: reject }", "base.yaml:18: datapath.no_master: expected drop or pass");
    row("table name bad", 18, "datapath: { table: 'egress gateway' }", "base.yaml:18: datapath.table: must be an identifier");
    row("log level", 19, "log: { level: verbose }", "base.yaml:19: log.level: expected trace");
    row("log format", 19, "log: { format: xml }", "base.yaml:19: log.format: expected text or json");
    row("unknown top key", 19, "logging: { level: info }", "base.yaml:19: logging: unknown key");
    row("duplicate key", 15, "mode: primary-ip\nmode: virtual-ip", "base.yaml:16: mode: duplicate key");
    row("non-loopback without tls", 9, "  api: \"0.0.0.0:7401\"", "base.yaml:9: listen.api: listens on 0.0.0.0:7401 without tls");
    row("probe timeout", 19, "allowlist: { probe: { target: '198.51.100.10:443', interval: 1s, timeout: 2s } }", "base.yaml:19: allowlist.probe.timeout: must be shorter");
    row("probe target", 19, "allowlist: { probe: { target: '198.51.100.10' } }", "base.yaml:19: allowlist.probe.target: expected HOST:PORT");
    row("tls missing key", 19, "tls: { ca: ca.pem, cert: node.pem }", "base.yaml:19: tls.key: required key is missing");
    row("syntax error", 17, "  - { name: p1, sources: [10.244.0.0/16, destinations: }", "base.yaml:17: (syntax)");
    row("election not a map", 14, "election: fast", "base.yaml:14: election: expected a mapping");
    row("empty file", 0, "", "(document)");
  }

  void broken() {
    QFETCH(int, line);
    QFETCH(QString, replacement);
    QFETCH(QString, expected);
    auto text = line == 0 ? std::string() : replaceLine(kBase, line, replacement.toStdString());
    auto c = parseConfig(text, "base.yaml");
    QVERIFY2(!c.ok(), "config was accepted");
    const auto msg = QString::fromStdString(c.error());
    QVERIFY2(msg.contains(expected), qPrintable(QStringLiteral("expected '%1' in:\n%2").arg(expected, msg)));
  }

  void everyErrorIsReported() {
    auto text = replaceLine(replaceLine(kBase, 6, "  priority: high"), 15, "mode: nat");
    auto c = parseConfig(text, "two.yaml");
    QVERIFY(!c.ok());
    QVERIFY(c.error().find("two.yaml:6: node.priority") != std::string::npos);
    QVERIFY(c.error().find("two.yaml:15: mode") != std::string::npos);
  }

  void missingFile() {
    auto c = loadConfig("/nonexistent/agent.yaml");
    QVERIFY(!c.ok());
    QVERIFY(c.error().find("/nonexistent/agent.yaml") != std::string::npos);
    QVERIFY(c.error().find("No such file") != std::string::npos);
  }

  void tlsPathsResolveAgainstConfigDir() {
    auto text = std::string(kBase) + "tls: { ca: ca.pem, cert: /abs/node.pem, key: k.pem }\n";
    auto c = parseConfig(text, "/etc/egw/agent.yaml");
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().c_str());
    QCOMPARE(c->tls->ca, std::string("/etc/egw/ca.pem"));
    QCOMPARE(c->tls->cert, std::string("/abs/node.pem"));
  }
};

QTEST_GUILESS_MAIN(TestConfig)
#include "test_config.moc"
