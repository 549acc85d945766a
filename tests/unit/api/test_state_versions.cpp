// StateVersions (agent/api/state_versions.*): a new version only for a change other than
// wall_time_ms; a delta holds the header, the nodes changed since the client's version and the
// names removed; applied to the client's copy it gives the current state, from any version.
#include <QTest>

#include "agent/api/state_versions.h"
#include "support/cluster_delta.h"

namespace v1 = egressgw::v1;
using egw::StateVersions;
using egwtest::applyDelta;
using egwtest::withoutWallTime;

namespace {

v1::ClusterState cluster(int nodes) {
  v1::ClusterState s;
  s.set_master("n0");
  s.set_term(3);
  s.set_served_by("n0");
  for (int i = 0; i < nodes; ++i) {
    auto* n = s.add_nodes();
    n->set_name("n" + std::to_string(i));
    n->set_address("10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250));
    n->set_healthy(true);
    n->set_wall_time_ms(1000 + i);
  }
  return s;
}

std::vector<std::string> names(const google::protobuf::RepeatedPtrField<v1::NodeStatus>& nodes) {
  std::vector<std::string> out;
  for (const auto& n : nodes) out.push_back(n.name());
  return out;
}
std::vector<std::string> names(const google::protobuf::RepeatedPtrField<std::string>& v) { return {v.begin(), v.end()}; }

}  // namespace

class TestStateVersions : public QObject {
  Q_OBJECT

 private slots:
  void aNewWallTimeAloneIsNoNewVersion() {
    StateVersions v;
    QVERIFY(v.publish(cluster(3)));
    QCOMPARE(v.version(), 1u);
    auto s = cluster(3);
    for (auto& n : *s.mutable_nodes()) n.set_wall_time_ms(n.wall_time_ms() + 500);
    QVERIFY(!v.publish(s));
    QCOMPARE(v.version(), 1u);
    QCOMPARE(v.whole()->nodes(1).wall_time_ms(), 1501);  // the whole state is the latest anyway
    QCOMPARE(v.deltaSince(1)->changed_size(), 0);
  }

  void aDeltaHoldsOnlyTheChangedNodesAndTheRemoved() {
    StateVersions v;
    auto s = cluster(1000);
    v.publish(s);
    s.mutable_nodes(17)->set_healthy(false);
    s.mutable_nodes(500)->set_wall_time_ms(99);  // not a change
    s.mutable_nodes()->DeleteSubrange(900, 1);   // n900 leaves
    auto* joined = s.add_nodes();
    joined->set_name("w1");
    s.set_term(4);
    QVERIFY(v.publish(s));
    auto d = v.deltaSince(1);
    QVERIFY(d);
    QCOMPARE(names(d->changed()), (std::vector<std::string>{"n17", "w1"}));
    QCOMPARE(d->changed(0).healthy(), false);
    QCOMPARE(names(d->removed()), std::vector<std::string>{"n900"});
    QCOMPARE(d->header().term(), 4u);
    QCOMPARE(d->header().master(), std::string("n0"));
    QCOMPARE(d->header().nodes_size(), 0);
  }

  void aHeaderChangeAloneIsADeltaWithoutNodes() {
    StateVersions v;
    auto s = cluster(5);
    v.publish(s);
    s.set_master("n1");
    s.set_partial(true);
    s.add_voters("n0");
    QVERIFY(v.publish(s));
    auto d = v.deltaSince(1);
    QCOMPARE(d->changed_size(), 0);
    QCOMPARE(d->removed_size(), 0);
    QCOMPARE(d->header().master(), std::string("n1"));
    QVERIFY(d->header().partial());
    QCOMPARE(names(d->header().voters()), std::vector<std::string>{"n0"});
  }

  // Clients at every earlier version reach the current state with one delta each; a node that
  // changed several times is sent once, as it is now; one removed and back is a change.
  void fromAnyVersionTheDeltaGivesTheCurrentState() {
    StateVersions v;
    std::vector<v1::ClusterState> held{v1::ClusterState()};  // held[k]: the state of version k
    auto s = cluster(50);
    v.publish(s);
    held.push_back(s);
    for (int step = 0; step < 30; ++step) {
      s.mutable_nodes(step % 7)->set_priority(step);
      if (step % 5 == 0) s.mutable_nodes()->DeleteSubrange(10 + step % 3, 1);
      if (step % 4 == 0) s.add_nodes()->set_name("late" + std::to_string(step));
      if (step == 12) *s.add_nodes() = held[1].nodes(10);  // n10 back, as it was
      QVERIFY(v.publish(s));
      held.push_back(s);
    }
    QCOMPARE(v.version(), std::uint64_t(held.size() - 1));
    const auto want = withoutWallTime(*v.whole());
    for (std::uint64_t k = 0; k < held.size(); ++k) {
      auto d = v.deltaSince(k);
      QVERIFY(d);
      auto mine = held[k];
      applyDelta(mine, *d);
      QCOMPARE(withoutWallTime(mine), want);
    }
    QCOMPARE(v.deltaSince(v.version())->changed_size(), 0);
    QVERIFY(!v.deltaSince(v.version() + 1));  // a version never published
  }

  void aClientOlderThanTheRemovalsKeptGetsTheWholeState() {
    StateVersions v(2);  // remembers 2 removals
    auto s = cluster(10);
    v.publish(s);
    for (int i = 0; i < 3; ++i) {
      s.mutable_nodes()->DeleteSubrange(0, 1);  // n0, n1, n2 leave: versions 2, 3, 4
      v.publish(s);
    }
    QVERIFY(!v.deltaSince(1));  // n0's removal is forgotten
    QVERIFY(v.deltaSince(2).has_value());
    QCOMPARE(names(v.deltaSince(2)->removed()), (std::vector<std::string>{"n1", "n2"}));
    QCOMPARE(names(v.deltaSince(3)->removed()), std::vector<std::string>{"n2"});
  }
};

QTEST_GUILESS_MAIN(TestStateVersions)
#include "test_state_versions.moc"
