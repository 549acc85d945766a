// `egressctl drift` against an in-process agent API (fake backend, real ClusterService):
// table and JSON output, exit codes 0 clean / 1 drift / 2 bad file or usage / 3 no agent.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

#include "integration/api/api_fixture.h"
#include "support/paths.h"
#include "support/run_process.h"

using namespace egwtest;

namespace {

Run ctl(const QStringList& args, const QByteArray& stdinData = {}) { return egwtest::egressctl(args, 20000, stdinData); }

QString closedEndpoint() {
  QTcpServer s;
  s.listen(QHostAddress::LocalHost, 0);
  auto port = s.serverPort();
  s.close();
  return QStringLiteral("127.0.0.1:%1").arg(port);
}

}  // namespace

class TestEgressctlDrift : public QObject {
  Q_OBJECT
  ApiServer api_;
  QTemporaryDir dir_;

  QString file(const char* name, const QByteArray& content) {
    const QString path = dir_.path() + QLatin1Char('/') + QLatin1String(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) qFatal("cannot write %s", qPrintable(path));
    f.write(content);
    return path;
  }
  QStringList drift(const QString& path, QStringList extra = {}) {
    return QStringList{QStringLiteral("--endpoint"), QString::fromStdString(api_.endpoint()), QStringLiteral("drift"),
                       QStringLiteral("--allowlist"), path} +
           extra;
  }

 private slots:
  void initTestCase() {
    QVERIFY(QFile::exists(egwtest::egressctlBinary()));
    QVERIFY(dir_.isValid());
    QVERIFY(api_.start());
  }
  void init() { api_.backend.setState(sampleState()); }

