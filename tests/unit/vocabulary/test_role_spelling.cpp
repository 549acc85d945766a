// One spelling of a role in every program: egressctl and the console print every wire role
// (each egressgw.v1.Role value, ROLE_UNSPECIFIED and a value from a newer agent included) the same,
// and the conversions of egw/wire_vocabulary.h are each other's inverse.
#include <QtTest/QTest>

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "console/core/nodes_model.h"
#include "console/core/proto_convert.h"
#include "ctl/format.h"
#include "egressgw/v1/cluster.pb.h"
#include "egw/wire_vocabulary.h"

namespace pb = egressgw::v1;

namespace {

// Every value the enum names, then one it does not (a newer agent's role reaches us as a number).
std::vector<pb::Role> everyWireRole() {
  std::vector<pb::Role> out;
  const auto* d = pb::Role_descriptor();
  for (int i = 0; i < d->value_count(); ++i) out.push_back(static_cast<pb::Role>(d->value(i)->number()));
  out.push_back(static_cast<pb::Role>(pb::Role_MAX + 1));
  return out;
}

}  // namespace

class TestRoleSpelling : public QObject {
  Q_OBJECT

 private slots:
  void wireConversionsAreInverse() {
    for (egw::Role r : egw::kRoles) QCOMPARE(egw::roleFromProto(egw::roleToProto(r)), std::optional<egw::Role>(r));
    for (pb::Role w : everyWireRole()) {
      const auto r = egw::roleFromProto(w);
      if (r) QCOMPARE(egw::roleToProto(*r), w);
      else QVERIFY2(w == pb::ROLE_UNSPECIFIED || !pb::Role_IsValid(w), pb::Role_Name(w).c_str());
    }
  }

  // The same status through both programs: egressctl's table and JSON, the console's client
  // conversion and its nodes table.
  void egressctlAndConsoleAgree() {
    pb::ClusterState state;
    const auto roles = everyWireRole();
    for (std::size_t i = 0; i < roles.size(); ++i) {
      auto* n = state.add_nodes();
      n->set_name(std::string("n").append(std::to_string(i)));
      n->set_role(roles[i]);
    }
    egw::console::NodesModel model;
    model.applyState(egw::console::fromProto(state), 0);
    QCOMPARE(model.rowCount(), int(roles.size()));
    const std::string table = egw::ctl::statusTable(state), json = egw::ctl::statusJson(state);
    for (std::size_t i = 0; i < roles.size(); ++i) {
      const std::string ctl = egw::ctl::roleName(roles[i]);
      const int row = model.rowOf(QString::fromStdString(state.nodes(int(i)).name()));
      const QString console = model.data(model.index(row, egw::console::NodesModel::Role)).toString();
      QCOMPARE(console, QString::fromStdString(ctl));
      QVERIFY2(table.find(std::string("  ").append(ctl).append("  ")) != std::string::npos, table.c_str());
      QVERIFY2(json.find(std::string("\"role\": \"").append(ctl).append("\"")) != std::string::npos, json.c_str());
      const auto known = egw::roleFromProto(roles[i]);
      QCOMPARE(ctl, known ? std::string(egw::roleName(*known)) : std::string("unknown"));
    }
  }
};

QTEST_GUILESS_MAIN(TestRoleSpelling)
#include "test_role_spelling.moc"
