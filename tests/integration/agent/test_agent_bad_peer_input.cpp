// Raw egressgw.v1.Peer/Send messages from a test client into a running 3-agent cluster: wrong
// protocol versions, strangers with huge terms, malformed field combinations. Every one is refused
// at the transport (Ack.accepted false with a reason) or ignored with a log line; no agent
// crashes, and the cluster keeps its master and its term.
#include "support/agent_procs.h"
#include "egw/version.h"

using namespace egwtest;

class TestAgentBadPeerInput : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;
  QString master_;
  std::uint64_t term_ = 0;

  AgentProc& master() { return c_->byName(master_); }
  AgentProc& follower() {
    for (auto& n : c_->nodes())
      if (n.name != master_) return n;
    qFatal("no follower");
  }

  static std::optional<pb::Ack> send(const AgentProc& to, const pb::ElectionMessage& m) {
    auto stub = pb::Peer::NewStub(grpc::CreateChannel(to.peerEndpoint().toStdString(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    pb::Ack ack;
    if (!stub->Send(&ctx, m, &ack).ok()) return std::nullopt;
    return ack;
  }

  pb::ElectionMessage message(pb::MessageType type, const QString& from, const AgentProc& to, std::uint64_t term) {
    pb::ElectionMessage m;
    m.set_type(type);
    m.set_from(from.toStdString());
    m.set_to(to.name.toStdString());
    m.set_term(term);
    m.set_protocol(egw::kProtocolVersion);
    m.set_from_endpoint((c_->spareHost() + QStringLiteral(":7400")).toStdString());
    return m;
  }

  // Every agent runs, all report the master and term from before.
  void verifyUndisturbed() {
    for (auto& n : c_->nodes()) QVERIFY2(n.running(), qPrintable(n.name + QStringLiteral(" died\n") + c_->logs()));
    std::uint64_t term = 0;
    QCOMPARE(c_->agreedMaster(&term), master_);
    QCOMPARE(term, term_);
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c_ = std::make_unique<AgentCluster>(dir_, 1);
    QVERIFY(c_->startAll());
    QTRY_VERIFY2_WITH_TIMEOUT(!(master_ = c_->agreedMaster(&term_)).isEmpty(), qPrintable(c_->logs()), 15000);
  }

  void wrongProtocolVersionIsRefused() {
    for (auto* to : {&master(), &follower()}) {
      for (std::uint32_t version : {egw::kProtocolVersion + 1, 0u, 0xffffffffu}) {
        auto m = message(pb::HEARTBEAT, master_, *to, term_ + 1000);
        m.set_protocol(version);
        auto ack = send(*to, m);
        QVERIFY(ack.has_value());
        QVERIFY(!ack->accepted());
        QVERIFY2(QString::fromStdString(ack->error()).contains(QStringLiteral("protocol")), ack->error().c_str());
        QVERIFY2(QString::fromStdString(ack->error()).contains(QString::number(version)), ack->error().c_str());
      }
    }
    verifyUndisturbed();
  }

  void addressingErrorsAreRefused() {
    auto& f = follower();
    struct Case {
      const char* what;
      std::function<void(pb::ElectionMessage&)> edit;
      QString error;
    };
    const std::vector<Case> cases = {
        {"no sender", [](auto& m) { m.clear_from(); }, QStringLiteral("sender")},
        {"sender name too long", [](auto& m) { m.set_from(std::string(64, 'a')); }, QStringLiteral("sender")},
        {"for another node", [](auto& m) { m.set_to("egress-9"); }, QStringLiteral("delivered to")},
        {"no receiver", [](auto& m) { m.clear_to(); }, QStringLiteral("delivered to")},
        {"oversized cluster view",
         [](auto& m) {
           for (int i = 0; i < 10001; ++i) m.add_cluster();
         },
         QStringLiteral("too large")},
    };
    for (const auto& k : cases) {
      auto m = message(pb::HEARTBEAT, master_, f, term_ + 1000);
      k.edit(m);
      auto ack = send(f, m);
      QVERIFY2(ack.has_value(), k.what);
      QVERIFY2(!ack->accepted(), k.what);
      QVERIFY2(QString::fromStdString(ack->error()).contains(k.error), (std::string(k.what) + ": " + ack->error()).c_str());
    }
    verifyUndisturbed();
  }

  void heartbeatFromStrangerWithHugeTermIsIgnored() {
    for (auto* to : {&follower(), &master()}) {
      auto m = message(pb::HEARTBEAT, QStringLiteral("intruder"), *to, std::uint64_t{1} << 40);
      // A cluster view naming the stranger master must not leak into anyone's view either.
      auto* fake = m.add_cluster();
      fake->set_name("intruder");
      fake->set_address("127.0.0.99");
      fake->set_role(pb::MASTER);
      auto ack = send(*to, m);
      QVERIFY(ack.has_value());  // queued or refused: either way it must change nothing
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(*to).contains(QStringLiteral("HEARTBEAT from unknown node intruder rejected")),
                                qPrintable(c_->log(*to)), 5000);
    }
    verifyUndisturbed();
  }

  void malformedFieldCombinationsAreIgnored() {
    auto& f = follower();
    auto& m0 = master();
    const QString other = [&] {
      for (auto& n : c_->nodes())
        if (n.name != master_ && n.name != f.name) return n.name;
      return QString();
    }();
    // Unknown or unspecified type from a voter's name.
    for (int type : {0, 99}) {
      auto m = message(static_cast<pb::MessageType>(type), other, f, term_ + 1000);
      QVERIFY(send(f, m).has_value());
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(f).contains(QStringLiteral("message of unknown type %1 from %2 rejected").arg(type).arg(other)),
                                qPrintable(c_->log(f)), 5000);
    }
    // A status report without a status, and one about somebody else.
    {
      auto m = message(pb::STATUS_REPORT, other, m0, term_);
      QVERIFY(send(m0, m).has_value());
      m.mutable_status()->set_name(master_.toStdString());
      m.mutable_status()->set_role(pb::MASTER);
      m.mutable_status()->set_term(std::uint64_t{1} << 40);
      QVERIFY(send(m0, m).has_value());
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(m0).count(QStringLiteral("status report from %1 rejected").arg(other)) >= 2,
                                qPrintable(c_->log(m0)), 5000);
    }
    // Term 0, and a term past the sane maximum (2^62), from a voter's name: malformed.
    for (std::uint64_t term : {std::uint64_t{0}, ~std::uint64_t{0}}) {
      auto m = message(pb::HEARTBEAT, other, f, term);
      QVERIFY(send(f, m).has_value());
    }
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(f).count(QStringLiteral("ignored Heartbeat from %1: malformed").arg(other)) >= 2,
                              qPrintable(c_->log(f)), 5000);
    // A heartbeat answer to the master for a round it has not sent yet: no lease from the future.
    {
      auto m = message(pb::HEARTBEAT_RESPONSE, other, m0, term_);
      m.set_granted(true);
      m.set_round(std::uint64_t{1} << 50);
      QVERIFY(send(m0, m).has_value());
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(m0).contains(QStringLiteral("ignored HeartbeatResp from %1: malformed").arg(other)),
                                qPrintable(c_->log(m0)), 5000);
    }
    // A granted pre-vote answer of a higher term is malformed (grants carry the term asked for).
    {
      auto m = message(pb::PRE_VOTE_RESPONSE, other, m0, term_ + 5);
      m.set_granted(true);
      QVERIFY(send(m0, m).has_value());
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(m0).contains(QStringLiteral("ignored PreVoteResp from %1: malformed").arg(other)),
                                qPrintable(c_->log(m0)), 5000);
    }
    // A message claiming to come from the receiver itself.
    {
      auto m = message(pb::HEARTBEAT, f.name, f, term_ + 1000);
      QVERIFY(send(f, m).has_value());
      QTRY_VERIFY2_WITH_TIMEOUT(c_->log(f).contains(QStringLiteral("ignored Heartbeat from %1: self-addressed").arg(f.name)),
                                qPrintable(c_->log(f)), 5000);
    }
    verifyUndisturbed();
  }

  // A stranger's vote request makes the agent remember where to answer; that must not make the
  // stranger a node whose heartbeats (any term) are followed.
  void voteRequestDoesNotMakeAStrangerFollowable() {
    auto& f = follower();
    const auto stranger = QStringLiteral("intruder-2");
    const auto inLease = QStringLiteral("ignored PreVote from %1: in-lease").arg(stranger);
    // Repeat the pre-vote until the election knows the sender (then it is refused because the
    // master is live, rather than as an unknown sender); give up after 3 s if it never does.
    const bool registered = QTest::qWaitFor(
        [&] {
          (void)send(f, message(pb::PRE_VOTE, stranger, f, term_ + 1));
          return c_->log(f).contains(inLease);
        },
        3000);
    QVERIFY(send(f, message(pb::HEARTBEAT, stranger, f, std::uint64_t{1} << 40)).has_value());
    const auto followed = QStringLiteral("following master %1").arg(stranger);
    QTRY_VERIFY2_WITH_TIMEOUT(c_->log(f).contains(QStringLiteral("HEARTBEAT from unknown node %1 rejected").arg(stranger)) ||
                                  c_->log(f).contains(QStringLiteral("ignored Heartbeat from %1").arg(stranger)) ||
                                  c_->log(f).contains(followed),
                              qPrintable(c_->log(f)), 5000);
    // A (pre-)vote requester is not a member: its heartbeats must not be followed.
    QVERIFY2(!c_->log(f).contains(followed),
             qPrintable(f.name + QStringLiteral(" followed a stranger that only sent a pre-vote (known to the election: %1)")
                                     .arg(registered ? QStringLiteral("yes") : QStringLiteral("no"))));
    verifyUndisturbed();
  }

  void cleanupTestCase() { c_.reset(); }
};

QTEST_GUILESS_MAIN(TestAgentBadPeerInput)
#include "test_agent_bad_peer_input.moc"
