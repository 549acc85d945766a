// AllowlistProber over loopback: accepted, refused, no answer (a listener whose accept queue is
// full drops SYNs, like a firewall that silently drops a source), a source address that is not
// on any interface, the periodic thread, probeNow and a prompt stop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <QTest>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/probe/allowlist_prober.h"

using namespace egw;
using namespace std::chrono_literals;

namespace {

// A loopback TCP listener nobody accepts on: the kernel completes handshakes into the queue.
struct Listener {
  int fd = -1;
  std::uint16_t port = 0;
  explicit Listener(int backlog = 16, const char* addr = "127.0.0.1") {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, addr, &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, backlog) != 0) qFatal("listener");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~Listener() { close(); }
  void close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  // The peer address of the next queued connection.
  std::string acceptPeer() const {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    int c = ::accept(fd, reinterpret_cast<sockaddr*>(&a), &len);
    if (c < 0) return {};
    ::close(c);
    char buf[INET_ADDRSTRLEN];
    return ::inet_ntop(AF_INET, &a.sin_addr, buf, sizeof buf);
  }
};

std::uint16_t closedPort() {
  Listener l;
  auto p = l.port;
  l.close();
  return p;
}

AllowlistProber::Options opts(std::uint16_t port, const char* source = "127.0.0.1", std::chrono::milliseconds timeout = 2000ms) {
  AllowlistProber::Options o;
  o.target = Endpoint{"127.0.0.1", port};
  o.source = *IpAddress::parse(source);
  o.timeout = timeout;
  o.interval = 1h;
  return o;
}

// Collects callback results; waits on a condition variable, never sleeps.
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ProbeResult> got;
  AllowlistProber::Callback callback() {
    return [this](const ProbeResult& r) {
      std::lock_guard lk(mu);
      got.push_back(r);
      cv.notify_all();
    };
  }
  bool waitFor(std::size_t n, std::chrono::milliseconds limit = 10000ms) {
    std::unique_lock lk(mu);
    return cv.wait_for(lk, limit, [&] { return got.size() >= n; });
  }
  std::vector<ProbeResult> snapshot() {
    std::lock_guard lk(mu);
    return got;
  }
};

}  // namespace

class TestAllowlistProber : public QObject {
  Q_OBJECT

 private slots:
  void acceptedIsOk() {
    Listener l;
    auto r = AllowlistProber::probeOnce(opts(l.port));
    QCOMPARE(r.verdict, AllowlistVerdict::Ok);
    QCOMPARE(r.outcome, ProbeOutcome::Accepted);
    QVERIFY2(QString::fromStdString(r.detail)
                 .startsWith(QStringLiteral("TCP connect to 127.0.0.1:%1 from 127.0.0.1 accepted in ").arg(l.port)),
             r.detail.c_str());
  }

  // The service sees the bound source, not whatever the routing table would pick.
  void sourceIsBound() {
    Listener l;
    auto r = AllowlistProber::probeOnce(opts(l.port, "127.0.0.2"));
    QCOMPARE(r.verdict, AllowlistVerdict::Ok);
    QCOMPARE(l.acceptPeer(), std::string("127.0.0.2"));
  }

  void closedPortIsRejected() {
    auto port = closedPort();
    auto r = AllowlistProber::probeOnce(opts(port));
    QCOMPARE(r.verdict, AllowlistVerdict::Rejected);
    QCOMPARE(r.outcome, ProbeOutcome::Refused);
    QCOMPARE(QString::fromStdString(r.detail),
             QStringLiteral("127.0.0.1:%1 refused the connection from 127.0.0.1 (TCP reset)").arg(port));
  }

  void sourceNotOnAnyInterfaceIsAClearError() {
    Listener l;
    auto r = AllowlistProber::probeOnce(opts(l.port, "192.0.2.77"));
    QCOMPARE(r.verdict, AllowlistVerdict::Unverified);
    QCOMPARE(r.outcome, ProbeOutcome::LocalError);
    QCOMPARE(QString::fromStdString(r.detail),
             QStringLiteral("cannot probe from 192.0.2.77: the address is not on any interface of this node "
                            "(bind: Cannot assign requested address)"));
  }

  void familyMismatchAndBadNames() {
    auto r = AllowlistProber::probeOnce(opts(443, "::1"));
    QCOMPARE(r.outcome, ProbeOutcome::LocalError);
    QCOMPARE(QString::fromStdString(r.detail),
             QStringLiteral("the source ::1 and the target 127.0.0.1:443 are of different IP families"));
    auto o = opts(443);
    o.target.host = "no-such-host.invalid";
    auto n = AllowlistProber::probeOnce(o);
    QCOMPARE(n.outcome, ProbeOutcome::LocalError);
    QVERIFY2(n.detail.starts_with("cannot resolve no-such-host.invalid to an IPv4 address: "), n.detail.c_str());
    auto d = opts(closedPort());
    d.device = "no-such-if0";
    auto dv = AllowlistProber::probeOnce(d);
    QCOMPARE(dv.outcome, ProbeOutcome::LocalError);
    QVERIFY2(dv.detail.starts_with("cannot bind the probe socket to interface no-such-if0: "), dv.detail.c_str());
  }

