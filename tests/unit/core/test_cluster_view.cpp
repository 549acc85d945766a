// ClusterView: status reports and the master's relayed view, member expiry, and the questions
// the driver asks it (eligibility inputs, verified alternatives, reachers, the drain, the
// snapshot's stale marking, TLS admission).
#include <QTest>

#include <algorithm>

#include "agent/core/cluster_view.h"

namespace pb = egressgw::v1;
using egw::ClusterView;
using egw::ViewTiming;

namespace {

pb::NodeStatus status(const std::string& name, pb::Candidacy c = pb::CANDIDACY_ENABLED, bool healthy = true,
                      pb::AllowlistVerdict a = pb::ALLOWLIST_OK, bool voter = false, const std::string& master = {}) {
  pb::NodeStatus s;
  s.set_name(name);
  s.set_address("10.0.0." + std::to_string(name.size()));
  s.set_candidacy(c);
  s.set_healthy(healthy);
  s.set_allowlist(a);
  s.set_voter(voter);
  s.set_priority(100);
  s.set_master(master);
  return s;
}

pb::ElectionMessage report(const pb::NodeStatus& s) {
  pb::ElectionMessage m;
  m.set_type(pb::STATUS_REPORT);
  m.set_from(s.name());
  *m.mutable_status() = s;
  return m;
}

ClusterView view() { return ClusterView("egress-1", {"egress-1", "egress-2", "egress-3"}, ViewTiming{300, 100}); }

QStringList names(const std::vector<std::string>& v) {
  QStringList out;
  for (const auto& s : v) out << QString::fromStdString(s);
  return out;
}

}  // namespace

class TestClusterView : public QObject {
  Q_OBJECT

 private slots:
  void firstReportOfANonVoterIsAJoin() {
    auto v = view();
    QCOMPARE(v.onStatusReport(report(status("worker-1", pb::CANDIDACY_NONE)), 10), ClusterView::Report::Joined);
    QCOMPARE(v.onStatusReport(report(status("worker-1", pb::CANDIDACY_NONE)), 20), ClusterView::Report::Accepted);
    QVERIFY(v.joined("worker-1"));
    QCOMPARE(v.find("worker-1")->lastSeen, 20);
  }

  void aReportUnderAnotherNameIsRefused() {
    auto v = view();
    auto m = report(status("worker-1"));
    m.set_from("worker-2");
    QCOMPARE(v.onStatusReport(m, 10), ClusterView::Report::NameMismatch);
    QVERIFY(v.members().empty());
  }

  void heartbeatRelaysTheMastersViewButNotOurselves() {
    auto v = view();
    pb::ElectionMessage hb;
    hb.set_type(pb::HEARTBEAT);
    hb.set_from("egress-2");
    *hb.add_cluster() = status("egress-1");
    *hb.add_cluster() = status("worker-7");
    auto nameless = status("x");
    nameless.set_name("");
    *hb.add_cluster() = nameless;
    (*hb.mutable_known_events())["egress-2"] = 5;
    v.onHeartbeat(hb, 50);
    QVERIFY(!v.find("egress-1"));
    QVERIFY(v.joined("worker-7"));
    QCOMPARE(v.find("egress-2")->knownEvents.at("egress-2"), 5u);
  }

