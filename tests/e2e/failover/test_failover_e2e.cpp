// The product end to end: the testbed (tests/e2e/testbed) with real agents in network
// namespaces and real traffic from a pod to the external service, which records every source
// IP and itself drops sources that are not on its allowlist. Each fault must move the traffic
// to another allowlisted IP, and after a switch the old master's IP must never be seen again.
#include <unistd.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include "support/testbed.h"

namespace {

const egwtest::Testbed bed{QStringLiteral("egwe2e")};
const QString kAllow = QStringLiteral("172.16.0.7,172.16.0.8,172.16.0.9");

using egwtest::monoNs;

QJsonObject status() {
  const auto out = bed.ctl(QStringLiteral("--timeout 1s %1 status -o json 2>/dev/null").arg(egwtest::Testbed::voterEndpoints()));
  return QJsonDocument::fromJson(out.toUtf8()).object();
}

QString master() {
  auto s = status();
  return s.value(QStringLiteral("master")).toString();
}

QString egressIpOf(const QString& node) {
  const auto nodes = status().value(QStringLiteral("nodes")).toArray();
  for (const auto& n : nodes)
    if (n.toObject().value(QStringLiteral("name")).toString() == node)
      return n.toObject().value(QStringLiteral("egress_ip")).toString();
  return {};
}

QJsonObject analyze(std::int64_t sinceNs) { return bed.analyze(sinceNs, QStringLiteral("--allow ") + kAllow); }

// The source IP of the latest arrivals (empty when nothing arrived since `sinceNs`).
QString currentSource(std::int64_t sinceNs) {
  const auto src = analyze(sinceNs).value(QStringLiteral("sources")).toArray();
  return src.isEmpty() ? QString() : src.last().toObject().value(QStringLiteral("ip")).toString();
}

// Packets the external service's own firewall dropped (sources not on its allowlist).
qint64 serviceDrops() {
  auto out = bed.in(QStringLiteral("ext"), QStringLiteral("nft -j list table inet partner"));
  const auto items = QJsonDocument::fromJson(out.toUtf8()).object().value(QStringLiteral("nftables")).toArray();
  qint64 drops = 0;
  for (const auto& i : items) {
    const auto rule = i.toObject().value(QStringLiteral("rule")).toObject();
    for (const auto& e : rule.value(QStringLiteral("expr")).toArray()) {
      const auto c = e.toObject().value(QStringLiteral("counter")).toObject();
      if (!c.isEmpty()) drops += c.value(QStringLiteral("packets")).toInteger();
    }
  }
  return drops;
}

// What the service's firewall refused, by sender MAC and source IP (the testbed's refused_from set).
// And the frames with a pod's source that entered the public bridge (the testbed's capture, by
// the sender's bridge port), so a failure shows what leaked, when, and from which node.
QString refusedFrom() {
  return bed.sh(QStringLiteral("ip netns exec %1ext nft list set inet partner refused_from; for n in egress-1 egress-2 egress-3 worker; do "
                           "echo \"$n: $(ip netns exec %1$n cat /sys/class/net/pub0/address /sys/class/net/clu0/address 2>/dev/null | tr '\\n' ' ')\"; done; "
                           "grep ' ip 10\\.244\\.' %2/capture.log | tail -n 20")
                .arg(bed.prefix(), bed.runDir()));
}

QString logs() { return bed.logs(40); }

}  // namespace

class TestFailoverE2e : public QObject {
  Q_OBJECT

  qint64 dropsAtStart_ = 0;
  qint64 dropsBeforeStep_ = 0;
  bool failed_ = false;
  QStringList dropsByStep_;  // "step: N" for every step the service dropped packets in

  // All agents running and agreeing on one master whose IP the service sees. Returns the master.
  void settle(QString& m) {
    QTRY_VERIFY2_WITH_TIMEOUT(!(m = master()).isEmpty(), qPrintable(logs()), 60000);
    const auto ip = egressIpOf(m);
    QVERIFY(!ip.isEmpty());
    const auto t = monoNs();
    QTRY_VERIFY2_WITH_TIMEOUT(currentSource(t) == ip, qPrintable(logs()), 10000);
  }

