// Bad input to the election (unknown sender, stale term, garbage fields) is ignored, counted and
// reported in Ready::rejected; nothing crashes. Also the driver-facing contracts of Ready.
#include <QTest>
#include <limits>

#include "unit/election/cluster.h"

using namespace egw::election;
using namespace egw::election::testing;

namespace {

Settings settings(const std::string& self) {
  Settings s;
  s.self = self;
  s.voters = {"n1", "n2", "n3"};
  s.candidate = true;
  s.priority = 100;
  s.heartbeatInterval = 100;
  s.electionTimeout = 300;
  s.lease = 200;
  return s;
}

Message msg(MsgType t, const std::string& from, const std::string& to, std::uint64_t term) {
  Message m;
  m.type = t;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

}  // namespace

class TestElectionInput : public QObject {
  Q_OBJECT
 private slots:
  void ignoredAndCounted_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<quint64>("term");
    QTest::addColumn<int>("reason");
    const auto hb = static_cast<int>(MsgType::Heartbeat);
    QTest::newRow("unknown sender") << hb << "intruder"
                                    << "n1" << quint64(9) << static_cast<int>(Reject::UnknownSender);
    QTest::newRow("self-addressed") << hb << "n1"
                                    << "n1" << quint64(9) << static_cast<int>(Reject::SelfAddressed);
    QTest::newRow("misrouted") << hb << "n2"
                               << "n3" << quint64(9) << static_cast<int>(Reject::Misrouted);
    QTest::newRow("empty sender") << hb << ""
                                  << "n1" << quint64(9) << static_cast<int>(Reject::Malformed);
    QTest::newRow("term 0") << hb << "n2"
                            << "n1" << quint64(0) << static_cast<int>(Reject::Malformed);
    QTest::newRow("absurd term") << hb << "n2"
                                 << "n1" << std::numeric_limits<quint64>::max() << static_cast<int>(Reject::Malformed);
    QTest::newRow("unknown type") << 42 << "n2"
                                  << "n1" << quint64(9) << static_cast<int>(Reject::Malformed);
    QTest::newRow("negative type") << -1 << "n2"
                                   << "n1" << quint64(9) << static_cast<int>(Reject::Malformed);
    QTest::newRow("stale heartbeat") << hb << "n2"
                                     << "n1" << quint64(3) << static_cast<int>(Reject::StaleTerm);
    QTest::newRow("stale vote") << static_cast<int>(MsgType::Vote) << "n2"
                                << "n1" << quint64(4) << static_cast<int>(Reject::StaleTerm);
    QTest::newRow("stale pre-vote") << static_cast<int>(MsgType::PreVote) << "n2"
                                    << "n1" << quint64(4) << static_cast<int>(Reject::StaleTerm);
  }

  void ignoredAndCounted() {
    QFETCH(int, type);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(quint64, term);
    QFETCH(int, reason);
    Election e(settings("n1"), HardState{5, "n2"}, false, 1, 1000);
    e.takeReady();
    Message m = msg(static_cast<MsgType>(type), from.toStdString(), to.toStdString(), term);
    m.round = 77;
    m.priority = -12345;
    e.step(m, 1000);
    Ready r = e.takeReady();
    QCOMPARE(e.term(), 5u);
    QCOMPARE(e.role(), Role::Follower);
    QVERIFY(e.master().empty());
    QVERIFY(!r.persist);
    QCOMPARE(e.rejectedCount(static_cast<Reject>(reason)), 1u);
    QCOMPARE(e.rejectedTotal(), 1u);
    QCOMPARE(r.rejected.size(), std::size_t(1));
    QCOMPARE(static_cast<int>(r.rejected[0].reason), reason);
    // A stale heartbeat or vote request is answered with our term (so a stale master learns it
    // is stale); everything else gets no answer.
    for (const auto& out : r.messages) {
      QCOMPARE(out.term, 5u);
      QVERIFY(!out.granted);
      QCOMPARE(out.to, from.toStdString());
    }
    if (static_cast<Reject>(reason) != Reject::StaleTerm) QVERIFY(r.messages.empty());
  }

