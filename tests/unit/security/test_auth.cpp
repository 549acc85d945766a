// Roles from certificate subjects and who may call what (auth.h), without sockets: the subject
// strings are the ones gRPC reports (x509_subject, RFC 2253).
#include <QTest>

#include "io/auth.h"

using namespace egw::auth;

namespace {
Identity cert(const std::string& subject) { return identityFrom("ssl", subject, "ipv4:10.0.0.5:40000"); }
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
    QVERIFY(QString::fromStdString(none.error()).contains(QStringLiteral("OU=node, OU=operator or OU=viewer")));
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
    QCOMPARE(addressOf("ipv6:[::1]:51234"), std::string("ipv6:[::1]"));
    QCOMPARE(addressOf("unix:/run/x.sock"), std::string("unix:/run/x.sock"));
  }

  void apiRoles() {
    const auto viewer = cert("CN=bob,OU=viewer,O=egress-gateway");
    const auto op = cert("CN=alice,OU=operator,O=egress-gateway");
    const auto node = cert("CN=egress-1,OU=node,O=egress-gateway");
    const auto roleless = cert("CN=mallory,O=egress-gateway");
    for (const auto* who : {&viewer, &op, &node}) QVERIFY(authorizeApi(*who, ApiAccess::Read, "Watch", true).ok());
    QVERIFY(authorizeApi(op, ApiAccess::Mutate, "handover", true).ok());
    auto denied = authorizeApi(viewer, ApiAccess::Mutate, "handover", true);
    QCOMPARE(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QCOMPARE(msg(denied), QStringLiteral("handover needs an operator certificate; this one is a viewer (CN=bob)"));
    auto byNode = authorizeApi(node, ApiAccess::Mutate, "enable candidacy of egress-4", true);
    QCOMPARE(byNode.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(msg(byNode).contains(QStringLiteral("this one is a node (CN=egress-1)")), qPrintable(msg(byNode)));
    auto noRole = authorizeApi(roleless, ApiAccess::Read, "Watch", true);
    QCOMPARE(noRole.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(msg(noRole).contains(QStringLiteral("CN=mallory")) && msg(noRole).contains(QStringLiteral("has no role")),
             qPrintable(msg(noRole)));
    // Without tls there are no roles (the listener is loopback-only or explicitly insecure).
    QVERIFY(authorizeApi(identityFrom("insecure", "", "ipv4:127.0.0.1:1"), ApiAccess::Mutate, "handover", false).ok());
    // With tls, a call without a certificate is never allowed (defence in depth: gRPC already
    // refuses the handshake).
    QCOMPARE(authorizeApi(identityFrom("ssl", "", "ipv4:127.0.0.1:1"), ApiAccess::Read, "Watch", true).error_code(),
             grpc::StatusCode::UNAUTHENTICATED);
  }
  void peerNeedsItsOwnNodeCertificate() {
    const auto node2 = cert("CN=egress-2,OU=node,O=egress-gateway");
    QVERIFY(authorizePeer(node2, "egress-2").ok());
    auto spoof = authorizePeer(node2, "egress-1");
    QCOMPARE(spoof.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(msg(spoof).contains(QStringLiteral("CN=egress-2")) && msg(spoof).contains(QStringLiteral("'egress-1'")),
             qPrintable(msg(spoof)));
    auto op = authorizePeer(cert("CN=egress-1,OU=operator"), "egress-1");
    QCOMPARE(op.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QVERIFY2(msg(op).contains(QStringLiteral("need a node certificate; this one is an operator (CN=egress-1)")),
             qPrintable(msg(op)));
    QCOMPARE(authorizePeer(identityFrom("insecure", "", "ipv4:1.2.3.4:5"), "egress-1").error_code(),
             grpc::StatusCode::UNAUTHENTICATED);
  }
};

QTEST_GUILESS_MAIN(TestAuth)
#include "test_auth.moc"
