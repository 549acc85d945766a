// evaluateReadiness / evaluateLiveness: what /readyz and /livez answer for each agent state.
#include <QtTest>

#include "agent/core/readiness.h"

using egw::ReadinessInputs;
using egw::election::Role;

namespace {

ReadinessInputs follower() {
  ReadinessInputs in;
  in.self = "egress-2";
  in.role = Role::Follower;
  in.master = "egress-1";
  in.term = 4;
  in.datapathEnabled = true;
  in.datapathInSync = true;
  in.loopAgeMs = 20;
  in.electionTimeoutMs = 300;
  return in;
}

QString reason(const ReadinessInputs& in) { return QString::fromStdString(egw::evaluateReadiness(in).reason); }

}  // namespace

class TestReadiness : public QObject {
  Q_OBJECT

 private slots:
  void followerOfAKnownMasterWithDatapathIsReady() {
    auto v = egw::evaluateReadiness(follower());
    QVERIFY(v.ok);
    QCOMPARE(QString::fromStdString(v.reason), QStringLiteral("ready: following egress-1, term 4, datapath applied"));
  }

  void noMasterIsNotReady() {
    for (auto role : {Role::Follower, Role::PreCandidate, Role::Candidate}) {
      auto in = follower();
      in.role = role;
      in.master.clear();
      auto v = egw::evaluateReadiness(in);
      QVERIFY(!v.ok);
      QVERIFY2(v.reason.starts_with("no master known (") && v.reason.find("term 4") != std::string::npos, v.reason.c_str());
      QVERIFY2(v.reason.find(egw::roleName(role)) != std::string::npos, v.reason.c_str());
    }
  }

  void masterNeedsItsLease() {
    auto in = follower();
    in.role = Role::Master;
    in.master = "egress-2";
    in.leaseValid = false;
    QVERIFY(!egw::evaluateReadiness(in).ok);
    QVERIFY(reason(in).contains(QStringLiteral("without a valid lease")));
    in.leaseValid = true;
    QVERIFY(egw::evaluateReadiness(in).ok);
    QCOMPARE(reason(in), QStringLiteral("ready: master, term 4, datapath applied"));
  }

  void datapathMustMatchTheRole() {
    auto in = follower();
    in.datapathInSync = false;
    QVERIFY(!egw::evaluateReadiness(in).ok);
    QCOMPARE(reason(in), QStringLiteral("datapath not programmed for the current role (following egress-1, term 4): "
                                        "switch to the current role pending"));
    in.datapathProblem = "nft: Operation not permitted";
    QVERIFY(reason(in).endsWith(QStringLiteral(": nft: Operation not permitted")));
    // A master with a lease but the SNAT not yet installed is not ready either.
    in.role = Role::Master;
    in.master = "egress-2";
    in.leaseValid = true;
    QVERIFY(!egw::evaluateReadiness(in).ok);
  }

  void withoutDatapathOnlyTheClusterViewCounts() {
    auto in = follower();
    in.datapathEnabled = false;
    in.datapathInSync = false;
    auto v = egw::evaluateReadiness(in);
    QVERIFY(v.ok);
    QVERIFY2(v.reason.find("--no-datapath") != std::string::npos, v.reason.c_str());
    in.master.clear();
    QVERIFY(!egw::evaluateReadiness(in).ok);
  }

  void staleFiguresAreNotReady() {
    auto in = follower();
    in.loopAgeMs = 900;  // 3 x election timeout: still fresh
    QVERIFY(egw::evaluateReadiness(in).ok);
    in.loopAgeMs = 1001;  // beyond max(1 s, 3 x election timeout)
    QVERIFY(!egw::evaluateReadiness(in).ok);
    QVERIFY(reason(in).startsWith(QStringLiteral("loop thread has not run for 1001 ms")));
    in.electionTimeoutMs = 1000;
    QVERIFY(egw::evaluateReadiness(in).ok);
  }

  void livenessOnlyTripsOnAStuckLoop() {
    QVERIFY(egw::evaluateLiveness(0, 300).ok);
    QVERIFY(egw::evaluateLiveness(10'000, 300).ok);
    auto v = egw::evaluateLiveness(10'001, 300);
    QVERIFY(!v.ok);
    QCOMPARE(QString::fromStdString(v.reason), QStringLiteral("loop thread stalled: last ran 10001 ms ago (limit 10000 ms)"));
    // Long election timeouts stretch the limit (20 x): a slow cluster is not a dead agent.
    QCOMPARE(egw::livenessStallMs(2000), std::int64_t{40'000});
    QVERIFY(egw::evaluateLiveness(39'000, 2000).ok);
  }
};

QTEST_GUILESS_MAIN(TestReadiness)
#include "test_readiness.moc"
