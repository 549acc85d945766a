// Candidacy gating with real agents (--no-datapath) and the real egressctl: a candidate that joins
// three voters starts `pending`; enabling it is refused while its allowlist probe has not verified
// its IP (the refusal says why); once the probe target accepts connections from its IP, enabling
// works (the agent probes once more before deciding), and with the voters' candidacy disabled the
// joined node becomes master. Forcing enables a node the probe rejects, but a rejected node still
// does not stand.
#include <QTcpServer>

#include "support/agent_procs.h"
#include "support/run_process.h"

using namespace egwtest;

namespace {

Run ctl(const QStringList& args) { return egwtest::egressctl(args, 30000); }

}  // namespace

class TestAgentCandidacy : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;
  QTcpServer target_;
  QHostAddress targetHost_;
  quint16 targetPort_ = 0;

  std::optional<pb::NodeStatus> selfView(const QString& name) {
    auto s = fetchState(*c_->byName(name).stub);
    if (!s) return std::nullopt;
    return nodeIn(*s, name);
  }
  Run ctlVia(const QString& via, QStringList args) {
    args.prepend(c_->byName(via).apiEndpoint());
    args.prepend(QStringLiteral("--endpoint"));
    return ctl(args);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c_ = std::make_unique<AgentCluster>(dir_, 9);
    // The "external service": a loopback listener the joined node probes from its own address.
    // Its port is taken now and closed, so the first probes are refused (TCP reset).
    targetHost_ = QHostAddress(c_->spareHost());
    QVERIFY(target_.listen(targetHost_, 0));
    targetPort_ = target_.serverPort();
    target_.close();
    c_->addNonVoter(QStringLiteral("egress-4"), 4,
                    QStringLiteral("allowlist: { probe: { target: \"%1:%2\", interval: 500ms, timeout: 300ms } }\n")
                        .arg(targetHost_.toString())
                        .arg(targetPort_));
    QVERIFY(c_->startAll());
    QTRY_VERIFY2_WITH_TIMEOUT(!c_->agreedMaster().isEmpty(), qPrintable(c_->summary()), 20000);
  }

  void joinedCandidateStartsPending() {
    QTRY_VERIFY_WITH_TIMEOUT(selfView(QStringLiteral("egress-4")).has_value(), 10000);
    auto me = *selfView(QStringLiteral("egress-4"));
    QCOMPARE(me.candidacy(), pb::CANDIDACY_PENDING);
    QVERIFY(!me.voter());
    // The voters started enabled, and every node's view shows egress-4 pending.
    QCOMPARE(selfView(QStringLiteral("egress-1"))->candidacy(), pb::CANDIDACY_ENABLED);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          auto s = fetchState(*c_->byName(QStringLiteral("egress-1")).stub);
          auto n = s ? nodeIn(*s, QStringLiteral("egress-4")) : std::nullopt;
          return n && n->candidacy() == pb::CANDIDACY_PENDING;
        }(),
        10000);
  }

  void enableRefusedWhileTheProbeIsRefused() {
    QTRY_COMPARE_WITH_TIMEOUT(selfView(QStringLiteral("egress-4"))->allowlist(), pb::ALLOWLIST_REJECTED, 10000);
    // Asked through another agent: egressctl finds egress-4's own agent in the cluster view.
    auto r = ctlVia(QStringLiteral("egress-2"), {QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-4")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("refused to enable egress-4")), qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("allowlist probe has not verified ") + c_->byName(QStringLiteral("egress-4")).host),
             qPrintable(r.err));
    QVERIFY2(r.err.contains(QStringLiteral("rejected")), qPrintable(r.err));
    QCOMPARE(selfView(QStringLiteral("egress-4"))->candidacy(), pb::CANDIDACY_PENDING);
  }

  void enabledOnceTheServiceAcceptsIt() {
    QVERIFY(target_.listen(targetHost_, targetPort_));
    auto r = ctlVia(QStringLiteral("egress-1"), {QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-4")});
    QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
    QVERIFY2(r.out.contains(QStringLiteral("egress-4 candidacy enabled")), qPrintable(r.out));
    auto me = *selfView(QStringLiteral("egress-4"));
    QCOMPARE(me.candidacy(), pb::CANDIDACY_ENABLED);
    QCOMPARE(me.allowlist(), pb::ALLOWLIST_OK);
    QVERIFY(c_->log(c_->byName(QStringLiteral("egress-4"))).contains(QStringLiteral("candidacy pending -> enabled")));
  }

  void joinedNodeTakesOverWhenTheVotersStepAside() {
    for (const auto* n : {"egress-1", "egress-2", "egress-3"}) {
      auto r = ctlVia(QString::fromLatin1(n), {QStringLiteral("candidacy"), QStringLiteral("disable"), QString::fromLatin1(n)});
      QVERIFY2(r.code == 0, qPrintable(r.err));
    }
    QTRY_VERIFY2_WITH_TIMEOUT(c_->agreedMaster() == QStringLiteral("egress-4"), qPrintable(c_->summary()), 20000);
  }

  void forcedButRejectedDoesNotStand() {
    // Back to the voters, then the service refuses egress-4 again. The voters have no probe:
    // nothing verifies their IPs, so re-enabling them needs force, and the refusal says so.
    auto refused = ctlVia(QStringLiteral("egress-1"), {QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-1")});
    QCOMPARE(refused.code, 1);
    QVERIFY2(refused.err.contains(QStringLiteral("no allowlist.probe.target is configured")), qPrintable(refused.err));
    for (const auto* n : {"egress-1", "egress-2", "egress-3"})
      QCOMPARE(ctlVia(QString::fromLatin1(n), {QStringLiteral("candidacy"), QStringLiteral("enable"), QString::fromLatin1(n),
                                               QStringLiteral("--force")})
                   .code,
               0);
    QCOMPARE(ctlVia(QStringLiteral("egress-4"), {QStringLiteral("candidacy"), QStringLiteral("disable"), QStringLiteral("egress-4")}).code, 0);
    QTRY_VERIFY2_WITH_TIMEOUT(!c_->agreedMaster().isEmpty() && c_->agreedMaster() != QStringLiteral("egress-4"),
                              qPrintable(c_->summary()), 20000);
    target_.close();
    QTRY_COMPARE_WITH_TIMEOUT(selfView(QStringLiteral("egress-4"))->allowlist(), pb::ALLOWLIST_REJECTED, 10000);
    auto r = ctlVia(QStringLiteral("egress-4"),
                    {QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-4"), QStringLiteral("--force"),
                     QStringLiteral("--reason"), QStringLiteral("NET-42 confirmed by phone")});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    auto me = *selfView(QStringLiteral("egress-4"));
    QCOMPARE(me.candidacy(), pb::CANDIDACY_ENABLED);
    QVERIFY(!me.healthy());  // the rejection is a health problem: it does not stand
    QVERIFY(c_->log(c_->byName(QStringLiteral("egress-4"))).contains(QStringLiteral("candidacy enabled by force")));
    QVERIFY(c_->log(c_->byName(QStringLiteral("egress-4"))).contains(QStringLiteral("candidacy disabled -> enabled (NET-42 confirmed by phone)")));
    // The voters step aside again: nobody is left to elect, and egress-4 is not elected either.
    auto master = c_->agreedMaster();
    QCOMPARE(ctlVia(master, {QStringLiteral("handover"), QStringLiteral("--to"), QStringLiteral("egress-4")}).code, 1);
    QCOMPARE(c_->agreedMaster(), master);
  }

  void cleanupTestCase() { c_.reset(); }
};

QTEST_GUILESS_MAIN(TestAgentCandidacy)
#include "test_agent_candidacy.moc"
