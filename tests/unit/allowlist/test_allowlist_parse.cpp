// The allowlist reader over a table of good and bad CSV / text inputs: every entry with its line,
// every bad row with its line and words, warnings for duplicates.
#include <QTest>

#include "egw/allowlist.h"

using namespace egw;

Q_DECLARE_METATYPE(egw::AllowlistFormat)

namespace {

// "10.0.0.1@3" or "10.0.0.1@3#comment"
QStringList describe(const Allowlist& a) {
  QStringList out;
  for (const auto& e : a.entries) {
    QString s = QString::fromStdString(e.str()) + QLatin1Char('@') + QString::number(e.line);
    if (!e.comment.empty()) s += QLatin1Char('#') + QString::fromStdString(e.comment);
    out << s;
  }
  return out;
}

QStringList notes(const std::vector<LineNote>& v) {
  QStringList out;
  for (const auto& n : v) out << QString::fromStdString(n.str());
  return out;
}

QString s(const char* text) { return QString::fromUtf8(text); }

}  // namespace

class TestAllowlistParse : public QObject {
  Q_OBJECT

 private slots:
  void good_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<egw::AllowlistFormat>("forced");
    QTest::addColumn<egw::AllowlistFormat>("format");  // detected/used
    QTest::addColumn<QStringList>("entries");
    QTest::addColumn<QStringList>("warnings");
    QTest::addColumn<bool>("header");
    const auto A = AllowlistFormat::Auto, C = AllowlistFormat::Csv, T = AllowlistFormat::Text;
    using L = QStringList;

    QTest::newRow("text: IPs and CIDRs") << QByteArray("10.0.0.1\n10.1.0.0/16\n") << A << T
                                         << L{s("10.0.0.1@1"), s("10.1.0.0/16@2")} << L{} << false;
    QTest::newRow("text: comments, blank lines, whitespace")
        << QByteArray("# partner allowlist\n\n10.0.0.1   # egress-1\n   \n\t10.0.0.2\t\n#10.0.0.3\n") << A << T
        << L{s("10.0.0.1@3#egress-1"), s("10.0.0.2@5")} << L{} << false;
    QTest::newRow("text: CRLF") << QByteArray("10.0.0.1\r\n10.0.0.2 # b\r\n") << A << T
                                << L{s("10.0.0.1@1"), s("10.0.0.2@2#b")} << L{} << false;
    QTest::newRow("text: BOM, no final newline") << QByteArray("\xEF\xBB\xBF" "10.0.0.1\n10.0.0.2") << A << T
                                                << L{s("10.0.0.1@1"), s("10.0.0.2@2")} << L{} << false;
    QTest::newRow("text: IPv6") << QByteArray("2001:db8::7\n2001:db8:1::/48\n::ffff:10.0.0.1\n") << A << T
                                << L{s("2001:db8::7@1"), s("2001:db8:1::/48@2"), s("::ffff:10.0.0.1@3")} << L{} << false;
    QTest::newRow("text: duplicate kept once") << QByteArray("10.0.0.1\n10.0.0.2\n10.0.0.1/32\n") << A << T
                                               << L{s("10.0.0.1@1"), s("10.0.0.2@2")}
                                               << L{s("line 3: '10.0.0.1' duplicates line 1 (kept once)")} << false;
    QTest::newRow("text: inside an earlier CIDR") << QByteArray("10.0.0.0/24\n10.0.0.5\n") << A << T
                                                  << L{s("10.0.0.0/24@1"), s("10.0.0.5@2")}
                                                  << L{s("line 2: '10.0.0.5' is already covered by 10.0.0.0/24 (line 1)")} << false;
    QTest::newRow("empty") << QByteArray("") << A << T << L{} << L{} << false;
    QTest::newRow("only comments") << QByteArray("# nothing yet\n\n") << A << T << L{} << L{} << false;

