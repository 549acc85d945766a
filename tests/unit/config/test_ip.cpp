#include <QTest>

#include "egw/ip.h"

using namespace egw;

class TestIp : public QObject {
  Q_OBJECT
 private slots:
  void addresses() {
    QCOMPARE(IpAddress::parse("10.0.0.1")->str(), std::string("10.0.0.1"));
    QCOMPARE(IpAddress::parse("2001:db8::1")->str(), std::string("2001:db8::1"));
    QVERIFY(!IpAddress::parse("10.0.0"));
    QVERIFY(!IpAddress::parse("10.0.0.256"));
    QVERIFY(!IpAddress::parse(""));
    QVERIFY(!IpAddress::parse("::g"));
    QCOMPARE(IpAddress::v4(0x0A000001).str(), std::string("10.0.0.1"));
    QCOMPARE(IpAddress::parse("10.0.0.1")->v4HostOrder(), 0x0A000001u);
    QVERIFY(*IpAddress::parse("10.0.0.1") < *IpAddress::parse("10.0.0.2"));
  }
  void cidrs() {
    auto c = Cidr::parse("10.244.0.0/16");
    QVERIFY(c);
    QVERIFY(c->contains(*IpAddress::parse("10.244.1.10")));
    QVERIFY(!c->contains(*IpAddress::parse("10.245.0.1")));
    QVERIFY(!c->contains(*IpAddress::parse("::1")));
    QVERIFY(!Cidr::parse("10.244.1.0/16"));
    QCOMPARE(Cidr::parse("10.244.1.0/16", true)->network().str(), std::string("10.244.0.0/16"));
    QCOMPARE(Cidr::parse("1.2.3.4")->prefix(), 32);
    QVERIFY(!Cidr::parse("1.2.3.4/"));
    QVERIFY(!Cidr::parse("1.2.3.4/33"));
    QVERIFY(!Cidr::parse("1.2.3.4/-1"));
    QVERIFY(Cidr::parse("2001:db8::/32"));
    QVERIFY(!Cidr::parse("2001:db8::1/32"));
    QVERIFY(Cidr::parse("0.0.0.0/0")->contains(*IpAddress::parse("8.8.8.8")));
    QVERIFY(Cidr::parse("10.0.0.0/8")->overlaps(*Cidr::parse("10.1.0.0/16")));
    QVERIFY(!Cidr::parse("10.0.0.0/16")->overlaps(*Cidr::parse("10.1.0.0/16")));
  }
  void endpoints() {
    auto e = Endpoint::parse("10.0.0.11:7400");
    QVERIFY(e);
    QCOMPARE(e->host, std::string("10.0.0.11"));
    QCOMPARE(int(e->port), 7400);
    QCOMPARE(Endpoint::parse("[::1]:80")->str(), std::string("[::1]:80"));
    QVERIFY(Endpoint::parse("[::1]:80")->isLoopback());
    QVERIFY(Endpoint::parse("localhost:1")->isLoopback());
    QVERIFY(!Endpoint::parse("0.0.0.0:1")->isLoopback());
    QVERIFY(!Endpoint::parse("10.0.0.1"));
    QVERIFY(!Endpoint::parse("10.0.0.1:0"));
    QVERIFY(Endpoint::parse("10.0.0.1:0", true));
    QVERIFY(!Endpoint::parse("10.0.0.1:65536"));
    QVERIFY(!Endpoint::parse("::1:80"));
    QVERIFY(!Endpoint::parse(":80"));
    QVERIFY(!Endpoint::parse("a b:80"));
  }
};

QTEST_GUILESS_MAIN(TestIp)
#include "test_ip.moc"
