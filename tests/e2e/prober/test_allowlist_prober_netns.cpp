// AllowlistProber against a real firewall: two network namespaces joined by a veth pair. The
// "external service" namespace listens on 10.99.0.1:443 and its nftables input chain drops
// 10.99.0.3 silently and resets 10.99.0.4; 10.99.0.2 is allowlisted. Root required (skipped
// otherwise). Names are unique per process and removed on exit, also after a failed test.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QTest>

#include <cstdlib>
#include <memory>
#include <string>

#include "agent/probe/allowlist_prober.h"
#include "support/netns.h"
#include "support/testbed.h"

using namespace egw;
using namespace std::chrono_literals;

namespace {

using egwtest::runIn;
using egwtest::sh;

// egwt-pr<instance>-<pid>-<role> (<instance>: EGW_TB_INSTANCE, see support/testbed.h).
std::string ns(const char* role) {
  return "egwt-pr" + egwtest::testbedInstance().toStdString() + "-" + std::to_string(::getpid()) + "-" + role;
}

void deleteAll() {
  for (auto r : {"c", "s"}) sh("ip netns del " + ns(r) + " 2>/dev/null");
}

int listenOn(int family, const char* addr, std::uint16_t port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    ::inet_pton(AF_INET, addr, &a->sin_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, addr, &a->sin6_addr);
    len = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 64) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// 300 ms keeps the silent-drop cases quick; the first IPv6 probe gets longer (a fresh link may
// still be settling: router/neighbour discovery).
AllowlistProber::Options opts(const char* target, std::uint16_t port, const char* source) {
  AllowlistProber::Options o;
  o.target = Endpoint{target, port};
  o.source = *IpAddress::parse(source);
  o.timeout = 300ms;
  o.interval = 1h;
  return o;
}

ProbeResult probeIn(const std::string& name, const AllowlistProber::Options& o) {
  ProbeResult r;
  runIn(name, [&] { r = AllowlistProber::probeOnce(o); });
  return r;
}

}  // namespace

class TestAllowlistProberNetns : public QObject {
  Q_OBJECT
  int listen4_ = -1, listen6_ = -1;

 private slots:
  void initTestCase() {
    if (::geteuid() != 0) QSKIP("needs root (network namespaces, nftables)");
    if (sh("command -v ip && command -v nft").rc != 0) QSKIP("needs ip and nft");
    deleteAll();
    std::atexit(deleteAll);
    const std::string C = ns("c"), S = ns("s");
    const std::string script[] = {
        "ip netns add " + C,
        "ip netns add " + S,
        "ip -n " + C + " link add v0 type veth peer name v1 netns " + S,
        "ip -n " + C + " link set lo up",
        "ip -n " + S + " link set lo up",
        "ip -n " + C + " addr add 10.99.0.2/24 dev v0",
        "ip -n " + C + " addr add 10.99.0.3/24 dev v0",
        "ip -n " + C + " addr add 10.99.0.4/24 dev v0",
        "ip -n " + C + " addr add fd00:99::2/64 dev v0 nodad",
        "ip -n " + C + " addr add fd00:99::3/64 dev v0 nodad",
        "ip -n " + S + " addr add 10.99.0.1/24 dev v1",
        "ip -n " + S + " addr add fd00:99::1/64 dev v1 nodad",
        "ip -n " + C + " link set v0 up",
        "ip -n " + S + " link set v1 up",
        "ip netns exec " + S + " nft 'add table inet egwt_probe; "
        "add chain inet egwt_probe input { type filter hook input priority 0; policy accept; }; "
        "add rule inet egwt_probe input ip saddr 10.99.0.3 tcp dport 443 drop; "
        "add rule inet egwt_probe input ip6 saddr fd00:99::3 tcp dport 443 drop; "
        "add rule inet egwt_probe input ip saddr 10.99.0.4 tcp dport 443 reject with tcp reset'",
    };
    for (const auto& c : script) {
      auto r = sh(c);
      QVERIFY2(r.rc == 0, (c + ": " + r.out).c_str());
    }
    runIn(S, [&] {
      listen4_ = listenOn(AF_INET, "10.99.0.1", 443);
      listen6_ = listenOn(AF_INET6, "fd00:99::1", 443);
    });
    QVERIFY(listen4_ >= 0);
    QVERIFY(listen6_ >= 0);
  }

  void cleanupTestCase() {
    if (listen4_ >= 0) ::close(listen4_);
    if (listen6_ >= 0) ::close(listen6_);
    deleteAll();
  }

  void allowlistedSourceIsOk() {
    auto r = probeIn(ns("c"), opts("10.99.0.1", 443, "10.99.0.2"));
    QCOMPARE(r.verdict, AllowlistVerdict::Ok);
    auto o6 = opts("fd00:99::1", 443, "fd00:99::2");
    o6.timeout = 5000ms;
    auto r6 = probeIn(ns("c"), o6);
    QVERIFY2(r6.verdict == AllowlistVerdict::Ok, r6.detail.c_str());
    QVERIFY2(r6.detail.starts_with("TCP connect to [fd00:99::1]:443 from fd00:99::2 accepted"), r6.detail.c_str());
  }

  void silentlyDroppedSourceIsUnverifiedAfterTheTimeout() {
    auto r = probeIn(ns("c"), opts("10.99.0.1", 443, "10.99.0.3"));
    QCOMPARE(r.verdict, AllowlistVerdict::Unverified);
    QCOMPARE(r.outcome, ProbeOutcome::Timeout);
    QVERIFY2(r.detail.starts_with("no answer within 300ms (TCP connect to 10.99.0.1:443 from 10.99.0.3;"), r.detail.c_str());
    QVERIFY(r.elapsed >= 300ms);
    auto r6 = probeIn(ns("c"), opts("fd00:99::1", 443, "fd00:99::3"));
    QCOMPARE(r6.outcome, ProbeOutcome::Timeout);
  }

  void resetSourceIsRejected() {
    auto r = probeIn(ns("c"), opts("10.99.0.1", 443, "10.99.0.4"));
    QCOMPARE(r.verdict, AllowlistVerdict::Rejected);
    QCOMPARE(QString::fromStdString(r.detail), QStringLiteral("10.99.0.1:443 refused the connection from 10.99.0.4 (TCP reset)"));
  }

  // The running prober's thread lives in the namespace it was started in; probeNow from here
  // runs there. The service owner then allowlists 10.99.0.3 and the verdict turns ok.
  void runningProberFollowsTheFirewall() {
    std::unique_ptr<AllowlistProber> p;
    runIn(ns("c"), [&] {
      p = std::make_unique<AllowlistProber>(opts("10.99.0.1", 443, "10.99.0.3"), AllowlistProber::Callback{});
      p->start();
    });
    auto a = p->probeNow();
    QCOMPARE(a.outcome, ProbeOutcome::Timeout);
    QVERIFY(p->consecutiveTimeouts() >= 1);
    auto r = sh("ip netns exec " + ns("s") + " nft flush chain inet egwt_probe input");
    QVERIFY2(r.rc == 0, r.out.c_str());
    auto b = p->probeNow();
    QCOMPARE(b.verdict, AllowlistVerdict::Ok);
    QCOMPARE(b.consecutiveTimeouts, 0);
    p->stop();
  }
};

QTEST_APPLESS_MAIN(TestAllowlistProberNetns)
#include "test_allowlist_prober_netns.moc"
