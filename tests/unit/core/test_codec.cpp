// The wire codec: every election message type and field round-trips, unknown types are refused,
// and a received envelope is checked (protocol, sender, addressee, size) with a message that
// says what met what.
#include <QTest>

#include "agent/core/codec.h"

namespace pb = egressgw::v1;
using egw::election::Message;
using egw::election::MsgType;

class TestCodec : public QObject {
  Q_OBJECT

 private slots:
  void everyTypeRoundTrips() {
    for (int i = 0; i <= static_cast<int>(MsgType::TimeoutNow); ++i) {
      Message m;
      m.type = static_cast<MsgType>(i);
      m.term = 7;
      m.granted = true;
      m.round = 42;
      m.priority = 150;
      m.transfer = true;
      auto wire = egw::codec::toWire(m);
      wire.set_from("egress-1");
      wire.set_to("egress-2");
      auto back = egw::codec::fromWire(wire);
      QVERIFY(back.has_value());
      QCOMPARE(back->type, m.type);
      QCOMPARE(back->term, 7u);
      QVERIFY(back->granted);
      QCOMPARE(back->round, 42u);
      QCOMPARE(back->priority, 150);
      QVERIFY(back->transfer);
      QCOMPARE(QString::fromStdString(back->from), QStringLiteral("egress-1"));
      QCOMPARE(QString::fromStdString(back->to), QStringLiteral("egress-2"));
    }
  }

  void statusReportsAndUnknownTypesAreNotElectionMessages() {
    pb::ElectionMessage m;
    m.set_type(pb::STATUS_REPORT);
    QVERIFY(!egw::codec::fromWire(m));
    m.set_type(static_cast<pb::MessageType>(99));
    QVERIFY(!egw::codec::fromWire(m));
  }

  void roles() {
    using egw::election::Role;
    QCOMPARE(egw::codec::toProto(Role::Follower, false), pb::FOLLOWER);
    QCOMPARE(egw::codec::toProto(Role::Follower, true), pb::OBSERVER);
    QCOMPARE(egw::codec::toProto(Role::PreCandidate, false), pb::PRE_CANDIDATE);
    QCOMPARE(egw::codec::toProto(Role::Candidate, false), pb::CANDIDATE);
    QCOMPARE(egw::codec::toProto(Role::Master, false), pb::MASTER);
  }

  void envelope_data() {
    QTest::addColumn<quint32>("protocol");
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("to");
    QTest::addColumn<int>("clusterSize");
    QTest::addColumn<QString>("refusal");
    QTest::newRow("ok") << 1u << "egress-2" << "egress-1" << 3 << "";
    QTest::newRow("other protocol") << 2u << "egress-2" << "egress-1" << 0
                                    << "egress-2 speaks peer protocol 2, egress-1 speaks 1: run one egress-agent protocol version "
                                       "in the cluster (docs/membership.md)";
    QTest::newRow("no sender") << 1u << "" << "egress-1" << 0 << "missing or invalid sender name";
    QTest::newRow("long sender") << 1u << QString(64, QLatin1Char('a')) << "egress-1" << 0 << "missing or invalid sender name";
    QTest::newRow("wrong addressee") << 1u << "egress-2" << "egress-3" << 0 << "message for egress-3 delivered to egress-1";
    QTest::newRow("too large") << 1u << "egress-2" << "egress-1" << 10001 << "message too large";
  }
  void envelope() {
    QFETCH(quint32, protocol);
    QFETCH(QString, from);
    QFETCH(QString, to);
    QFETCH(int, clusterSize);
    QFETCH(QString, refusal);
    pb::ElectionMessage m;
    m.set_protocol(protocol);
    m.set_from(from.toStdString());
    m.set_to(to.toStdString());
    for (int i = 0; i < clusterSize; ++i) m.add_cluster();
    QCOMPARE(QString::fromStdString(egw::codec::checkEnvelope(m, "egress-1", 1)), refusal);
  }
};

QTEST_GUILESS_MAIN(TestCodec)
#include "test_codec.moc"
