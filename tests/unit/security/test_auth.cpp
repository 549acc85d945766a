// Roles from certificate subjects and who may call what (auth.h), without sockets: the subject
// strings are the ones gRPC reports (x509_subject, RFC 2253).
#include <QTest>

#include "agent/security/auth.h"

using namespace egw::auth;

namespace {
QString msg(const grpc::Status& s) { return QString::fromStdString(s.error_message()); }
}  // namespace

class TestAuth : public QObject {
  Q_OBJECT
 private slots:
  void parsesRfc2253() {
    auto s = parseSubject("CN=egress-1,OU=node,O=egress-gateway");
    QVERIFY(s.has_value());
    QCOMPARE(s->commonName, std::string("egress-1"));
    QCOMPARE(s->orgUnits, std::vector<std::string>{"node"});
  }
  void unescapes() {
    auto s = parseSubject(R"(CN=Smith\, John\+ops,OU=operator+OU=team\3Dblue,O=ACME \"EU\")");
    QVERIFY(s.has_value());
    QCOMPARE(s->commonName, std::string("Smith, John+ops"));
    QCOMPARE(s->orgUnits, (std::vector<std::string>{"operator", "team=blue"}));
    auto utf8 = parseSubject(R"(CN=J\C3\B6rg,OU=viewer)");
    QVERIFY(utf8.has_value());
    QCOMPARE(utf8->commonName, std::string("J\xc3\xb6rg"));
  }
  void oidsCount() {
    auto s = parseSubject("2.5.4.3=egress-2,2.5.4.11=node");
    QVERIFY(s.has_value());
    QCOMPARE(s->commonName, std::string("egress-2"));
    QCOMPARE(roleOf(*s).value(), Role::Node);
  }
  void rejectsMalformed() {
    QVERIFY(!parseSubject("CN").has_value());
    QVERIFY(!parseSubject("CN=a,").has_value());
    QVERIFY(!parseSubject("CN=a\\").has_value());
    QVERIFY(!parseSubject("=a").has_value());
  }
  void roleFromOu() {
    QCOMPARE(roleOf(*parseSubject("CN=a,OU=operator,O=x")).value(), Role::Operator);
    QCOMPARE(roleOf(*parseSubject("CN=a,OU=viewer")).value(), Role::Viewer);
    // Unrelated OUs are ignored; the same role twice is one role.
    QCOMPARE(roleOf(*parseSubject("CN=a,OU=sre,OU=viewer,OU=viewer")).value(), Role::Viewer);
    auto none = roleOf(*parseSubject("CN=a,OU=sre,O=x"));
    QVERIFY(!none.ok());
    QVERIFY(QString::fromStdString(none.error()).contains(QStringLiteral("OU=node, OU=observer, OU=operator or OU=viewer")));
    QCOMPARE(roleOf(*parseSubject("CN=observer,OU=observer,O=egress-gateway")).value(), Role::Observer);
    auto two = roleOf(*parseSubject("CN=a,OU=viewer,OU=operator"));
    QVERIFY(!two.ok());
    QVERIFY2(QString::fromStdString(two.error()).contains(QStringLiteral("two roles")), two.error().c_str());
    // The role is the OU, not a CN that looks like one.
    QVERIFY(!roleOf(*parseSubject("CN=operator,O=x")).ok());
  }
  void identityKeys() {
    auto plain = identityFrom("insecure", "", "ipv4:10.0.0.5:40000");
    QVERIFY(!plain.certified);
    QCOMPARE(plain.key(), std::string("ipv4:10.0.0.5"));
    QCOMPARE(plain.describe(), std::string("ipv4:10.0.0.5"));
    // The same person from two addresses is one client for the limits.
    auto a = identityFrom("ssl", "CN=alice,OU=operator", "ipv4:10.0.0.5:1");
    auto b = identityFrom("ssl", "CN=alice,OU=operator", "ipv6:[fd00::7]:2");
    QCOMPARE(a.key(), b.key());
    QCOMPARE(a.key(), std::string("cn:alice"));
    QCOMPARE(a.describe(), std::string("operator certificate CN=alice"));
    // The observer certificate is every worker's: it counts per address, not as one client.
    auto w1 = identityFrom("ssl", "CN=observer,OU=observer", "ipv4:10.0.1.7:1");
    auto w2 = identityFrom("ssl", "CN=observer,OU=observer", "ipv4:10.0.1.8:1");
    QVERIFY(w1.key() != w2.key());
    QCOMPARE(w1.key(), std::string("cn:observer@ipv4:10.0.1.7"));
    QCOMPARE(addressOf("ipv6:[::1]:51234"), std::string("ipv6:[::1]"));
    QCOMPARE(addressOf("unix:/run/x.sock"), std::string("unix:/run/x.sock"));
  }