    QTest::newRow("csv: header ip") << QByteArray("ip,node\n10.0.0.1,egress-1\n10.0.0.2,\n") << A << C
                                    << L{s("10.0.0.1@2#egress-1"), s("10.0.0.2@3")} << L{} << true;
    QTest::newRow("csv: header names another column") << QByteArray("Name,Address\r\nbig one,10.0.0.1\r\n") << A << C
                                                      << L{s("10.0.0.1@2#big one")} << L{} << true;
    QTest::newRow("csv: cidr column") << QByteArray("comment,cidr,owner\nx,10.9.0.0/16,y\n") << A << C
                                      << L{s("10.9.0.0/16@2#x, y")} << L{} << true;
    QTest::newRow("csv: no header") << QByteArray("10.0.0.1,a\n10.0.0.2,b\n") << A << C
                                    << L{s("10.0.0.1@1#a"), s("10.0.0.2@2#b")} << L{} << false;
    QTest::newRow("csv: unnamed header column") << QByteArray("host,who\n10.0.0.1,a\n") << A << C << L{s("10.0.0.1@2#a")}
                                                << L{s("line 1: no column is named ip, address or cidr; reading the first column, 'host'")}
                                                << true;
    QTest::newRow("csv: single column with header") << QByteArray("ip\n10.0.0.1\n") << A << C << L{s("10.0.0.1@2")} << L{} << true;
    QTest::newRow("csv: quotes and escaped quotes")
        << QByteArray("\"ip\",\"note\"\n\"10.0.0.1\",\"said \"\"hi\"\", ok\"\n") << A << C
        << L{s("10.0.0.1@2#said \"hi\", ok")} << L{} << true;
    QTest::newRow("csv: newline inside a quoted field")
        << QByteArray("ip,note\n10.0.0.1,\"two\nlines\"\n10.0.0.2,x\n") << A << C
        << L{s("10.0.0.1@2#two\nlines"), s("10.0.0.2@4#x")} << L{} << true;
    QTest::newRow("csv: BOM and CRLF") << QByteArray("\xEF\xBB\xBFip,node\r\n10.0.0.1,a\r\n2001:db8::1,b\r\n") << A << C
                                       << L{s("10.0.0.1@2#a"), s("2001:db8::1@3#b")} << L{} << true;
    QTest::newRow("csv: blank lines, comments, spaces") << QByteArray("ip,node\n\n# retired below\n 10.0.0.1 ,a\n,\n") << A << C
                                                        << L{s("10.0.0.1@4#a")} << L{} << true;
    QTest::newRow("csv: our own export") << QByteArray("ip,node,role,state,first_seen\r\n172.16.0.7,egress-1,master,enabled,\r\n"
                                                       "172.16.0.100,egress-1,vip,active,\r\n")
                                         << A << C
                                         << L{s("172.16.0.7@2#egress-1, master, enabled"), s("172.16.0.100@3#egress-1, vip, active")}
                                         << L{} << true;
    QTest::newRow("csv: duplicates") << QByteArray("ip\n10.0.0.1\n10.0.0.1\n") << A << C << L{s("10.0.0.1@2")}
                                     << L{s("line 3: '10.0.0.1' duplicates line 2 (kept once)")} << true;
    QTest::newRow("csv forced on one column") << QByteArray("10.0.0.1\n10.0.0.2\n") << C << C
                                              << L{s("10.0.0.1@1"), s("10.0.0.2@2")} << L{} << false;
    QTest::newRow("text forced") << QByteArray("10.0.0.1\n") << T << T << L{s("10.0.0.1@1")} << L{} << false;
  }

  void good() {
    QFETCH(QByteArray, input);
    QFETCH(egw::AllowlistFormat, forced);
    QFETCH(egw::AllowlistFormat, format);
    QFETCH(QStringList, entries);
    QFETCH(QStringList, warnings);
    QFETCH(bool, header);
    AllowlistOptions o;
    o.format = forced;
    auto r = parseAllowlist(std::string_view(input.constData(), static_cast<std::size_t>(input.size())), o);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QCOMPARE(r->format, format);
    QCOMPARE(describe(*r), entries);
    QCOMPARE(notes(r->warnings), warnings);
    QCOMPARE(r->hasHeader, header);
    QVERIFY(r->skipped.empty());
  }

  void bad_data() {
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QString>("error");  // the whole message, source "allow.txt"
    QTest::newRow("text: not an IP") << QByteArray("10.0.0.1\n10.0.0.300\n")
                                     << s("allow.txt: line 2: '10.0.0.300' is not an IP address or CIDR");
    QTest::newRow("text: host bits") << QByteArray("10.0.0.1/24\n")
                                     << s("allow.txt: line 1: '10.0.0.1/24' has host bits set (the network is 10.0.0.0/24)");
    QTest::newRow("text: every bad row, in order")
        << QByteArray("10.0.0.1\nnope\n10.0.0.2\n10.0.0.0/33 # too long\n")
        << s("allow.txt: line 2: 'nope' is not an IP address or CIDR\n"
             "allow.txt: line 4: '10.0.0.0/33' is not an IP address or CIDR");
    QTest::newRow("text: two per line") << QByteArray("10.0.0.1 10.0.0.2\n")
                                        << s("allow.txt: line 1: expected one IP address or CIDR per line, got '10.0.0.1 10.0.0.2'");
    QTest::newRow("text: bad IPv6") << QByteArray("2001:db8::g\n") << s("allow.txt: line 1: '2001:db8::g' is not an IP address or CIDR");
    QTest::newRow("text: zone id") << QByteArray("fe80::1%eth0\n") << s("allow.txt: line 1: 'fe80::1%eth0' is not an IP address or CIDR");
    QTest::newRow("csv: missing column") << QByteArray("name,ip\nx,10.0.0.1\ny\n")
                                         << s("allow.txt: line 3: missing column 'ip' (the row has 1 field, the address is field 2)");
    QTest::newRow("csv: empty ip") << QByteArray("ip,node\n,egress-1\n") << s("allow.txt: line 2: empty 'ip' field");
    QTest::newRow("csv: unterminated quote") << QByteArray("ip\n10.0.0.1\n\"10.0.0.2\n10.0.0.3\n")
                                             << s("allow.txt: line 3: unterminated quoted field (the quote opened here never closes)");
    QTest::newRow("csv: quote inside unquoted field")
        << QByteArray("ip,note\n10.0.0.1,ab\"c\n")
        << s("allow.txt: line 2: a quote inside unquoted field 2 (quote the whole field and double the quote: \"\")");
    QTest::newRow("csv: text after closing quote")
        << QByteArray("ip,note\n\"10.0.0.1\"x,a\n")
        << s("allow.txt: line 2: text after the closing quote of field 1 (double a quote inside a quoted field: \"\")");
    QTest::newRow("csv: bad first row is not a header") << QByteArray("10.0.0.300,x\n10.0.0.1,y\n")
                                                        << s("allow.txt: line 1: '10.0.0.300' is not an IP address or CIDR");
    QTest::newRow("csv: line numbers after a quoted newline")
        << QByteArray("ip,note\n10.0.0.1,\"a\r\nb\"\r\nbogus,x\r\n") << s("allow.txt: line 4: 'bogus' is not an IP address or CIDR");
    QTest::newRow("binary") << QByteArray("10.0.0.1\n\x7f" "ELF\0\0", 14) << s("allow.txt: line 2: not a text file (a NUL byte)");
  }

  void bad() {
    QFETCH(QByteArray, input);
    QFETCH(QString, error);
    AllowlistOptions o;
    o.source = "allow.txt";
    auto r = parseAllowlist(std::string_view(input.constData(), static_cast<std::size_t>(input.size())), o);
    QVERIFY(!r.ok());
    QCOMPARE(QString::fromStdString(r.error()), error);
  }

  void skipBadRowsImportsTheRest() {
    AllowlistOptions o;
    o.skipBadRows = true;
    auto r = parseAllowlist("10.0.0.1\nnope\n10.0.0.2\n10.0.0.1/8\n", o);
    QVERIFY(r.ok());
    QCOMPARE(describe(*r), (QStringList{s("10.0.0.1@1"), s("10.0.0.2@3")}));
    QCOMPARE(notes(r->skipped), (QStringList{s("line 2: 'nope' is not an IP address or CIDR"),
                                             s("line 4: '10.0.0.1/8' has host bits set (the network is 10.0.0.0/8)")}));
    // A structural error still fails: the rest of the file is inside the quote.
    auto u = parseAllowlist("ip\n\"10.0.0.1\n", o);
    QVERIFY(!u.ok());
    QCOMPARE(QString::fromStdString(u.error()), s("line 2: unterminated quoted field (the quote opened here never closes)"));
  }

  void containsAndMostSpecificEntry() {
    auto r = parseAllowlist("10.0.0.0/24 # office\n10.0.0.5 # egress\n2001:db8::/32\n");
    QVERIFY(r.ok());
    const auto ip = [](const char* t) { return *IpAddress::parse(t); };
    QCOMPARE(r->find(ip("10.0.0.5"))->comment, std::string("egress"));
    QCOMPARE(r->find(ip("10.0.0.9"))->comment, std::string("office"));
    QVERIFY(r->contains(ip("2001:db8:ffff::1")));
    QVERIFY(!r->contains(ip("10.0.1.1")));
    QVERIFY(!r->contains(ip("::ffff:10.0.0.5")));  // another family
  }

  void unreadableFiles() {
    auto dir = loadAllowlist("/");
    QVERIFY(!dir.ok());
    QCOMPARE(QString::fromStdString(dir.error()), QStringLiteral("cannot read /: Is a directory"));
    auto missing = loadAllowlist("/nonexistent/allow.csv");
    QVERIFY(!missing.ok());
    QCOMPARE(QString::fromStdString(missing.error()), QStringLiteral("cannot read /nonexistent/allow.csv: No such file or directory"));
  }

  void ipColumnIsRecorded() {
    auto r = parseAllowlist("Owner,IP Address\nx,10.0.0.1\n");
    QVERIFY(r.ok());
    QCOMPARE(r->ipColumn, std::string("IP Address"));
    QCOMPARE(describe(*r), QStringList{s("10.0.0.1@2#x")});
  }
};

QTEST_APPLESS_MAIN(TestAllowlistParse)
#include "test_allowlist_parse.moc"
