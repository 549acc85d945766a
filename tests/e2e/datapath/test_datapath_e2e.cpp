// NftDatapath and DatapathWorker against the real kernel, in namespaces made by the test
// (netns_fixture.h). The test thread lives in node A; node B is driven from threads that enter B.
#include <QRegularExpression>
#include <QTest>

#include <atomic>
#include <csignal>
#include <sys/wait.h>
#include <chrono>
#include <mutex>
#include <thread>

#include "agent/datapath/datapath_worker.h"
#include "agent/datapath/nft_datapath.h"
#include "netns_fixture.h"

using namespace egw;
using namespace egwtest;

namespace {

std::string configText(const std::string& name, const std::string& addr, const std::string& egressIp,
                       const std::string& mode) {
  return "node:\n"
         "  name: " + name + "\n"
         "  address: " + addr + "\n"
         "  egress: { interface: eg0" + (egressIp.empty() ? std::string() : ", ip: " + egressIp) + " }\n"
         "  candidate: true\n"
         "listen: { peer: \"127.0.0.1:7400\", api: \"127.0.0.1:7401\" }\n"
         "voters:\n"
         "  - { name: egress-1, address: \"10.0.0.11:7400\" }\n"
         "election: { heartbeat_interval: 100ms, election_timeout: 300ms }\n"
         "mode: " + mode + "\n"
         "virtual_ip: { address: 172.16.0.100/24, interface: eg0 }\n"
         "policies:\n"
         "  - { name: partner-api, sources: [10.244.0.0/16], destinations: [198.51.100.0/24] }\n"
         "datapath: { table: egress_gateway, fwmark: 0x4000, route_table: 4000, no_master: drop }\n";
}

Config config(const std::string& name, const std::string& addr, const std::string& egressIp, const std::string& mode) {
  auto c = parseConfig(configText(name, addr, egressIp, mode), name + ".yaml");
  if (!c.ok()) qFatal("%s", c.error().c_str());
  return *c;
}

DesiredState master(Millis lease = Millis{60000}) {
  DesiredState s;
  s.role = DatapathRole::Master;
  s.lease = lease;
  return s;
}
DesiredState follower(const char* masterIp) {
  DesiredState s;
  s.role = DatapathRole::Follower;
  s.masterAddress = IpAddress::parse(masterIp);
  return s;
}
DesiredState noMaster() { return {}; }

#define VERIFY_OK(e) QVERIFY2((e).kind == DatapathErrorKind::None, (e).message.c_str())

const char* kServer = "198.51.100.10";
constexpr int kPort = 9999;

}  // namespace

class TestDatapathE2e : public QObject {
  Q_OBJECT
  int origNs_ = -1;
  int server_ = -1, client_ = -1;
  std::unique_ptr<NftDatapath> a_;
  int seq_ = 0;

  // One datagram client -> server over the same 5-tuple every time (an established flow).
  std::optional<std::string> roundTrip(int timeoutMs = 1000) {
    drain(server_);
    sendTo(client_, kServer, kPort, "ping " + std::to_string(++seq_));
    return receiveFrom(server_, timeoutMs);
  }
  std::uint64_t counter(Datapath& dp, const std::string& rule) {
    auto c = dp.counters();
    if (!c.ok()) return 0;
    for (const auto& x : *c)
      if (x.rule == rule) return x.packets;
    return 0;
  }

 private slots:
  void initTestCase() {
    if (::geteuid() != 0) QSKIP("needs root for network namespaces");
    auto err = build();
    QVERIFY2(err.empty(), err.c_str());
    origNs_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    QVERIFY(enter(ns("a")));
    server_ = udpSocketIn(ns("s"), kServer, kPort);
    client_ = udpSocketIn(ns("c"), "10.244.1.2", 40000);
    QVERIFY(server_ >= 0 && client_ >= 0);
    // A foreign table that we must never touch.
    QCOMPARE(sh("nft add table inet somebody_else && nft add chain inet somebody_else c").rc, 0);
  }

  void cleanupTestCase() {
    a_.reset();
    if (server_ >= 0) ::close(server_);
    if (client_ >= 0) ::close(client_);
    if (origNs_ >= 0) {
      ::setns(origNs_, CLONE_NEWNET);
      ::close(origNs_);
    }
    deleteAll();
  }