  // After a fault at `faultNs` on `old`: traffic resumes from another allowlisted IP and the old
  // one is never seen again; returns the new master.
  void expectMoved(const QString& old, const QString& oldIp, std::int64_t faultNs, QString& m) {
    QString now;
    QTRY_VERIFY2_WITH_TIMEOUT(!(now = currentSource(faultNs)).isEmpty() && now != oldIp, qPrintable(logs()), 15000);
    // Let traffic run a little under the new master, then check the whole window.
    const auto switched = monoNs();
    QTRY_VERIFY_WITH_TIMEOUT(analyze(switched).value(QStringLiteral("udp")).toInt() > 100, 10000);
    const auto a = analyze(faultNs);
    const auto sources = a.value(QStringLiteral("sources")).toArray();
    bool afterSwitch = false;
    for (const auto& s : sources) {
      const auto ip = s.toObject().value(QStringLiteral("ip")).toString();
      if (ip != oldIp) afterSwitch = true;
      else QVERIFY2(!afterSwitch, "the old master's IP came back after the switch");
    }
    QVERIFY2(a.value(QStringLiteral("outside_allowlist")).toArray().isEmpty(), "a source outside the allowlist arrived");
    QCOMPARE(a.value(QStringLiteral("returned")).toArray().size(), 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!(m = master()).isEmpty() && m != old, qPrintable(logs()), 20000);
    QCOMPARE(egressIpOf(m), now);
    qInfo("%s -> %s: gap %.1f ms", qPrintable(old), qPrintable(m), a.value(QStringLiteral("max_gap_ms")).toDouble());
  }

 private slots:
  void initTestCase() {
    if (geteuid() != 0) QSKIP("needs root: network namespaces and nftables");
    TB(bed, QStringLiteral("up --traffic --capture"));
    QString m;
    settle(m);
    if (QTest::currentTestFailed()) return;
    dropsAtStart_ = serviceDrops();
  }

  // The service's drops are counted per step, so a failure names the fault that let them out.
  void init() { dropsBeforeStep_ = serviceDrops(); }
  void cleanup() {
    failed_ = failed_ || QTest::currentTestFailed();
    const auto d = serviceDrops() - dropsBeforeStep_;
    if (d > 0) {
      dropsByStep_ << QStringLiteral("%1: %2").arg(QString::fromLatin1(QTest::currentTestFunction())).arg(d);
      qWarning("the service dropped %lld packets during this step:\n%s", static_cast<long long>(d), qPrintable(refusedFrom()));
    }
  }

  void trafficLeavesWithTheMastersIp() {
    QString m;
    settle(m);
    if (QTest::currentTestFailed()) return;
    const auto t = monoNs();
    QTRY_VERIFY_WITH_TIMEOUT(analyze(t).value(QStringLiteral("udp")).toInt() > 50, 10000);
    const auto a = analyze(t);
    const auto sources = a.value(QStringLiteral("sources")).toArray();
    QCOMPARE(sources.size(), 1);
    QCOMPARE(sources.first().toObject().value(QStringLiteral("ip")).toString(), egressIpOf(m));
  }

  void sigkillOfTheMaster() {
    QString old;
    settle(old);
    if (QTest::currentTestFailed()) return;
    const auto oldIp = egressIpOf(old);
    const auto t = monoNs();
    TB(bed, QStringLiteral("kill %1 KILL").arg(old));
    QString next;
    expectMoved(old, oldIp, t, next);
    if (QTest::currentTestFailed()) return;
    // The killed node comes back as a follower: no preemption, no second switch.
    TB(bed, QStringLiteral("start %1").arg(old));
    QTRY_VERIFY_WITH_TIMEOUT(status().value(QStringLiteral("nodes")).toArray().size() == 4 && master() == next, 15000);
    const auto back = monoNs();
    QTRY_VERIFY_WITH_TIMEOUT(analyze(back).value(QStringLiteral("udp")).toInt() > 200, 10000);
    QCOMPARE(master(), next);
    QCOMPARE(analyze(back).value(QStringLiteral("sources")).toArray().size(), 1);
  }

