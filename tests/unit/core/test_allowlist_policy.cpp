// The allowlist policy: when a probe timeout becomes a refusal (a service that silently drops
// this source), when a refusal makes a node ineligible, and the candidacy a node starts with.
#include <QTest>

#include "agent/core/allowlist_policy.h"

using egw::AllowlistVerdict;
using egw::CandidacyState;
using egw::ProbeOutcome;
using egw::ProbeResult;

namespace {
ProbeResult probe(ProbeOutcome o, int timeouts, AllowlistVerdict v = AllowlistVerdict::Unverified) {
  ProbeResult r;
  r.outcome = o;
  r.consecutiveTimeouts = timeouts;
  r.verdict = v;
  r.detail = "no answer within 2s from 172.16.0.7 to 198.51.100.10:443";
  return r;
}
}  // namespace

class TestAllowlistPolicy : public QObject {
  Q_OBJECT

 private slots:
  void silentDrop_data() {
    QTest::addColumn<int>("outcome");
    QTest::addColumn<int>("timeouts");
    QTest::addColumn<QStringList>("reachers");
    QTest::addColumn<bool>("rejected");
    const QStringList two{QStringLiteral("egress-2"), QStringLiteral("egress-3")};
    QTest::newRow("two timeouts, others reach") << int(ProbeOutcome::Timeout) << 2 << two << true;
    QTest::newRow("one timeout is not enough") << int(ProbeOutcome::Timeout) << 1 << two << false;
    QTest::newRow("nobody reaches: the service may be down") << int(ProbeOutcome::Timeout) << 5 << QStringList{} << false;
    QTest::newRow("unreachable is not a silent drop") << int(ProbeOutcome::Unreachable) << 0 << two << false;
  }
  void silentDrop() {
    QFETCH(int, outcome);
    QFETCH(int, timeouts);
    QFETCH(QStringList, reachers);
    QFETCH(bool, rejected);
    std::vector<std::string> r;
    for (const auto& s : reachers) r.push_back(s.toStdString());
    auto in = probe(ProbeOutcome(outcome), timeouts);
    auto out = egw::silentDropVerdict(in, r);
    QCOMPARE(out.verdict == AllowlistVerdict::Rejected, rejected);
    if (rejected) {
      QVERIFY2(out.detail.find("while egress-2, egress-3 reach the same target") != std::string::npos, out.detail.c_str());
      QVERIFY2(out.detail.find(in.detail) != std::string::npos, "the probe's own detail is kept");
    } else {
      QCOMPARE(out.detail, in.detail);
    }
  }

  void rejectionCounts_data() {
    QTest::addColumn<int>("verdict");
    QTest::addColumn<bool>("master");
    QTest::addColumn<bool>("alternative");
    QTest::addColumn<bool>("counts");
    QTest::newRow("candidate rejected") << int(AllowlistVerdict::Rejected) << false << false << true;
    QTest::newRow("master rejected, nobody verified: stays") << int(AllowlistVerdict::Rejected) << true << false << false;
    QTest::newRow("master rejected, another verified: hands over") << int(AllowlistVerdict::Rejected) << true << true << true;
    QTest::newRow("unverified never counts") << int(AllowlistVerdict::Unverified) << false << true << false;
  }
  void rejectionCounts() {
    QFETCH(int, verdict);
    QFETCH(bool, master);
    QFETCH(bool, alternative);
    QFETCH(bool, counts);
    QCOMPARE(egw::rejectionCounts(AllowlistVerdict(verdict), master, alternative), counts);
  }

  void eligibility() {
    QVERIFY(egw::eligible(true, CandidacyState::Enabled, true));
    QVERIFY(!egw::eligible(false, CandidacyState::Enabled, true));
    QVERIFY(!egw::eligible(true, CandidacyState::Pending, true));
    QVERIFY(!egw::eligible(true, CandidacyState::Disabled, true));
    QVERIFY(!egw::eligible(true, CandidacyState::Enabled, false));
  }

  void initialCandidacy() {
    QCOMPARE(egw::initialCandidacy(true, true), CandidacyState::Enabled);
    QCOMPARE(egw::initialCandidacy(true, false), CandidacyState::Pending);
    QCOMPARE(egw::initialCandidacy(false, true), CandidacyState::None);
  }
};

QTEST_GUILESS_MAIN(TestAllowlistPolicy)
#include "test_allowlist_policy.moc"
