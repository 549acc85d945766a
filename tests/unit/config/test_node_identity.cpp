// One config for every worker: node.name, node.address and state_dir from the command line, the
// environment or the host when the file leaves them out, and where each value came from.
#include <QTest>

#include "egw/node_identity.h"

using namespace egw;

namespace {

// What every worker of a cluster runs with: no name, no address, listeners at the node's address.
const char* kShared =
    "node: {}\n"
    "listen: { peer: \":7400\", api: \":7401\", metrics: \"127.0.0.1:7402\" }\n"
    "voters:\n"
    "  - { name: egress-1, address: \"10.0.0.11:7400\" }\n"
    "  - { name: egress-2, address: \"10.0.0.12:7400\" }\n"
    "  - { name: egress-3, address: \"10.0.0.13:7400\" }\n"
    "tls: { ca: /tls/ca.pem, cert: /tls/observer.pem, key: /tls/observer-key.pem }\n";

Config shared() {
  auto c = parseConfig(kShared, "worker.yaml");
  if (!c) qFatal("%s", c.error().c_str());
  return *c;
}

// A host with $NODE_NAME, a host name and a route to every address via 10.0.0.21; `routes`
// counts the lookups.
IdentitySources host(int* routes = nullptr) {
  IdentitySources s;
  s.envNodeName = "worker-7";
  s.hostName = "ip-10-0-0-21";
  s.routeSource = [routes](const IpAddress& to) -> Result<IpAddress> {
    if (routes) ++*routes;
    if (to.str() == "10.0.0.11") return *IpAddress::parse("10.0.0.21");
    return Result<IpAddress>::failure("Network is unreachable");
  };
  return s;
}

QString err(const Result<Config>& r) { return r ? QString() : QString::fromStdString(r.error()); }

}  // namespace

class TestNodeIdentity : public QObject {
  Q_OBJECT
 private slots:
  void sharedConfigParses() {
    auto c = shared();
    QVERIFY(c.node.name.empty());
    QVERIFY(c.node.address.isUnspecified());
    QCOMPARE(c.listen.peer.host, std::string());
    QCOMPARE(c.listen.peer.port, std::uint16_t(7400));
    QCOMPARE(c.listen.metrics->str(), std::string("127.0.0.1:7402"));
  }

  void fromTheEnvironmentAndTheRoute() {
    IdentityOrigins from;
    auto c = resolveIdentity(shared(), host(), &from);
    QVERIFY2(c.ok(), qPrintable(err(c)));
    QCOMPARE(c->node.name, std::string("worker-7"));
    QCOMPARE(from.name, std::string("$NODE_NAME"));
    QCOMPARE(c->node.address.str(), std::string("10.0.0.21"));
    QCOMPARE(from.address, std::string("the route to voter egress-1 (10.0.0.11)"));
    // ":PORT" is the node's address; an explicit host stays.
    QCOMPARE(c->listen.peer.str(), std::string("10.0.0.21:7400"));
    QCOMPARE(c->listen.api.str(), std::string("10.0.0.21:7401"));
    QCOMPARE(c->listen.metrics->str(), std::string("127.0.0.1:7402"));
    QCOMPARE(c->stateDir, std::string("/var/lib/egress-gateway"));
    QVERIFY(!c->isVoter());
  }

  void precedence() {
    int routes = 0;
    auto src = host(&routes);
    // The flags win over everything; no route is looked up when the address is given.
    src.nodeNameFlag = "worker-9";
    src.addressFlag = "10.0.0.99";
    src.stateDirFlag = "/tmp/w9";
    IdentityOrigins from;
    auto c = resolveIdentity(shared(), src, &from);
    QVERIFY2(c.ok(), qPrintable(err(c)));
    QCOMPARE(c->node.name, std::string("worker-9"));
    QCOMPARE(from.name, std::string("--node-name"));
    QCOMPARE(c->node.address.str(), std::string("10.0.0.99"));
    QCOMPARE(from.address, std::string("--address"));
    QCOMPARE(c->stateDir, std::string("/tmp/w9"));
    QCOMPARE(from.stateDir, std::string("--state-dir"));
    QCOMPARE(routes, 0);

    // The file wins over the environment and the host.
    auto own = parseConfig(
        "node: { name: worker-3, address: 10.0.0.23 }\nlisten: { peer: \":7400\", api: \":7401\" }\n"
        "voters:\n  - { name: egress-1, address: \"10.0.0.11:7400\" }\ninsecure: true\n",
        "w3.yaml");
    QVERIFY2(own.ok(), own.ok() ? "" : own.error().c_str());
    c = resolveIdentity(*own, host(&routes), &from);
    QVERIFY2(c.ok(), qPrintable(err(c)));
    QCOMPARE(c->node.name, std::string("worker-3"));
    QCOMPARE(from.name, std::string("config"));
    QCOMPARE(from.address, std::string("config"));
    QCOMPARE(routes, 0);

    // No $NODE_NAME: the host name.
    auto bare = host();
    bare.envNodeName.clear();
    c = resolveIdentity(shared(), bare, &from);
    QVERIFY2(c.ok(), qPrintable(err(c)));
    QCOMPARE(c->node.name, std::string("ip-10-0-0-21"));
    QCOMPARE(from.name, std::string("the host name"));
  }

