// Membership protocol 2 with real agent processes (docs/membership.md): 3 voters and 20 observers
// on loopback, with mutual TLS. All 20 observers run from one shared config file and one shared
// observer certificate (OU=observer); their names and addresses come from the command line.
// Every observer learns the master from its feed voter, serves only its own status, and follows a
// new master after the master's SIGKILL; a voter that is not master serves the whole cluster
// (relayed through the feeds and the master's heartbeats). The observer certificate cannot vote,
// stand or hand over, and a peer of another protocol version is refused by name.
#include <QTest>

#include <set>

#include "support/agent_procs.h"

using egwtest::AgentCluster;
using egwtest::fetchState;
namespace pb = egressgw::v1;

namespace {
constexpr int kObservers = 20;
}

class TestAgentObservers : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

  // The master every running agent reports, observers included, once all 23 agree and it is not
  // `not_`: asked once per 200 ms (one Watch per agent each time), for at most 30 s.
  QString waitAgreed(const QString& not_ = {}) {
    for (int i = 0; i < 150; ++i) {
      const QString m = c_->agreedMaster();
      if (!m.isEmpty() && m != not_) return m;
      QTest::qWait(200);
    }
    // Who disagrees, for the failure message.
    for (auto& n : c_->nodes()) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(2000));
      auto reader = n.stub->Watch(&ctx, pb::WatchRequest{});
      pb::WatchUpdate u;
      const bool got = reader->Read(&u);
      ctx.TryCancel();
      auto status = reader->Finish();
      qWarning("%s: %s", qPrintable(n.name),
               got ? (u.snapshot().master().empty() ? "no master" : u.snapshot().master().c_str())
                   : ("no answer: " + status.error_message()).c_str());
      if (!got) {
        qWarning("running %d, log: %s", n.running(), qPrintable(c_->log(n).right(3000)));
        auto fresh = c_->apiStub(n);
        auto again = fetchState(*fresh);
        qWarning("a fresh channel: %s", again ? "answers" : "no answer either");
      }
    }
    return {};
  }

 private slots:
  // A peer message as the holder of the workers' observer certificate sends it, to voter `to`.
  grpc::Status sendAsObserver(const QString& to, pb::ElectionMessage m, pb::Ack* ack) {
    auto& voter = c_->byName(to);
    auto stub = pb::Peer::NewStub(egwtest::tlsChannel(voter.peerEndpoint().toStdString(),
                                                      c_->certDir(QStringLiteral("observer")), to.toStdString()));
    m.set_to(to.toStdString());
    if (m.protocol() == 0) m.set_protocol(2);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return stub->Send(&ctx, m, ack);
  }
  static pb::ElectionMessage observerReport(const std::string& from) {
    pb::ElectionMessage m;
    m.set_type(pb::STATUS_REPORT);
    m.set_from(from);
    m.set_from_endpoint("127.0.0.1:1");
    auto* s = m.mutable_status();
    s->set_name(from);
    s->set_address("127.0.0.1");
    s->set_role(pb::OBSERVER);
    s->set_candidacy(pb::CANDIDACY_NONE);
    s->set_protocol(2);
    return m;
  }

  void init() {
    c_ = std::make_unique<AgentCluster>(dir_, 5);
    QVERIFY(c_->enableTls());
    c_->shareObserverConfig(true);
    for (int i = 1; i <= kObservers; ++i) c_->addObserver(QStringLiteral("worker-%1").arg(i), 10 + i);
    QVERIFY(c_->startAll());
  }
  void cleanup() {
    if (QTest::currentTestFailed()) qWarning("%s", qPrintable(c_->summary()));
    c_.reset();
  }

  void observersFollowTheMasterAndItsSuccessor() {
    const QString first = waitAgreed();
    QVERIFY(!first.isEmpty());
    // One config file for all 20, each told its name and address on the command line.
    for (int i = 1; i <= kObservers; ++i)
      QCOMPARE(c_->byName(QStringLiteral("worker-%1").arg(i)).config, dir_.filePath(QStringLiteral("observers.yaml")));

    // An observer has no view of the others: it serves itself, and the master it follows.
    auto& w1 = c_->byName(QStringLiteral("worker-1"));
    auto s = fetchState(*w1.stub);
    QVERIFY(s);
    QCOMPARE(QString::fromStdString(s->master()), first);
    QCOMPARE(s->nodes_size(), 1);
    QCOMPARE(s->nodes(0).role(), egressgw::v1::OBSERVER);

    // A voter that is not master serves all 23 nodes, relayed by the feeds and the master.
    auto& other = c_->byName(first == QStringLiteral("egress-1") ? QStringLiteral("egress-2") : QStringLiteral("egress-1"));
    auto names = [&] {
      std::set<std::string> out;
      if (auto st = fetchState(*other.stub))
        for (const auto& n : st->nodes()) out.insert(n.name());
      return out.size();
    };
    QTRY_COMPARE_WITH_TIMEOUT(names(), std::size_t(3 + kObservers), 30'000);

    c_->kill9(c_->byName(first));
    const QString second = waitAgreed(first);
    QVERIFY(!second.isEmpty());
    for (int i = 1; i <= kObservers; ++i) {
      auto st = fetchState(*c_->byName(QStringLiteral("worker-%1").arg(i)).stub);
      QVERIFY(st);
      QCOMPARE(QString::fromStdString(st->master()), second);
    }
  }

  void observerCertificateCannotVoteStandOrHandOver() {
    std::uint64_t term = 0;
    const QString master = waitAgreed();
    QVERIFY(!master.isEmpty());
    QVERIFY(!c_->agreedMaster(&term).isEmpty());
    const QString voter = master == QStringLiteral("egress-1") ? QStringLiteral("egress-2") : QStringLiteral("egress-1");

    // What an observer may do: report its own status (accepted).
    pb::Ack ack;
    auto st = sendAsObserver(voter, observerReport("worker-1"), &ack);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY2(ack.accepted(), ack.error().c_str());

    // Vote, campaign, lead or take over: refused by the certificate's role, whatever the name.
    for (auto type : {pb::VOTE, pb::PRE_VOTE, pb::HEARTBEAT, pb::TIMEOUT_NOW, pb::VOTE_RESPONSE, pb::MASTER_UPDATE}) {
      pb::ElectionMessage m;
      m.set_type(type);
      m.set_from("worker-1");
      m.set_term(term + 100);
      m.set_granted(true);
      st = sendAsObserver(voter, m, &ack);
      QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
      QVERIFY2(QString::fromStdString(st.error_message()).contains(QStringLiteral("needs a node certificate")),
               st.error_message().c_str());
    }
    // Stand: a report as a candidate, or with someone else's events or view.
    auto stand = observerReport("worker-1");
    stand.mutable_status()->set_role(pb::CANDIDATE);
    stand.mutable_status()->set_candidacy(pb::CANDIDACY_ENABLED);
    QCOMPARE(sendAsObserver(voter, stand, &ack).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    // Without a candidacy the cluster view would not count it as an observer either.
    auto unsaid = observerReport("worker-1");
    unsaid.mutable_status()->set_candidacy(pb::CANDIDACY_UNSPECIFIED);
    QCOMPARE(sendAsObserver(voter, unsaid, &ack).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    auto relay = observerReport("worker-1");
    relay.add_relayed()->set_name("worker-2");
    QCOMPARE(sendAsObserver(voter, relay, &ack).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    auto foreignEvent = observerReport("worker-1");
    foreignEvent.add_events()->set_origin(master.toStdString());
    QCOMPARE(sendAsObserver(voter, foreignEvent, &ack).error_code(), grpc::StatusCode::PERMISSION_DENIED);
    // Speak for a voter: the shared certificate names nobody, so a voter's name is refused.
    st = sendAsObserver(voter, observerReport(master.toStdString()), &ack);
    QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(QString::fromStdString(st.error_message()).contains(QStringLiteral("is a voter or a candidate")),
             st.error_message().c_str());

    // Hand over (and even read) through the Cluster API: refused.
    auto api = pb::Cluster::NewStub(egwtest::tlsChannel(c_->byName(voter).apiEndpoint().toStdString(),
                                                        c_->certDir(QStringLiteral("observer")), voter.toStdString()));
    {
      grpc::ClientContext ctx;
      pb::HandoverRequest req;
      req.set_to(voter.toStdString());
      pb::HandoverResponse resp;
      st = api->Handover(&ctx, req, &resp);
      QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
      QVERIFY2(QString::fromStdString(st.error_message()).contains(QStringLiteral("observer")), st.error_message().c_str());
    }

    // Nothing moved: the same master in the same term.
    std::uint64_t after = 0;
    QCOMPARE(c_->agreedMaster(&after), master);
    QCOMPARE(after, term);
  }

  void otherProtocolIsRefusedByName() {
    QVERIFY(!waitAgreed().isEmpty());
    auto old = observerReport("worker-old");
    old.set_protocol(1);
    pb::Ack ack;
    auto st = sendAsObserver(QStringLiteral("egress-1"), old, &ack);
    QVERIFY2(st.ok(), st.error_message().c_str());
    QVERIFY(!ack.accepted());
    QCOMPARE(QString::fromStdString(ack.error()),
             QStringLiteral("worker-old speaks peer protocol 1, egress-1 speaks 2: run one egress-agent protocol "
                            "version in the cluster (docs/membership.md)"));
    // The voter says it too, with the sender's name.
    QTRY_VERIFY_WITH_TIMEOUT(c_->log(c_->byName(QStringLiteral("egress-1")))
                                 .contains(QStringLiteral("refused STATUS_REPORT from 'worker-old'")),
                             10'000);
  }
};

QTEST_GUILESS_MAIN(TestAgentObservers)
#include "test_agent_observers.moc"