  void badInput() {
    auto c = config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip");
    c.node.egress.interface = "nosuch0";
    auto r = NftDatapath::create(c);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("nosuch0") != std::string::npos, r.error().c_str());

    c = config("egress-1", "10.0.0.11", "172.16.0.99", "primary-ip");
    r = NftDatapath::create(c);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("172.16.0.99 is not an address of eg0") != std::string::npos, r.error().c_str());

    c = config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip");
    c.policies.clear();
    r = NftDatapath::create(c);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("polic") != std::string::npos, r.error().c_str());

    // A follower without a master address is refused before anything is applied.
    auto ok = NftDatapath::create(config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip"));
    QVERIFY2(ok.ok(), ok.ok() ? "" : ok.error().c_str());
    DesiredState bad;
    bad.role = DatapathRole::Follower;
    auto e = (*ok)->apply(bad);
    QCOMPARE(e.kind, DatapathErrorKind::InvalidInput);
    QVERIFY(sh("nft list table inet egress_gateway").rc != 0);
  }

  void masterSnatsToEgressIp() {
    // The egress IP is detected from eg0 (no node.egress.ip in the config).
    auto dp = NftDatapath::create(config("egress-1", "10.0.0.11", "", "primary-ip"));
    QVERIFY2(dp.ok(), dp.ok() ? "" : dp.error().c_str());
    a_ = std::move(*dp);
    QCOMPARE(a_->egressIp()->str(), std::string("172.16.0.7"));
    VERIFY_OK(a_->apply(master()));
    auto json = sh("nft -j list table inet egress_gateway");
    QCOMPARE(json.rc, 0);
    QVERIFY2(json.out.find("\"snat\": {") != std::string::npos && json.out.find("\"addr\": \"172.16.0.7\"") != std::string::npos,
             json.out.c_str());
    QVERIFY(json.out.find("\"comment\": \"fence\"") != std::string::npos);
    auto rule = sh("ip rule show");
    QVERIFY2(rule.out.find("fwmark 0x4000/0x4000 lookup 4000") != std::string::npos, rule.out.c_str());
    auto route = sh("ip route show table 4000");
    QVERIFY2(route.out.find("default via 172.16.0.1 dev eg0") != std::string::npos, route.out.c_str());

    auto src = roundTrip();
    QVERIFY(src.has_value());
    QCOMPARE(*src, std::string("172.16.0.7"));
    QVERIFY(counter(*a_, ruleset::kSnatComment) >= 1);
    QVERIFY(counter(*a_, "mark-prerouting:partner-api") >= 1);
    auto h = a_->health();
    QVERIFY(h.egressInterfaceUp && h.egressIpPresent && h.datapathApplied);
    QVERIFY2(h.hostProblems.empty(), h.hostProblems.empty() ? "" : h.hostProblems.front().c_str());
  }

  void failedTransactionKeepsPreviousRuleset() {
    auto before = sh("nft list table inet egress_gateway");
    // The whole replacement plus one bad command: nothing of it may take effect.
    auto script = renderRuleset(config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip"), noMaster()) +
                  "add rule inet egress_gateway no_such_chain counter\n";
    auto e = a_->runScript(script);
    QCOMPARE(e.kind, DatapathErrorKind::Kernel);
    QVERIFY2(e.message.find("no_such_chain") != std::string::npos || e.message.find("No such file") != std::string::npos,
             e.message.c_str());
    auto after = sh("nft list table inet egress_gateway");
    // Counters and the lease's expiry move with time; compare the shape only.
    auto strip = [](const std::string& text) {
      auto q = QString::fromStdString(text);
      q.replace(QRegularExpression(QStringLiteral("packets \\d+ bytes \\d+")), QString());
      q.replace(QRegularExpression(QStringLiteral("expires [0-9a-z]+")), QString());
      return q;
    };
    QCOMPARE(strip(after.out), strip(before.out));
    QCOMPARE(*roundTrip(), std::string("172.16.0.7"));
  }

  void leaseExpiryFencesEstablishedFlow() {
    VERIFY_OK(a_->apply(master(Millis{300})));
    QCOMPARE(*roundTrip(), std::string("172.16.0.7"));
    // The element expires in the kernel by itself: no code of ours runs.
    QTRY_VERIFY_WITH_TIMEOUT(sh("nft list set inet egress_gateway lease").out.find("\"eg0\"") == std::string::npos, 3000);
    auto fenced = counter(*a_, ruleset::kFenceComment);
    QVERIFY(!roundTrip(500).has_value());
    QVERIFY(counter(*a_, ruleset::kFenceComment) > fenced);
    // A renewal opens it again; the refresh is one small transaction.
    auto t0 = std::chrono::steady_clock::now();
    VERIFY_OK(a_->refreshLease(Millis{60000}));
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    qInfo("lease refresh took %lld us", static_cast<long long>(us));
    QCOMPARE(*roundTrip(), std::string("172.16.0.7"));
    // A refresh with 0 ends the lease at once.
    VERIFY_OK(a_->refreshLease(Millis{0}));
    QVERIFY(!roundTrip(300).has_value());
    VERIFY_OK(a_->refreshLease(Millis{60000}));
  }

  void followerForwardsToMaster() {
    // B becomes master (its own NftDatapath, made and driven inside B).
    std::unique_ptr<NftDatapath> b;
    DatapathError eb;
    runIn(ns("b"), [&] {
      auto r = NftDatapath::create(config("egress-2", "10.0.0.12", "172.16.0.8", "primary-ip"));
      if (r.ok()) {
        b = std::move(*r);
        eb = b->apply(master());
      } else {
        eb = {DatapathErrorKind::InvalidInput, r.error()};
      }
    });
    VERIFY_OK(eb);
    auto t0 = std::chrono::steady_clock::now();
    VERIFY_OK(a_->apply(follower("10.0.0.12")));
    qInfo("switch to follower took %lld us",
          static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count()));
    auto route = sh("ip route show table 4000");
    QVERIFY2(route.out.find("default via 10.0.0.12 dev cl0") != std::string::npos, route.out.c_str());
    QVERIFY(sh("nft list table inet egress_gateway").out.find("snat ip to") == std::string::npos);
    QCOMPARE(*roundTrip(), std::string("172.16.0.8"));
    runIn(ns("b"), [&] { (void)b->removeAll(); b.reset(); });
  }

  void noMasterDrops() {
    VERIFY_OK(a_->apply(noMaster()));
    QVERIFY(sh("ip route show table 4000").out.empty());
    QVERIFY(!roundTrip(500).has_value());
    QVERIFY(counter(*a_, ruleset::kNoMasterForwardComment) >= 1);
  }

  // A role change must never let a selected packet out unSNATed, not even one. Replacing the
  // whole table in one transaction did: the kernel moves a replaced table's hooks one by one, so
  // packets crossing the commit missed the mark or the guard (about 1 in 10 switches here, and
  // unSNATed pod packets at the external service in the failover e2e test). A flood from the pod
  // crosses 1200 role changes of every kind; the server counts what arrives from A with a pod's
  // address. B (A's master while A follows) is not ours here and drops what A forwards.
  void roleChangesLetNothingThrough() {
    const auto mac = in("a", "cat /sys/class/net/eg0/address").out;
    QVERIFY(mac.size() >= 17);
    QCOMPARE(in("s", "nft add table inet leak").rc, 0);
    QCOMPARE(in("s", "nft add chain inet leak c '{ type filter hook prerouting priority 0; }'").rc, 0);
    QCOMPARE(in("s", "nft add rule inet leak c ether saddr " + mac.substr(0, 17) + " ip saddr 10.244.0.0/16 counter comment unsnated").rc, 0);
    QCOMPARE(in("s", "nft add rule inet leak c ether saddr " + mac.substr(0, 17) + " ip saddr 172.16.0.7 counter comment snated").rc, 0);
    QCOMPARE(in("b", "nft add table inet sink").rc, 0);
    QCOMPARE(in("b", "nft add chain inet sink f '{ type filter hook forward priority 0; }'").rc, 0);
    QCOMPARE(in("b", "nft add rule inet sink f ip saddr 10.244.0.0/16 drop").rc, 0);

    const int flood = udpSocketIn(ns("c"), "10.244.1.2", 40001);
    QVERIFY(flood >= 0);
    std::atomic<bool> stop{false};
    std::atomic<long> sent{0};
    std::thread sender([&] {
      while (!stop) {
        sendTo(flood, kServer, kPort + 1, "flood");
        ++sent;
        std::this_thread::sleep_for(std::chrono::microseconds(5));
      }
    });
    const std::vector<DesiredState> cycle{noMaster(), follower("10.0.0.12"), master(), follower("10.0.0.12"), master(), noMaster()};
    int changes = 0;
    for (int i = 0; i < 200; ++i)
      for (const auto& st : cycle) {
        auto e = a_->apply(st);
        if (e.kind != DatapathErrorKind::None) {
          stop = true;
          sender.join();
          ::close(flood);
          QFAIL(e.message.c_str());
        }
        ++changes;
      }
    stop = true;
    sender.join();
    ::close(flood);
    auto count = [](const std::string& listing, const std::string& name) -> long {
      QRegularExpression re(QStringLiteral("packets (\\d+) bytes \\d+ comment \"%1\"").arg(QString::fromStdString(name)));
      auto m = re.match(QString::fromStdString(listing));
      return m.hasMatch() ? m.captured(1).toLong() : -1;
    };
    const auto listing = in("s", "nft list table inet leak").out;
    in("s", "nft delete table inet leak");
    in("b", "nft delete table inet sink");
    const long leaked = count(listing, "unsnated"), snated = count(listing, "snated");
    qInfo("%d role changes, %ld datagrams sent, %ld arrived SNATed, %ld unSNATed; A: marked %llu, SNATed %llu", changes,
          sent.load(), snated, leaked, static_cast<unsigned long long>(counter(*a_, "mark-prerouting:partner-api")),
          static_cast<unsigned long long>(counter(*a_, ruleset::kSnatComment)));
    // The flood crossed the changes: while A was master, its datagrams arrived SNATed.
    QVERIFY2(snated > 0, listing.c_str());
    QCOMPARE(leaked, 0L);
  }

  // A role change (chains flushed and refilled in place) leaves the same table in the kernel as
  // creating it for that role from scratch.
  void roleChangeLeavesTheTableOfAFreshApply() {
    auto c = config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip");
    auto shape = [] {
      auto q = QString::fromStdString(sh("nft list table inet egress_gateway").out);
      q.replace(QRegularExpression(QStringLiteral("packets \\d+ bytes \\d+")), QString());
      q.replace(QRegularExpression(QStringLiteral("expires [0-9a-z]+")), QString());
      return q;
    };
    DesiredState fenced = master(Millis{0});
    fenced.egressIp = IpAddress::parse("172.16.0.7");
    const std::vector<DesiredState> states{noMaster(), follower("10.0.0.12"), follower("10.0.0.13"), fenced};
    for (const auto& from : states)
      for (const auto& to : states) {
        QVERIFY(a_->runScript(renderRuleset(c, to)).kind == DatapathErrorKind::None);
        const auto fresh = shape();
        QVERIFY(a_->runScript(renderRuleset(c, from)).kind == DatapathErrorKind::None);
        const auto e = a_->runScript(renderRoleChange(c, to));
        QVERIFY2(e.kind == DatapathErrorKind::None, e.message.c_str());
        QCOMPARE(shape(), fresh);
      }
    // Leave A as the next test expects it, applied by the datapath (whose last text is not what
    // the kernel holds now: two different states make sure both are sent).
    VERIFY_OK(a_->apply(follower("10.0.0.12")));
    VERIFY_OK(a_->apply(noMaster()));
  }

  // Issue 10: a frozen agent stops sending with its IP when its lease ends, without running
  // any code. The "agent" is a child process refreshing a 300 ms lease every 100 ms.
  void frozenMasterIsFencedByTheKernel() {
    ::close(client_);
    client_ = udpSocketIn(ns("c"), "10.244.1.2", 40002);
    pid_t child = ::fork();
    if (child == 0) {
      auto dp = NftDatapath::create(config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip"));
      if (!dp.ok() || (*dp)->apply(master(Millis{300})).kind != DatapathErrorKind::None) ::_exit(1);
      for (;;) {
        (void)(*dp)->refreshLease(Millis{300});
        ::usleep(100 * 1000);
      }
    }
    QVERIFY(child > 0);
    struct Reaper {
      pid_t pid;
      ~Reaper() {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    } reaper{child};
    QTRY_VERIFY_WITH_TIMEOUT(roundTrip(200) == std::optional<std::string>("172.16.0.7"), 3000);
    // Still flowing well past one lease: the refreshes keep it open.
    QTest::qWait(500);
    QCOMPARE(roundTrip(), std::optional<std::string>("172.16.0.7"));
    ::kill(child, SIGSTOP);
    auto t0 = std::chrono::steady_clock::now();
    QTRY_VERIFY_WITH_TIMEOUT(!roundTrip(50).has_value(), 2000);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    qInfo("frozen master fenced %lld ms after SIGSTOP (lease 300 ms)", static_cast<long long>(ms));
    QVERIFY(ms <= 300 + 100 + 200);  // lease + one refresh interval + probe granularity (2 x 100 ms)
    // And it stays fenced, established flow included.
    QVERIFY(!roundTrip(300).has_value());
  }

  void hostProblemsNameTheSysctl() {
    QCOMPARE(sh("sysctl -qw net.ipv4.ip_forward=0").rc, 0);
    auto h = a_->health();
    QCOMPARE(sh("sysctl -qw net.ipv4.ip_forward=1").rc, 0);
    QVERIFY(!h.hostProblems.empty());
    QVERIFY2(h.hostProblems.front().find("net.ipv4.ip_forward") != std::string::npos, h.hostProblems.front().c_str());
  }

  void workerRepairsDrift() {
    VERIFY_OK(a_->removeAll());
    a_.reset();
    auto dp = NftDatapath::create(config("egress-1", "10.0.0.11", "172.16.0.7", "primary-ip"));
    QVERIFY(dp.ok());
    std::mutex mu;
    std::vector<DatapathEvent> events;
    DatapathWorker w(
        std::move(*dp),
        [&](const DatapathEvent& e) {
          std::lock_guard lk(mu);
          events.push_back(e);
        },
        DatapathWorker::Options{Millis{250}, "egress-1"});
    auto count = [&](DatapathEvent::Kind k) {
      std::lock_guard lk(mu);
      return std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.kind == k; });
    };
    w.submit(master());
    QTRY_VERIFY_WITH_TIMEOUT(w.applied().has_value(), 2000);
    {
      std::lock_guard lk(mu);
      QVERIFY(events.front().kind == DatapathEvent::Kind::Applied && events.front().error.kind == DatapathErrorKind::None);
      qInfo("worker apply took %lld us", static_cast<long long>(events.front().duration.count()));
    }
    QCOMPARE(*roundTrip(), std::string("172.16.0.7"));
    const char* breakers[] = {"nft delete table inet egress_gateway", "nft flush table inet egress_gateway",
                              "ip rule del fwmark 0x4000/0x4000 lookup 4000", "ip route flush table 4000"};
    for (const char* cmd : breakers) {
      auto before = count(DatapathEvent::Kind::DriftRepaired);
      QCOMPARE(sh(cmd).rc, 0);
      auto t0 = std::chrono::steady_clock::now();
      QTRY_VERIFY_WITH_TIMEOUT(count(DatapathEvent::Kind::DriftRepaired) > before, 1000);
      qInfo("%s: repaired after %lld ms", cmd,
            static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count()));
      QCOMPARE(*roundTrip(), std::string("172.16.0.7"));
    }
    QTRY_VERIFY_WITH_TIMEOUT(!w.counters().empty(), 1000);
    // Taking the egress interface down is a health change.
    QCOMPARE(sh("ip link set eg0 down").rc, 0);
    QTRY_VERIFY_WITH_TIMEOUT(!w.health().egressInterfaceUp, 1000);
    QVERIFY(count(DatapathEvent::Kind::HealthChanged) >= 1);
    QCOMPARE(sh("ip link set eg0 up").rc, 0);
    QCOMPARE(sh("ip route replace default via 172.16.0.1 dev eg0").rc, 0);
    QTRY_VERIFY_WITH_TIMEOUT(w.health().egressInterfaceUp, 1000);

    w.stop(true);
    QVERIFY(sh("nft list table inet egress_gateway").rc != 0);
    QVERIFY(sh("ip rule show").out.find("lookup 4000") == std::string::npos);
    QVERIFY(sh("ip route show table 4000").out.empty());
    QCOMPARE(sh("nft list table inet somebody_else").rc, 0);
  }

  void vipMovesAndNeighbourFollows() {
    auto a = NftDatapath::create(config("egress-1", "10.0.0.11", "172.16.0.7", "virtual-ip"));
    QVERIFY2(a.ok(), a.ok() ? "" : a.error().c_str());
    std::unique_ptr<NftDatapath> b;
    runIn(ns("b"), [&] {
      auto r = NftDatapath::create(config("egress-2", "10.0.0.12", "172.16.0.8", "virtual-ip"));
      if (r.ok()) b = std::move(*r);
    });
    QVERIFY(b);
    auto macOf = [](const char* role) {
      auto r = in(role, "cat /sys/class/net/eg0/address");
      return r.out.substr(0, 17);
    };
    auto neighMac = [&]() {
      auto r = in("s", "ip neigh show 172.16.0.100 dev eth0");
      auto p = r.out.find("lladdr ");
      return p == std::string::npos ? std::string() : r.out.substr(p + 7, 17);
    };
    // A new flow: the old one's conntrack entry keeps its earlier SNAT binding.
    ::close(client_);
    client_ = udpSocketIn(ns("c"), "10.244.1.2", 40001);
    VERIFY_OK((*a)->apply(master()));
    QVERIFY(sh("ip -4 addr show dev eg0").out.find("172.16.0.100/24") != std::string::npos);
    QCOMPARE(in("s", "ping -c1 -W1 172.16.0.100").rc, 0);
    QCOMPARE(QString::fromStdString(neighMac()), QString::fromStdString(macOf("a")));
    // SNAT to the VIP on the master.
    QCOMPARE(*roundTrip(), std::string("172.16.0.100"));

    // Move: A steps down (removes the VIP), B takes over and announces it.
    VERIFY_OK((*a)->apply(follower("10.0.0.12")));
    QVERIFY(sh("ip -4 addr show dev eg0").out.find("172.16.0.100") == std::string::npos);
    DatapathError eb;
    runIn(ns("b"), [&] { eb = b->apply(master()); });
    VERIFY_OK(eb);
    // The server's entry follows the gratuitous ARP without it asking.
    QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(neighMac()), QString::fromStdString(macOf("b")), 2000);
    QCOMPARE(*roundTrip(), std::string("172.16.0.100"));

    // Someone removes the VIP from the master: reconcile puts it back (and announces it).
    QCOMPARE(in("b", "ip addr del 172.16.0.100/24 dev eg0").rc, 0);
    std::vector<std::string> repaired;
    runIn(ns("b"), [&] {
      auto r = b->reconcile();
      if (r.ok()) repaired = *r;
    });
    QCOMPARE(repaired.size(), std::size_t{1});
    QVERIFY2(repaired.front().find("VIP 172.16.0.100/24 was missing") != std::string::npos, repaired.front().c_str());
    QVERIFY(in("b", "ip -4 addr show dev eg0").out.find("172.16.0.100/24") != std::string::npos);

    // B's lease ends: its kernel stops answering ARP for the VIP (arp table fence).
    runIn(ns("b"), [&] { eb = b->refreshLease(Millis{0}); });
    VERIFY_OK(eb);
    in("s", "ip neigh flush dev eth0");
    QVERIFY(in("s", "ping -c1 -W1 172.16.0.100").rc != 0);
    QVERIFY(!roundTrip(300).has_value());

    VERIFY_OK((*a)->removeAll());
    runIn(ns("b"), [&] { (void)b->removeAll(); b.reset(); });
    QVERIFY(sh("nft list tables").out.find("egress_gateway") == std::string::npos);
    QVERIFY(in("b", "ip -4 addr show dev eg0").out.find("172.16.0.100") == std::string::npos);
  }
};

QTEST_GUILESS_MAIN(TestDatapathE2e)
#include "test_datapath_e2e.moc"