  void theRouteSkipsThisNode() {
    // A voter running the shared config finds its address through another voter.
    auto src = host();
    src.nodeNameFlag = "egress-1";
    src.routeSource = [](const IpAddress& to) -> Result<IpAddress> {
      if (to.str() == "10.0.0.12") return *IpAddress::parse("10.0.0.11");
      return Result<IpAddress>::failure("unexpected " + to.str());
    };
    IdentityOrigins from;
    auto c = resolveIdentity(shared(), src, &from);
    QVERIFY2(c.ok(), qPrintable(err(c)));
    QCOMPARE(from.address, std::string("the route to voter egress-2 (10.0.0.12)"));
    QVERIFY(c->isVoter());
  }

  void problemsNameTheFileKeyAndSource() {
    auto src = host();
    src.envNodeName = "Worker_7";
    src.routeSource = [](const IpAddress&) -> Result<IpAddress> { return Result<IpAddress>::failure("Network is unreachable"); };
    auto c = resolveIdentity(shared(), src);
    QVERIFY(!c.ok());
    const auto e = err(c);
    QVERIFY2(e.contains(QStringLiteral("worker.yaml: node.name: 'Worker_7' from $NODE_NAME must be 1-63 characters of "
                                       "[a-z0-9-], starting and ending alphanumeric (set --node-name)")),
             qPrintable(e));
    QVERIFY2(e.contains(QStringLiteral("worker.yaml: node.address: not in the file and no --address, and there is no "
                                       "route to voter egress-1 (10.0.0.11): Network is unreachable")),
             qPrintable(e));

    src = host();
    src.addressFlag = "0.0.0.0";
    QVERIFY(err(resolveIdentity(shared(), src)).contains(QStringLiteral("--address '0.0.0.0' is not a node's IP address")));

    IdentitySources nothing;
    QVERIFY(err(resolveIdentity(shared(), nothing))
                .contains(QStringLiteral("node.name: not in the file, and neither --node-name, $NODE_NAME nor the host "
                                         "name gives one")));
  }

  void withoutTlsOnlyLoopback() {
    // ":PORT" on a node address that is not loopback needs tls, as a written address does.
    auto c = parseConfig(
        "node: {}\nlisten: { peer: \":7400\", api: \"127.0.0.1:7401\" }\nvoters:\n  - { name: egress-1, address: \"10.0.0.11:7400\" }\n",
        "plain.yaml");
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().c_str());
    auto r = resolveIdentity(*c, host());
    QCOMPARE(err(r), QStringLiteral("plain.yaml: listen.peer: \":7400\" is 10.0.0.21:7400 (node.address from the route to "
                                    "voter egress-1 (10.0.0.11)), which is not loopback, without tls: configure tls or "
                                    "set insecure: true"));
    auto src = host();
    src.addressFlag = "127.0.3.4";
    r = resolveIdentity(*c, src);
    QVERIFY2(r.ok(), qPrintable(err(r)));
    QCOMPARE(r->listen.peer.str(), std::string("127.0.3.4:7400"));
  }

  void badListenAndAddressInTheFile() {
    auto c = parseConfig("node: { address: 0.0.0.0 }\nlisten: { peer: \":x\", api: \":7401\" }\nvoters:\n"
                         "  - { name: egress-1, address: \"127.0.0.1:7400\" }\n",
                         "bad.yaml");
    QVERIFY(!c.ok());
    QVERIFY2(QString::fromStdString(c.error()).contains(QStringLiteral("bad.yaml:1: node.address: must be the node's cluster address, not 0.0.0.0")),
             c.error().c_str());
    QVERIFY2(QString::fromStdString(c.error()).contains(QStringLiteral("bad.yaml:2: listen.peer: expected HOST:PORT (or :PORT for the node's address)")),
             c.error().c_str());
  }

  void realHostSources() {
    // The real lookups: a route to loopback always exists, and nothing is sent.
    auto src = hostSources("", "", "");
    QVERIFY(src.routeSource);
    auto a = src.routeSource(*IpAddress::parse("127.0.0.1"));
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().c_str());
    QCOMPARE(a->str(), std::string("127.0.0.1"));
  }
};

QTEST_GUILESS_MAIN(TestNodeIdentity)
#include "test_node_identity.moc"