  void frozenMasterStepsDownAndStaysDown() {
    QString old;
    settle(old);
    if (QTest::currentTestFailed()) return;
    const auto oldIp = egressIpOf(old);
    const auto t = monoNs();
    TB(bed, QStringLiteral("kill %1 STOP").arg(old));
    QString next;
    expectMoved(old, oldIp, t, next);
    if (QTest::currentTestFailed()) return;
    const auto woke = monoNs();
    TB(bed, QStringLiteral("kill %1 CONT").arg(old));
    // It wakes with a stale lease: it must step down, and never carry traffic again.
    QTRY_VERIFY_WITH_TIMEOUT(analyze(woke).value(QStringLiteral("udp")).toInt() > 200, 10000);
    const auto a = analyze(t);
    bool seenNew = false;
    for (const auto& s : a.value(QStringLiteral("sources")).toArray()) {
      const auto ip = s.toObject().value(QStringLiteral("ip")).toString();
      if (ip != oldIp) seenNew = true;
      else QVERIFY2(!seenNew, "the frozen master's IP was seen after the switch");
    }
    QCOMPARE(master(), next);
  }

  void masterCutOffFromTheCluster() {
    QString old;
    settle(old);
    if (QTest::currentTestFailed()) return;
    const auto oldIp = egressIpOf(old);
    const auto t = monoNs();
    TB(bed, QStringLiteral("exec %1 ip link set clu0 down").arg(old));
    QString next;
    expectMoved(old, oldIp, t, next);
    TB(bed, QStringLiteral("exec %1 ip link set clu0 up").arg(old));
    QTRY_VERIFY_WITH_TIMEOUT(status().value(QStringLiteral("nodes")).toArray().size() == 4, 15000);
  }

  void publicLinkDownMovesMastership() {
    QString old;
    settle(old);
    if (QTest::currentTestFailed()) return;
    const auto oldIp = egressIpOf(old);
    const auto t = monoNs();
    TB(bed, QStringLiteral("exec %1 ip link set pub0 down").arg(old));
    QString next;
    expectMoved(old, oldIp, t, next);
    TB(bed, QStringLiteral("exec %1 ip link set pub0 up").arg(old));
  }

  void sigtermHandsOver() {
    QString old;
    settle(old);
    if (QTest::currentTestFailed()) return;
    const auto oldIp = egressIpOf(old);
    const auto t = monoNs();
    TB(bed, QStringLiteral("kill %1 TERM").arg(old));
    QString next;
    expectMoved(old, oldIp, t, next);
    // The old master's last status report carries its handover event to the others.
    auto events = [] {
      return bed.ctl(egwtest::Testbed::voterEndpoints() + QStringLiteral(" events -o json"));
    };
    QTRY_VERIFY2_WITH_TIMEOUT(events().contains(QStringLiteral("\"kind\": \"handover\"")), qPrintable(events()), 10000);
    TB(bed, QStringLiteral("start %1").arg(old));
  }

  void theServiceNeverSawAnIpOutsideItsAllowlist() {
    // Its own firewall drops (and counts) every packet from a source not on the allowlist.
    failed_ = failed_ || serviceDrops() != dropsAtStart_;
    QVERIFY2(serviceDrops() == dropsAtStart_,
             qPrintable(QStringLiteral("drops by step: %1\n%2").arg(dropsByStep_.join(QStringLiteral(", ")), refusedFrom())));
  }

  void cleanupTestCase() {
    // A failed run keeps the testbed's logs (agents, capture, arrivals) for the post-mortem.
    if (failed_) bed.keepRunDir();
    bed.down();
  }
};

QTEST_GUILESS_MAIN(TestFailoverE2e)
#include "test_failover_e2e.moc"