  // Who may call what: one call per row, the status it gets and what its message must say.
  void authorize_data() {
    QTest::addColumn<QString>("transport");  // "ssl" or "insecure", as gRPC reports it; "ssl": the
                                             // API listener has tls
    QTest::addColumn<QString>("subject");    // the client certificate's subject; empty: none
    QTest::addColumn<QString>("address");    // the caller's address, as gRPC reports it
    QTest::addColumn<QString>("call");       // "read ACTION", "mutate ACTION" (API), "peer NODE" (a
                                             // vote), "report NODE" (an observer's own report)
    QTest::addColumn<int>("code");           // grpc::StatusCode
    QTest::addColumn<QStringList>("says");   // fragments of the message; "=TEXT": the whole message

    const QString ssl = QStringLiteral("ssl"), insecure = QStringLiteral("insecure"), client = QStringLiteral("ipv4:10.0.0.5:40000");
    const QString viewer = QStringLiteral("CN=bob,OU=viewer,O=egress-gateway"), op = QStringLiteral("CN=alice,OU=operator,O=egress-gateway"),
                  node = QStringLiteral("CN=egress-1,OU=node,O=egress-gateway"), node2 = QStringLiteral("CN=egress-2,OU=node,O=egress-gateway");
    auto row = [](const char* tag, const QString& transport, const QString& subject, const QString& address, const char* call,
                  grpc::StatusCode code, const QStringList& says = {}) {
      QTest::newRow(tag) << transport << subject << address << QString::fromUtf8(call) << int(code) << says;
    };
    // The API: every role reads, only an operator changes anything.
    row("viewer reads", ssl, viewer, client, "read Watch", grpc::StatusCode::OK);
    row("operator reads", ssl, op, client, "read Watch", grpc::StatusCode::OK);
    row("node reads", ssl, node, client, "read Watch", grpc::StatusCode::OK);
    row("operator mutates", ssl, op, client, "mutate handover", grpc::StatusCode::OK);
    row("viewer mutates", ssl, viewer, client, "mutate handover", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("=handover needs an operator certificate; this one is a viewer (CN=bob)")});
    row("node mutates", ssl, node, client, "mutate enable candidacy of egress-4", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("this one is a node (CN=egress-1)")});
    row("no role reads", ssl, QStringLiteral("CN=mallory,O=egress-gateway"), client, "read Watch", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("CN=mallory"), QStringLiteral("has no role")});
    // Without tls there are no roles (the listener is loopback-only or explicitly insecure).
    row("no tls mutates", insecure, {}, QStringLiteral("ipv4:127.0.0.1:1"), "mutate handover", grpc::StatusCode::OK);
    // With tls, a call without a certificate is never allowed (defence in depth: gRPC already
    // refuses the handshake).
    row("tls without certificate", ssl, {}, QStringLiteral("ipv4:127.0.0.1:1"), "read Watch", grpc::StatusCode::UNAUTHENTICATED);
    // The peer service: a node's own node certificate only.
    row("peer own name", ssl, node2, client, "peer egress-2", grpc::StatusCode::OK);
    row("peer another node's name", ssl, node2, client, "peer egress-1", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("CN=egress-2"), QStringLiteral("'egress-1'")});
    row("peer with operator certificate", ssl, QStringLiteral("CN=egress-1,OU=operator"), client, "peer egress-1",
        grpc::StatusCode::PERMISSION_DENIED, {QStringLiteral("need a node certificate; this one is an operator (CN=egress-1)")});
    row("peer without tls", insecure, {}, QStringLiteral("ipv4:1.2.3.4:5"), "peer egress-1", grpc::StatusCode::UNAUTHENTICATED);
    // The workers' shared observer certificate: its own report under any name, nothing else.
    const QString obs = QStringLiteral("CN=observer,OU=observer,O=egress-gateway");
    row("observer reports", ssl, obs, client, "report worker-7", grpc::StatusCode::OK);
    row("observer votes", ssl, obs, client, "peer worker-7", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("=VOTE from 'worker-7' needs a node certificate; this one is an observer (CN=observer), which may "
                        "only report an observer's own status (no vote, no candidacy, no handover)")});
    row("observer reads", ssl, obs, client, "read Watch", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("=Watch needs an operator or viewer certificate; this one is an observer (CN=observer), which only "
                        "reports a worker's own status to the voters")});
    row("observer hands over", ssl, obs, client, "mutate handover", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("observer")});
    // A node certificate still binds the name, report or not.
    row("node reports for another", ssl, node2, client, "report worker-7", grpc::StatusCode::PERMISSION_DENIED,
        {QStringLiteral("CN=egress-2")});
  }

  void authorize() {
    QFETCH(QString, transport);
    QFETCH(QString, subject);
    QFETCH(QString, address);
    QFETCH(QString, call);
    QFETCH(int, code);
    QFETCH(QStringList, says);
    const auto who = identityFrom(transport.toStdString(), subject.toStdString(), address.toStdString());
    const auto kind = call.section(QLatin1Char(' '), 0, 0);
    const auto what = call.section(QLatin1Char(' '), 1);
    const bool tls = transport == QLatin1String("ssl");
    const bool report = kind == QLatin1String("report");
    const auto status = kind == QLatin1String("peer") || report
                            ? authorizePeer(who, PeerClaim{what.toStdString(), report, report ? "STATUS_REPORT" : "VOTE"})
                            : authorizeApi(who, kind == QLatin1String("read") ? ApiAccess::Read : ApiAccess::Mutate, what.toStdString(), tls);
    QCOMPARE(int(status.error_code()), code);
    for (const auto& s : says) {
      if (s.startsWith(QLatin1Char('='))) QCOMPARE(msg(status), s.mid(1));
      else QVERIFY2(msg(status).contains(s), qPrintable(msg(status)));
    }
  }
};

QTEST_GUILESS_MAIN(TestAuth)
#include "test_auth.moc"