  // Each report's known_events replaces the last one's (updated in place): an origin the peer
  // no longer names is gone, as after a peer's restart with an empty journal.
  void eachReportsKnownEventsReplaceTheLast() {
    auto v = view();
    auto m = report(status("egress-2"));
    (*m.mutable_known_events())["a"] = 3;
    (*m.mutable_known_events())["b"] = 7;
    v.onStatusReport(m, 10);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"a", 3}, {"b", 7}}));
    (*m.mutable_known_events())["a"] = 4;
    v.onStatusReport(m, 20);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"a", 4}, {"b", 7}}));
    m.mutable_known_events()->erase("b");
    (*m.mutable_known_events())["c"] = 1;
    v.onStatusReport(m, 30);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"a", 4}, {"c", 1}}));
    m.mutable_known_events()->clear();
    v.onStatusReport(m, 40);
    QVERIFY(v.find("egress-2")->knownEvents.empty());

    // Changes (known_events_delta) update the origins they name and keep the others, from a
    // report or a heartbeat alike.
    (*m.mutable_known_events())["a"] = 5;
    (*m.mutable_known_events())["b"] = 2;
    v.onStatusReport(m, 50);
    m.mutable_known_events()->clear();
    (*m.mutable_known_events())["b"] = 3;
    m.set_known_events_delta(true);
    v.onStatusReport(m, 60);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"a", 5}, {"b", 3}}));
    pb::ElectionMessage hb;
    hb.set_type(pb::HEARTBEAT);
    hb.set_from("egress-2");
    hb.set_known_events_delta(true);
    (*hb.mutable_known_events())["c"] = 1;
    v.onHeartbeat(hb, 70);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"a", 5}, {"b", 3}, {"c", 1}}));
    hb.set_known_events_delta(false);
    v.onHeartbeat(hb, 80);
    QCOMPARE(v.find("egress-2")->knownEvents, (std::map<std::string, std::uint64_t>{{"c", 1}}));
  }

  void aHeartbeatSetsLastSeenFromTheMastersAgesNotFromItsArrival() {
    // Issue 17 item 1: a follower showed a dead node as alive because every heartbeat refreshed
    // every member's last-seen. The master's age is what counts.
    auto v = view();
    pb::ElectionMessage hb;
    hb.set_type(pb::HEARTBEAT);
    hb.set_from("egress-2");
    *hb.add_cluster() = status("worker-7", pb::CANDIDACY_NONE);
    (*hb.mutable_ages())["worker-7"] = 0;
    v.onHeartbeat(hb, 1000);
    QCOMPARE(v.find("worker-7")->lastSeen, 1000);
    // The master has not heard of worker-7 for 5 s: that is what we believe, however often the
    // master's heartbeats arrive.
    (*hb.mutable_ages())["worker-7"] = 5000;
    v.onHeartbeat(hb, 6000);
    QCOMPARE(v.find("worker-7")->lastSeen, 1000);
    QCOMPARE(v.find("egress-2")->lastSeen, 6000);  // the master itself we just heard
    google::protobuf::RepeatedPtrField<pb::NodeStatus> shown;
    v.snapshotNodes(6000, "egress-2", shown);
    auto w = std::find_if(shown.begin(), shown.end(), [](const auto& n) { return n.name() == "worker-7"; });
    QVERIFY(w != shown.end());
    QVERIFY(!w->healthy());
    // A heartbeat with changes only (no ages) does not refresh a known member either.
    pb::ElectionMessage delta;
    delta.set_type(pb::HEARTBEAT);
    delta.set_from("egress-2");
    *delta.add_cluster() = status("worker-7", pb::CANDIDACY_NONE);
    v.onHeartbeat(delta, 7000);
    QCOMPARE(v.find("worker-7")->lastSeen, 1000);
  }

  void aFeedRelaysChangesOnceAndAgesOfItsOwnObservers() {
    auto v = view();  // egress-1, a voter: the feed of worker-1
    auto w = status("worker-1", pb::CANDIDACY_NONE);
    v.onStatusReport(report(w), 100);
    auto relay = v.takeRelay();
    QCOMPARE(relay.size(), std::size_t(1));
    QVERIFY(v.takeRelay().empty());  // relayed once
    // A keepalive (only the clock and the counters moved) is not a change.
    w.set_wall_time_ms(123456);
    w.mutable_marked()->set_bytes(999);
    v.onStatusReport(report(w), 1100);
    QVERIFY(v.takeRelay().empty());
    // Its datapath readiness is.
    w.set_datapath_ready(true);
    v.onStatusReport(report(w), 2100);
    QCOMPARE(v.takeRelay().size(), std::size_t(1));
    auto ages = v.ages(2600, true);
    QCOMPARE(ages.size(), std::size_t(1));
    QCOMPARE(ages.at("worker-1"), std::int64_t(500));
    QCOMPARE(v.directObservers(2600), std::vector<std::string>{"worker-1"});
  }

  void theMasterLearnsRelayedObserversWithTheirAges() {
    auto v = view();  // egress-1 as master; egress-2 relays worker-5
    pb::ElectionMessage m = report(status("egress-2", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_OK, true));
    *m.add_relayed() = status("worker-5", pb::CANDIDACY_NONE);
    (*m.mutable_ages())["worker-5"] = 300;
    v.onStatusReport(m, 1000);
    QCOMPARE(v.onRelay(m, 1000), std::vector<std::string>{"worker-5"});
    QCOMPARE(v.find("worker-5")->lastSeen, 700);
    QVERIFY(v.onRelay(m, 1100).empty());  // joined once
    QCOMPARE(v.find("worker-5")->lastSeen, 800);  // the feed heard it 300 ms before 1100
    // Observers are not election members: no heartbeats for them.
    for (const auto& p : v.peerInfo(1100).nonVoters) QVERIFY(p.name != "worker-5");
    // An observer is stale after 4 keepalives, not 3 election timeouts, and expires after 20.
    QVERIFY(v.expire(800 + v.timing().observerExpiry()).empty());
    QCOMPARE(names(v.expire(800 + v.timing().observerExpiry() + 1)), QStringList{QStringLiteral("worker-5")});
  }

  void onlyNonVotersExpire() {
    auto v = view();
    v.onStatusReport(report(status("worker-1")), 0);
    v.onStatusReport(report(status("egress-2", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_OK, true)), 0);
    QVERIFY(v.expire(v.timing().expiry()).empty());  // not yet: exactly at the bound
    QCOMPARE(names(v.expire(v.timing().expiry() + 1)), QStringList{QStringLiteral("worker-1")});
    QVERIFY(!v.find("worker-1"));
    QVERIFY(v.find("egress-2"));
  }

  void peerInfoCountsOnlyFreshEnabledHealthyUnrejected_data() {
    QTest::addColumn<int>("candidacy");
    QTest::addColumn<bool>("healthy");
    QTest::addColumn<int>("allowlist");
    QTest::addColumn<qint64>("age");
    QTest::addColumn<bool>("eligible");
    QTest::newRow("enabled healthy ok fresh") << int(pb::CANDIDACY_ENABLED) << true << int(pb::ALLOWLIST_OK) << qint64(0) << true;
    QTest::newRow("unknown allowlist still stands") << int(pb::CANDIDACY_ENABLED) << true << int(pb::ALLOWLIST_UNKNOWN) << qint64(0) << true;
    QTest::newRow("rejected") << int(pb::CANDIDACY_ENABLED) << true << int(pb::ALLOWLIST_REJECTED) << qint64(0) << false;
    QTest::newRow("unhealthy") << int(pb::CANDIDACY_ENABLED) << false << int(pb::ALLOWLIST_OK) << qint64(0) << false;
    QTest::newRow("pending") << int(pb::CANDIDACY_PENDING) << true << int(pb::ALLOWLIST_OK) << qint64(0) << false;
    QTest::newRow("stale") << int(pb::CANDIDACY_ENABLED) << true << int(pb::ALLOWLIST_OK) << qint64(900) << false;
  }
  void peerInfoCountsOnlyFreshEnabledHealthyUnrejected() {
    QFETCH(int, candidacy);
    QFETCH(bool, healthy);
    QFETCH(int, allowlist);
    QFETCH(qint64, age);
    QFETCH(bool, eligible);
    auto v = view();
    v.onStatusReport(report(status("worker-1", pb::Candidacy(candidacy), healthy, pb::AllowlistVerdict(allowlist))), 100);
    auto infos = v.peerInfo(100 + age);
    QCOMPARE(infos.all.size(), std::size_t{1});
    QCOMPARE(infos.nonVoters.size(), std::size_t{1});
    QCOMPARE(infos.all[0].eligible, eligible);
    QCOMPARE(infos.all[0].candidate, candidacy == pb::CANDIDACY_ENABLED);
  }

  void votersAreNotNonVoters() {
    auto v = view();
    v.onStatusReport(report(status("egress-2", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_OK, true)), 0);
    auto infos = v.peerInfo(0);
    QCOMPARE(infos.all.size(), std::size_t{1});
    QVERIFY(infos.nonVoters.empty());
  }

  void verifiedAlternativeNeedsAnotherFreshVerifiedCandidate() {
    auto v = view();
    QVERIFY(!v.verifiedAlternative(0));
    v.onStatusReport(report(status("egress-2", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_UNVERIFIED)), 0);
    QVERIFY(!v.verifiedAlternative(0));
    v.onStatusReport(report(status("egress-3", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_OK)), 0);
    QVERIFY(v.verifiedAlternative(0));
    QVERIFY(v.verifiedAlternative(v.timing().verdictFresh()));
    QVERIFY(!v.verifiedAlternative(v.timing().verdictFresh() + 1));
  }

  void reachersAreOthersWhoseProbeSaysOk() {
    auto v = view();
    v.onStatusReport(report(status("egress-2", pb::CANDIDACY_ENABLED, false, pb::ALLOWLIST_OK)), 0);
    v.onStatusReport(report(status("egress-3", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_REJECTED)), 0);
    QCOMPARE(names(v.reachers(10)), QStringList{QStringLiteral("egress-2")});
    QVERIFY(v.reachers(v.timing().verdictFresh() + 1).empty());
  }

  void drainWaitsForMembersThatStillFollowUs() {
    auto v = view();
    v.onStatusReport(report(status("worker-1", pb::CANDIDACY_NONE, true, pb::ALLOWLIST_UNKNOWN, false, "egress-1")), 0);
    v.onStatusReport(report(status("worker-2", pb::CANDIDACY_NONE, true, pb::ALLOWLIST_UNKNOWN, false, "egress-2")), 0);
    v.onStatusReport(report(status("egress-2", pb::CANDIDACY_ENABLED, true, pb::ALLOWLIST_OK, true, "egress-1")), 0);
    // egress-2 is the new master: not waited for.
    QCOMPARE(names(v.routingThroughUs("egress-2")), QStringList{QStringLiteral("worker-1")});
    v.onStatusReport(report(status("worker-1", pb::CANDIDACY_NONE, true, pb::ALLOWLIST_UNKNOWN, false, "egress-2")), 5);
    QVERIFY(v.routingThroughUs("egress-2").empty());
  }

  void snapshotMarksStaleMembersAndNeverShowsTwoMasters() {
    auto v = view();
    auto old = status("egress-2");
    old.set_role(pb::MASTER);
    v.onStatusReport(report(old), 0);
    google::protobuf::RepeatedPtrField<pb::NodeStatus> snap;
    v.snapshotNodes(100, "egress-3", snap);
    QCOMPARE(snap.size(), 1);
    QVERIFY(snap[0].healthy());
    // Into the same field, cleared: its node is reused and holds nothing of the last snapshot.
    snap.Clear();
    v.snapshotNodes(5000, "egress-3", snap);
    QCOMPARE(snap.size(), 1);
    const auto& stale = snap[0];
    QVERIFY(!stale.healthy());
    QCOMPARE(stale.role(), pb::FOLLOWER);
    QCOMPARE(stale.health_problems_size(), 1);
    QCOMPARE(QString::fromStdString(stale.health_problems(0)), QStringLiteral("no status for 5 s"));
    snap.Clear();
    v.snapshotNodes(100, "egress-3", snap);
    QVERIFY(snap[0].healthy());
    QCOMPARE(snap[0].health_problems_size(), 0);
    QCOMPARE(snap[0].role(), pb::MASTER);
  }

  void admittedAreVotersAndJoinedMembers() {
    auto v = view();
    pb::ElectionMessage hb;
    hb.set_type(pb::HEARTBEAT);
    hb.set_from("stranger");  // known only as a sender: not joined
    v.onHeartbeat(hb, 0);
    v.onStatusReport(report(status("worker-1")), 0);
    auto a = v.admitted();
    QCOMPARE(a, (std::set<std::string>{"egress-1", "egress-2", "egress-3", "worker-1"}));
  }
};

QTEST_GUILESS_MAIN(TestClusterView)
#include "test_cluster_view.moc"
