// ClusterSnapshot::apply and fromProto(ClusterDelta) (console/core): the console's copy of the
// state after a delta equals the agent's state as a fresh snapshot, and a removed node's row goes.
#include <QtTest/QAbstractItemModelTester>
#include <QtTest/QTest>

#include "console/core/nodes_model.h"
#include "console/core/proto_convert.h"
#include "egw/version.h"

using namespace egw::console;
namespace pb = egressgw::v1;

namespace {

pb::NodeStatus node(const std::string& name, bool healthy = true) {
  pb::NodeStatus n;
  n.set_name(name);
  n.set_healthy(healthy);
  n.set_candidacy(pb::CANDIDACY_NONE);
  n.set_role(pb::OBSERVER);
  return n;
}

pb::ClusterState state(std::initializer_list<const char*> names) {
  pb::ClusterState s;
  s.set_master("egress-1");
  s.set_term(3);
  s.set_served_by("egress-1");
  s.set_protocol(egw::kProtocolVersion);
  for (const char* n : names) *s.add_nodes() = node(n);
  return s;
}

}  // namespace

class TestClusterDelta : public QObject {
  Q_OBJECT

 private slots:
  void changedInPlaceNewAtTheEndRemovedDropped() {
    ClusterSnapshot mine = fromProto(state({"egress-1", "worker-1", "worker-2", "worker-3"}));
    pb::ClusterDelta d;
    *d.mutable_header() = state({});
    d.mutable_header()->set_term(4);
    *d.add_changed() = node("worker-2", false);
    *d.add_changed() = node("worker-9");
    d.add_removed("worker-1");
    d.add_removed("worker-7");  // not held: nothing to do
    mine.apply(fromProto(d));

    pb::ClusterState fresh = state({"egress-1", "worker-2", "worker-3", "worker-9"});
    fresh.set_term(4);
    *fresh.mutable_nodes(1) = node("worker-2", false);
    QCOMPARE(mine, fromProto(fresh));
  }

  void theHeaderIsReplacedWhole() {
    ClusterSnapshot mine = fromProto(state({"egress-1"}));
    pb::ClusterDelta d;
    *d.mutable_header() = state({});
    d.mutable_header()->set_master("");
    d.mutable_header()->set_served_by("worker-3");
    d.mutable_header()->set_partial(true);
    d.mutable_header()->add_voters("egress-1");
    mine.apply(fromProto(d));
    QCOMPARE(mine.master, QString());
    QCOMPARE(mine.servedBy, QStringLiteral("worker-3"));
    QVERIFY(mine.partial);
    QCOMPARE(mine.voters, QStringList{QStringLiteral("egress-1")});
    QCOMPARE(mine.nodes.size(), 1);  // nodes untouched
  }

  // Removing a node removes its row; the other rows stay where they are.
  void aRemovedNodeLosesItsRow() {
    NodesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    ClusterSnapshot mine = fromProto(state({"egress-1", "worker-1", "worker-2"}));
    model.applyState(mine, 0);
    pb::ClusterDelta d;
    *d.mutable_header() = state({});
    d.add_removed("worker-1");
    mine.apply(fromProto(d));
    model.applyState(mine, 0);
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowOf(QStringLiteral("worker-1")), -1);
    QCOMPARE(model.rowOf(QStringLiteral("worker-2")), 1);
  }
};

QTEST_GUILESS_MAIN(TestClusterDelta)
#include "test_cluster_delta.moc"