  // A listener with backlog 0 and a queued connection drops further SYNs: no RST, no answer.
  void silentDropIsUnverifiedWithConsecutiveTimeouts() {
    Listener l(0);
    QCOMPARE(AllowlistProber::probeOnce(opts(l.port)).outcome, ProbeOutcome::Accepted);  // fills the queue
    AllowlistProber p(opts(l.port, "127.0.0.1", 200ms), {});
    auto a = p.probeNow();
    if (a.outcome == ProbeOutcome::Accepted) QSKIP("this kernel queued a connection beyond the backlog");
    QCOMPARE(a.verdict, AllowlistVerdict::Unverified);
    QCOMPARE(a.outcome, ProbeOutcome::Timeout);
    QVERIFY2(a.detail.starts_with("no answer within 200ms (TCP connect to 127.0.0.1:"), a.detail.c_str());
    QCOMPARE(a.consecutiveTimeouts, 1);
    QCOMPARE(p.probeNow().consecutiveTimeouts, 2);
    QCOMPARE(p.consecutiveTimeouts(), 2);
    (void)l.acceptPeer();  // room again: accepted, and the count starts over
    auto ok = p.probeNow();
    QCOMPARE(ok.verdict, AllowlistVerdict::Ok);
    QCOMPARE(ok.consecutiveTimeouts, 0);
    QCOMPARE(ok.seq, std::uint64_t(3));
  }

  void periodicProbesReachTheCallback() {
    Listener l;
    Sink sink;
    auto o = opts(l.port);
    o.interval = 20ms;
    AllowlistProber p(o, sink.callback());
    p.start();
    QVERIFY(sink.waitFor(3));
    l.close();  // the service goes away: refused from now on
    const auto n = sink.snapshot().size();
    QVERIFY(sink.waitFor(n + 2));
    p.stop();
    auto got = sink.snapshot();
    const auto after = got.size();
    for (std::size_t i = 0; i < got.size(); ++i) QCOMPARE(got[i].seq, std::uint64_t(i + 1));
    QCOMPARE(got[0].verdict, AllowlistVerdict::Ok);
    QCOMPARE(got.back().verdict, AllowlistVerdict::Rejected);
    QCOMPARE(p.last().seq, got.back().seq);
    p.stop();  // idempotent; no callback after stop
    QCOMPARE(sink.snapshot().size(), after);
  }

  void probeNowWhileRunningIsFreshAndReported() {
    Listener l;
    Sink sink;
    AllowlistProber p(opts(l.port), sink.callback());  // interval 1h: only the first periodic probe
    p.start();
    QVERIFY(sink.waitFor(1));
    QCOMPARE(sink.snapshot()[0].verdict, AllowlistVerdict::Ok);
    l.close();
    auto r = p.probeNow();
    QCOMPARE(r.verdict, AllowlistVerdict::Rejected);
    QCOMPARE(r.seq, std::uint64_t(2));
    QVERIFY(sink.waitFor(2));
    QCOMPARE(sink.snapshot()[1].seq, std::uint64_t(2));
  }

  void setSourceAppliesToTheNextProbe() {
    Listener l;
    AllowlistProber p(opts(l.port), {});
    p.start();
    p.setSource(*IpAddress::parse("127.0.0.3"));
    QCOMPARE(p.probeNow().verdict, AllowlistVerdict::Ok);
    std::string peer;
    for (int i = 0; i < 3 && peer != "127.0.0.3"; ++i) peer = l.acceptPeer();  // the first periodic probe may come first
    QCOMPARE(peer, std::string("127.0.0.3"));
  }

  void stopAbandonsAPendingConnectAtOnce() {
    Listener l(0);
    QCOMPARE(AllowlistProber::probeOnce(opts(l.port)).outcome, ProbeOutcome::Accepted);  // fills the queue
    Sink sink;
    AllowlistProber p(opts(l.port, "127.0.0.1", 30000ms), sink.callback());
    p.start();
    // Give the thread a moment to be inside connect; stop must not wait for the 30 s timeout.
    std::this_thread::sleep_for(50ms);
    const auto t0 = std::chrono::steady_clock::now();
    p.stop();
    QVERIFY(std::chrono::steady_clock::now() - t0 < 2s);
    QVERIFY(sink.snapshot().empty());  // the abandoned probe is not reported
  }
};

QTEST_APPLESS_MAIN(TestAllowlistProber)
#include "test_allowlist_prober.moc"
