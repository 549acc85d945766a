// ObserverFeed: how an observer picks its feed voter (rendezvous hashing), fails over when the
// feed goes silent, and which MASTER_UPDATEs it believes (docs/membership.md).
#include <QTest>

#include <map>

#include "agent/core/observer_feed.h"

using egw::MasterInfo;
using egw::ObserverFeed;
using Update = egw::ObserverFeed::Update;

namespace {

const std::vector<std::string> kVoters{"n1", "n2", "n3"};

MasterInfo master(std::uint64_t term, const std::string& name) {
  return MasterInfo{term, name, name.empty() ? "" : "10.0.0." + name.substr(1), name.empty() ? "" : name + ":7400"};
}

}  // namespace

class TestObserverFeed : public QObject {
  Q_OBJECT

 private slots:
  void observersSpreadEvenlyOverTheVoters() {
    std::map<std::string, int> share;
    for (int i = 0; i < 3000; ++i) ++share[egw::rendezvousOrder("w" + std::to_string(i), kVoters).front()];
    QCOMPARE(share.size(), std::size_t(3));
    for (const auto& [voter, n] : share) QVERIFY2(n > 850 && n < 1150, (voter + ": " + std::to_string(n)).c_str());
  }

  void aNewVoterTakesOnlyItsOwnShare() {
    // Rendezvous hashing: with a fourth voter, an observer either keeps its feed or moves to n4.
    int moved = 0;
    for (int i = 0; i < 3000; ++i) {
      const auto name = "w" + std::to_string(i);
      const auto before = egw::rendezvousOrder(name, kVoters).front();
      const auto after = egw::rendezvousOrder(name, {"n1", "n2", "n3", "n4"}).front();
      if (after != before) {
        QCOMPARE(QString::fromStdString(after), QStringLiteral("n4"));
        ++moved;
      }
    }
    QVERIFY2(moved > 600 && moved < 900, std::to_string(moved).c_str());
  }

  void theOrderIsAFunctionOfTheNamesOnly() {
    QCOMPARE(egw::rendezvousOrder("w7", {"n3", "n1", "n2"}), egw::rendezvousOrder("w7", {"n1", "n2", "n3", "n2"}));
  }

  void silenceOfThreeKeepalivesMovesToTheNextVoter() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    const auto first = f.feed();
    QVERIFY(!f.onTick(2999));
    QCOMPARE(f.onUpdate(first, master(1, "n1"), 2500), Update::Adopted);  // the feed spoke
    QVERIFY(!f.onTick(5499));
    QVERIFY(f.onTick(5500));
    QCOMPARE(f.feed(), f.order()[1]);
    QVERIFY(QString::fromStdString(f.lastSwitch()).startsWith(QString::fromStdString(first + " silent for 3000 ms")));
    // The master it knew stays until someone says otherwise.
    QCOMPARE(f.master(), master(1, "n1"));
    // Around the order and back.
    QVERIFY(f.onTick(8500));
    QVERIFY(f.onTick(11500));
    QCOMPARE(f.feed(), first);
  }

  void aHigherTermWinsAnOlderOneIsIgnored() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    QCOMPARE(f.onUpdate("n2", master(3, "n2"), 10), Update::Adopted);
    QCOMPARE(f.onUpdate("n1", master(2, "n1"), 20), Update::Stale);
    QCOMPARE(f.onUpdate("n3", master(3, "n2"), 30), Update::Same);
    QCOMPARE(f.onUpdate("n3", master(4, "n3"), 40), Update::Adopted);
    QCOMPARE(f.master(), master(4, "n3"));
  }

  void twoMastersInOneTermAreAConflict() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    f.onUpdate("n1", master(5, "n1"), 10);
    QCOMPARE(f.onUpdate("n2", master(5, "n2"), 20), Update::Conflict);
    QCOMPARE(f.master().master, std::string("n1"));
  }

  void noMasterInTheTermWhoseMasterWeKnowChangesNothing() {
    // A voter that voted in term 6 knows no master of term 6 until its first heartbeat; its push
    // may arrive after the new master's own. Found by the 1,000-observer simulation.
    ObserverFeed f("w1", kVoters, 1000, 0);
    f.onUpdate("n1", master(6, "n1"), 10);
    QCOMPARE(f.onUpdate(f.feed(), master(6, ""), 20), Update::Same);
    QCOMPARE(f.master().master, std::string("n1"));
  }

  void aNewTermWithoutAMasterDropsTheRoute() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    f.onUpdate("n1", master(5, "n1"), 10);
    QCOMPARE(f.onUpdate("n2", master(6, ""), 20), Update::Adopted);
    QVERIFY(f.master().master.empty());  // fail closed until term 6 has a master
    QCOMPARE(f.onUpdate("n3", master(6, "n3"), 30), Update::Adopted);
    QCOMPARE(f.master().master, std::string("n3"));
  }

  void aNonVoterMayAnnounceOnlyItsOwnNewTerm() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    f.onUpdate("n1", master(5, "n1"), 10);
    QCOMPARE(f.onUpdate("egress-4", master(6, "egress-4"), 20), Update::Adopted);  // elected, tells us itself
    QCOMPARE(f.onUpdate("egress-5", master(7, "n1"), 30), Update::Stranger);      // speaks for another
    QCOMPARE(f.onUpdate("egress-4", master(6, "egress-4"), 40), Update::Stranger); // nothing new to announce
    QCOMPARE(f.master().master, std::string("egress-4"));
  }

  void aMovedMasterAddressIsFollowed() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    f.onUpdate("n1", master(5, "n1"), 10);
    auto moved = master(5, "n1");
    moved.address = "10.9.9.9";
    QCOMPARE(f.onUpdate("n1", moved, 20), Update::Adopted);
    QCOMPARE(f.master().address, std::string("10.9.9.9"));
  }

  void aReportIsDueOnChangeOrKeepalive() {
    ObserverFeed f("w1", kVoters, 1000, 0);
    QVERIFY(f.reportDue(0, false));  // the first one
    f.reported(0);
    QVERIFY(!f.reportDue(999, false));
    QVERIFY(f.reportDue(999, true));
    QVERIFY(f.reportDue(1000, false));
    QCOMPARE(f.nextDeadline(), 1000);
  }
};

QTEST_GUILESS_MAIN(TestObserverFeed)
#include "test_observer_feed.moc"