  // The sample cluster: egress-1 .7 ok, egress-2 .8 ok, egress-3 .9 unverified, egress-4 .5
  // pending and never probed. The file lists .7 .8 .9 and an old address.
  void driftTableExits1() {
    auto path = file("allow.csv", "\xEF\xBB\xBFip,comment\r\n172.16.0.7,egress-1\r\n172.16.0.8,egress-2\r\n"
                                  "172.16.0.9,egress-3\r\n203.0.113.9,\"retired, 2024\"\r\n");
    auto r = ctl(drift(path));
    QCOMPARE(r.code, 1);
    const QStringList lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 7);
    QVERIFY2(lines[0].startsWith(QStringLiteral("IP           NODE      STATE       REASON")), qPrintable(r.out));
    QVERIFY(lines[1].startsWith(QStringLiteral("172.16.0.7   egress-1  ok          on the list (line 2)")));
    QVERIFY(lines[3].startsWith(QStringLiteral("172.16.0.9   egress-3  unverified  on the list (line 4), but the probe failed")));
    QVERIFY(lines[4].startsWith(QStringLiteral("172.16.0.5   egress-4  missing     not on the list")));
    QVERIFY(lines[5].startsWith(QStringLiteral("203.0.113.9  -         stale       on the list (line 5)")));
    QVERIFY(lines[5].endsWith(QStringLiteral("(the list says: retired, 2024)")));
    QCOMPARE(lines[6], QStringLiteral("drift: 1 missing, 1 unverified, 1 stale (of 5 addresses)"));
  }

  void driftJson() {
    auto path = file("allow.txt", "# partner allowlist\n172.16.0.7\n172.16.0.8\n172.16.0.8\n");
    auto r = ctl(drift(path, {QStringLiteral("-o"), QStringLiteral("json")}));
    QCOMPARE(r.code, 1);
    QJsonParseError perr;
    auto o = QJsonDocument::fromJson(r.out.toUtf8(), &perr).object();
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString() + QStringLiteral(": ") + r.out));
    QCOMPARE(o.value(QStringLiteral("clean")).toBool(), false);
    QCOMPARE(o.value(QStringLiteral("summary")).toString(), QStringLiteral("drift: 2 missing (of 4 addresses)"));
    auto list = o.value(QStringLiteral("allowlist")).toObject();
    QCOMPARE(list.value(QStringLiteral("format")).toString(), QStringLiteral("text"));
    QCOMPARE(list.value(QStringLiteral("entries")).toInt(), 2);
    auto warnings = list.value(QStringLiteral("warnings")).toArray();
    QCOMPARE(warnings.size(), 1);
    QCOMPARE(warnings[0].toObject().value(QStringLiteral("line")).toInt(), 4);
    auto rows = o.value(QStringLiteral("rows")).toArray();
    QCOMPARE(rows.size(), 4);
    QStringList states;
    for (const auto& v : rows) states << v.toObject().value(QStringLiteral("state")).toString();
    QCOMPARE(states, (QStringList{QStringLiteral("ok"), QStringLiteral("ok"), QStringLiteral("missing"), QStringLiteral("missing")}));
    auto missing = rows[3].toObject();
    QCOMPARE(missing.value(QStringLiteral("ip")).toString(), QStringLiteral("172.16.0.5"));
    QCOMPARE(missing.value(QStringLiteral("node")).toString(), QStringLiteral("egress-4"));
    QVERIFY(missing.value(QStringLiteral("line")).isNull());
    QCOMPARE(rows[0].toObject().value(QStringLiteral("line")).toInt(), 2);
    // The duplicate is a warning on stderr, not a failure.
    QVERIFY2(r.err.contains(path + QStringLiteral(": line 4: '172.16.0.8' duplicates line 3 (kept once) (warning)")), qPrintable(r.err));
  }

  void cleanExits0() {
    auto s = sampleState();
    for (auto& n : *s.mutable_nodes())
      if (!n.egress_ip().empty()) n.set_allowlist(v1::ALLOWLIST_OK);
    s.set_mode("virtual-ip");
    s.set_virtual_ip("172.16.0.100/24");
    api_.backend.setState(s);
    auto path = file("clean.txt", "172.16.0.0/29\n172.16.0.8\n172.16.0.9\n172.16.0.100\n");
    auto r = ctl(drift(path));
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.endsWith(QStringLiteral("clean: 5 addresses on the allowlist and accepted by the probe\n")), qPrintable(r.out));
    // From stdin too.
    auto in = ctl(QStringList{QStringLiteral("--endpoint"), QString::fromStdString(api_.endpoint()), QStringLiteral("drift"),
                              QStringLiteral("--allowlist"), QStringLiteral("-")},
                  "172.16.0.0/29\n172.16.0.8\n172.16.0.9\n172.16.0.100\n");
    QCOMPARE(in.code, 0);
  }

  void badFileExits2NamingFileAndLine() {
    auto path = file("bad.csv", "ip,node\n172.16.0.7,egress-1\n172.16.0.300,egress-2\n172.16.0.9\n,egress-4\n");
    auto r = ctl(drift(path));
    QCOMPARE(r.code, 2);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.contains(path + QStringLiteral(": line 3: '172.16.0.300' is not an IP address or CIDR\n")), qPrintable(r.err));
    QVERIFY2(r.err.contains(path + QStringLiteral(": line 5: empty 'ip' field\n")), qPrintable(r.err));
    QVERIFY(r.err.contains(QStringLiteral("--skip-bad-rows")));

    // Skipping them checks the rest (and still reports them).
    auto skip = ctl(drift(path, {QStringLiteral("--skip-bad-rows")}));
    QCOMPARE(skip.code, 1);
    QVERIFY2(skip.err.contains(path + QStringLiteral(": line 3: '172.16.0.300' is not an IP address or CIDR (skipped)")),
             qPrintable(skip.err));
    QVERIFY(skip.out.contains(QStringLiteral("172.16.0.8  egress-2  missing")));

    auto quote = ctl(drift(file("quote.csv", "ip\n\"172.16.0.7\n172.16.0.8\n")));
    QCOMPARE(quote.code, 2);
    QVERIFY2(quote.err.contains(QStringLiteral(": line 2: unterminated quoted field")), qPrintable(quote.err));
    QVERIFY(!quote.err.contains(QStringLiteral("--skip-bad-rows")));  // skipping cannot help here

    auto isDir = ctl(drift(dir_.path()));
    QCOMPARE(isDir.code, 2);
    QVERIFY2(isDir.err.contains(QStringLiteral("cannot read ") + dir_.path() + QStringLiteral(": Is a directory")), qPrintable(isDir.err));

    auto missing = ctl(drift(dir_.path() + QStringLiteral("/nope.csv")));
    QCOMPARE(missing.code, 2);
    QVERIFY2(missing.err.contains(QStringLiteral("cannot read ") + dir_.path() + QStringLiteral("/nope.csv: No such file or directory")),
             qPrintable(missing.err));
  }

  void usageAndUnreachable() {
    QCOMPARE(ctl({QStringLiteral("drift")}).code, 2);  // --allowlist is required
    auto path = file("ok.txt", "172.16.0.7\n");
    QCOMPARE(ctl(drift(path, {QStringLiteral("-o"), QStringLiteral("xml")})).code, 2);
    auto r = ctl({QStringLiteral("--endpoint"), closedEndpoint(), QStringLiteral("drift"), QStringLiteral("--allowlist"), path});
    QCOMPARE(r.code, 3);
    QVERIFY2(r.err.contains(QStringLiteral("cannot reach any agent")), qPrintable(r.err));
  }

  void forcedFormat() {
    // One column without a header is text by default; --format csv reads it the same way.
    auto path = file("one.csv", "172.16.0.7\r\n");
    auto r = ctl(drift(path, {QStringLiteral("--format"), QStringLiteral("csv"), QStringLiteral("-o"), QStringLiteral("json")}));
    QCOMPARE(r.code, 1);
    auto o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QCOMPARE(o.value(QStringLiteral("allowlist")).toObject().value(QStringLiteral("format")).toString(), QStringLiteral("csv"));
  }
};

QTEST_GUILESS_MAIN(TestEgressctlDrift)
#include "test_egressctl_drift.moc"