  void garbageHeartbeatRoundIsIgnored() {
    // n1 becomes master of a single-voter cluster, then gets an ack for a round it never sent.
    Settings s = settings("n1");
    s.voters = {"n1"};
    Election e(s, HardState{}, false, 1, 0);
    e.setMembers({PeerInfo{"c1", true, true, 100}});
    e.setEligible(true, 0);
    e.tick(e.nextTick());
    QCOMPARE(e.role(), Role::Master);
    e.takeReady();
    Message m = msg(MsgType::HeartbeatResp, "c1", "n1", e.term());
    m.granted = true;
    m.round = 1u << 30;
    e.step(m, e.nextTick() - 1);
    QCOMPARE(e.rejectedCount(Reject::NotVoter), 1u);
    QCOMPARE(e.role(), Role::Master);
  }

  void voteIsPersistedWithItsAnswer() {
    Election e(settings("n1"), HardState{2, ""}, false, 1, 0);
    e.takeReady();
    Message v = msg(MsgType::Vote, "n2", "n1", 3);
    e.step(v, 10);
    Ready r = e.takeReady();
    QVERIFY(r.persist);
    QCOMPARE(*r.persist, (HardState{3, "n2"}));
    QCOMPARE(r.messages.size(), std::size_t(1));
    QCOMPARE(r.messages[0].type, MsgType::VoteResp);
    QVERIFY(r.messages[0].granted);
    // Same term, another candidate: refused, nothing new to persist.
    e.step(msg(MsgType::Vote, "n3", "n1", 3), 11);
    r = e.takeReady();
    QVERIFY(!r.persist);
    QCOMPARE(r.messages.size(), std::size_t(1));
    QVERIFY(!r.messages[0].granted);
  }

  void restartedVoterWaitsOneElectionTimeout() {
    Election e(settings("n1"), HardState{4, ""}, true, 1, 1000);
    e.step(msg(MsgType::Vote, "n2", "n1", 5), 1299);
    QCOMPARE(e.term(), 4u);  // not even the term is adopted
    Ready r = e.takeReady();
    QVERIFY(!r.persist);
    QCOMPARE(e.rejectedCount(Reject::InLease), 1u);
    e.step(msg(MsgType::Vote, "n2", "n1", 5), 1300);
    r = e.takeReady();
    QVERIFY(r.persist);
    QCOMPARE(*r.persist, (HardState{5, "n2"}));
  }

  void preVoteNeverChangesTerm() {
    Election e(settings("n1"), HardState{4, "n3"}, false, 1, 0);
    e.takeReady();
    e.step(msg(MsgType::PreVote, "n2", "n1", 1000), 10);
    Ready r = e.takeReady();
    QCOMPARE(e.term(), 4u);
    QVERIFY(!r.persist);
    QCOMPARE(r.messages.size(), std::size_t(1));
    QCOMPARE(r.messages[0].type, MsgType::PreVoteResp);
    QVERIFY(r.messages[0].granted);
    QCOMPARE(r.messages[0].term, 1000u);
  }

  void transferNeedsAMaster() {
    Election e(settings("n1"), HardState{}, false, 1, 0);
    QVERIFY(!e.transferLeadership(std::string(), 0));
    QVERIFY(!e.lastTransferError().empty());
  }

  // Random messages, from known and unknown senders, with random fields, into a running cluster.
  void fuzz() {
    Cluster c;
    for (const char* n : {"n1", "n2", "n3"}) c.add(NodeSpec{n, true, true, 100, false});
    c.add(NodeSpec{"c1", false, true, 500, false});
    c.start();
    std::mt19937_64 rng(42);
    const char* names[] = {"n1", "n2", "n3", "c1", "x", ""};
    for (int i = 0; i < 20000; ++i) {
      Message m;
      m.type = static_cast<MsgType>(static_cast<int>(rng() % 9) - 1);
      m.from = names[rng() % 6];
      m.to = names[rng() % 4];
      m.term = rng() % 4 == 0 ? rng() : rng() % 20;
      m.granted = rng() % 2;
      m.round = rng() % 3 == 0 ? rng() : rng() % 50;
      m.priority = static_cast<int>(rng());
      m.transfer = rng() % 2;
      c.inject(m);
      if (i % 10 == 0) c.advance();
    }
    std::uint64_t rejected = 0;
    for (auto& n : c.nodes) rejected += n.e->rejectedTotal();
    QVERIFY(rejected > 0);
  }
};

QTEST_GUILESS_MAIN(TestElectionInput)
#include "test_election_input.moc"
