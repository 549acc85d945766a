// egw/vocabulary.h: the exact spelling of every role and event kind, parse as its inverse, and
// unknown text that parses to nothing (callers show it as it is).
#include <QtTest/QTest>

#include <set>
#include <string>

#include "egw/vocabulary.h"

using egw::EventKind;
using egw::Role;

Q_DECLARE_METATYPE(Role)
Q_DECLARE_METATYPE(EventKind)

namespace {
QByteArray bytes(std::string_view s) { return QByteArray(s.data(), qsizetype(s.size())); }
}  // namespace

class TestVocabulary : public QObject {
  Q_OBJECT

 private slots:
  void roleNames_data() {
    QTest::addColumn<Role>("role");
    QTest::addColumn<QByteArray>("name");
    QTest::newRow("observer") << Role::Observer << QByteArray("observer");
    QTest::newRow("follower") << Role::Follower << QByteArray("follower");
    QTest::newRow("pre-candidate") << Role::PreCandidate << QByteArray("pre-candidate");
    QTest::newRow("candidate") << Role::Candidate << QByteArray("candidate");
    QTest::newRow("master") << Role::Master << QByteArray("master");
  }
  void roleNames() {
    QFETCH(Role, role);
    QFETCH(QByteArray, name);
    QCOMPARE(bytes(egw::roleName(role)), name);
    QCOMPARE(egw::parseRole(name.toStdString()), std::optional<Role>(role));
  }

  void everyRoleRoundTrips() {
    QCOMPARE(egw::kRoles.size(), std::size_t(5));  // roleNames_data lists each one
    std::set<std::string_view> seen;
    for (Role r : egw::kRoles) {
      const auto name = egw::roleName(r);
      QVERIFY(!name.empty());
      QVERIFY2(seen.insert(name).second, name.data());
      QCOMPARE(egw::parseRole(name), std::optional<Role>(r));
    }
  }

  void eventKindNames_data() {
    QTest::addColumn<EventKind>("kind");
    QTest::addColumn<QByteArray>("name");
    // Every kind the agent records (the journal's wire format: old journals must keep parsing).
    QTest::newRow("node_started") << EventKind::NodeStarted << QByteArray("node_started");
    QTest::newRow("node_stopped") << EventKind::NodeStopped << QByteArray("node_stopped");
    QTest::newRow("election_started") << EventKind::ElectionStarted << QByteArray("election_started");
    QTest::newRow("master_elected") << EventKind::MasterElected << QByteArray("master_elected");
    QTest::newRow("master_lost") << EventKind::MasterLost << QByteArray("master_lost");
    QTest::newRow("handover") << EventKind::Handover << QByteArray("handover");
    QTest::newRow("candidacy_changed") << EventKind::CandidacyChanged << QByteArray("candidacy_changed");
    QTest::newRow("health_changed") << EventKind::HealthChanged << QByteArray("health_changed");
    QTest::newRow("node_joined") << EventKind::NodeJoined << QByteArray("node_joined");
    QTest::newRow("node_left") << EventKind::NodeLeft << QByteArray("node_left");
    QTest::newRow("datapath_switched") << EventKind::DatapathSwitched << QByteArray("datapath_switched");
    QTest::newRow("datapath_failed") << EventKind::DatapathFailed << QByteArray("datapath_failed");
    QTest::newRow("datapath_repaired") << EventKind::DatapathRepaired << QByteArray("datapath_repaired");
    QTest::newRow("allowlist_changed") << EventKind::AllowlistChanged << QByteArray("allowlist_changed");
  }
  void eventKindNames() {
    QFETCH(EventKind, kind);
    QFETCH(QByteArray, name);
    QCOMPARE(bytes(egw::eventKindName(kind)), name);
    QCOMPARE(egw::parseEventKind(name.toStdString()), std::optional<EventKind>(kind));
  }

  void everyEventKindRoundTrips() {
    QCOMPARE(egw::kEventKinds.size(), std::size_t(14));  // eventKindNames_data lists each one
    std::set<std::string_view> seen;
    for (EventKind k : egw::kEventKinds) {
      const auto name = egw::eventKindName(k);
      QVERIFY(!name.empty());
      QVERIFY2(seen.insert(name).second, name.data());
      QCOMPARE(egw::parseEventKind(name), std::optional<EventKind>(k));
    }
  }

  // What the console and egressctl say when an observer serves the API (ClusterState.partial).
  void partialViewNoticeNamesTheVoters() {
    QCOMPARE(egw::partialViewNotice("worker-3", {"egress-1", "egress-2", "egress-3"}),
             std::string("served by observer worker-3: it knows only itself and the master; connect to a voter "
                         "(egress-1, egress-2, egress-3) for the whole cluster"));
    QCOMPARE(egw::partialViewNotice("worker-3", {}),
             std::string("served by observer worker-3: it knows only itself and the master; connect to a voter for "
                         "the whole cluster"));
  }

  // Unknown text: nothing, never a guess. Spellings are exact (no case folding, no '_' for '-').
  void unknownTextParsesToNothing() {
    for (std::string_view s : {"", "unknown", "pre_candidate", "Master", "MASTER", " master", "master ", "leader"})
      QVERIFY2(!egw::parseRole(s), std::string(s).c_str());
    for (std::string_view s : {"", "crash_test", "node-started", "Node_Started", "master_elected ", "handover\n",
                               "datapath_switched_v2"})
      QVERIFY2(!egw::parseEventKind(s), std::string(s).c_str());
    QVERIFY(!egw::parseRole(std::string_view("master\0x", 8)));  // no prefix match
  }
};

QTEST_GUILESS_MAIN(TestVocabulary)
#include "test_vocabulary.moc"
