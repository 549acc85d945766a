// The egressctl binary against an in-process agent API (fake backend, real ClusterService) over
// loopback: JSON and CSV contracts, failover between endpoints, errors and exit codes.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QtTest>

#include "integration/api/api_fixture.h"
#include "support/paths.h"
#include "support/run_process.h"

using namespace egwtest;

namespace {

Run ctl(const QStringList& args, int timeoutMs = 20000) { return egwtest::egressctl(args, timeoutMs); }

// A loopback port nothing listens on.
QString closedEndpoint() {
  QTcpServer s;
  s.listen(QHostAddress::LocalHost, 0);
  auto port = s.serverPort();
  s.close();
  return QStringLiteral("127.0.0.1:%1").arg(port);
}

QString ep(const ApiServer& api) { return QString::fromStdString(api.endpoint()); }

v1::Event joined(const std::string& node, std::int64_t timeMs, std::uint64_t seq) {
  v1::Event e;
  e.set_origin("egress-2");
  e.set_seq(seq);
  e.set_kind("node_joined");
  e.set_node(node);
  e.set_time_ms(timeMs);
  e.set_message(node + " joined");
  e.set_gap_ms(-1);
  return e;
}

}  // namespace

class TestEgressctl : public QObject {
  Q_OBJECT
  ApiServer api_;

 private slots:
  void initTestCase() {
    QVERIFY(QFile::exists(egwtest::egressctlBinary()));
    api_.limits.mutatingBurst = 100;  // every egressctl run comes from 127.0.0.1
    QVERIFY(api_.start());
    QVERIFY(api_.store->merge(joined("egress-4", 1764158400000, 1)).ok());  // 2025-11-26T12:00:00Z
    QVERIFY(api_.store->merge(joined("egress-4", 1764158500000, 2)).ok());  // later: not first
    QVERIFY(api_.store->append("master_elected", "egress-1", 7, "egress-1 won \"term\" 7", 180).ok());
  }
  void init() { api_.backend.setState(sampleState()); }

  void statusJsonHasTheContractKeys() {
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status"), QStringLiteral("-o"), QStringLiteral("json")});
    QCOMPARE(r.code, 0);
    QJsonParseError perr;
    auto doc = QJsonDocument::fromJson(r.out.toUtf8(), &perr);
    QVERIFY2(perr.error == QJsonParseError::NoError, qPrintable(perr.errorString() + QStringLiteral(": ") + r.out));
    auto o = doc.object();
    QCOMPARE(o.value(QStringLiteral("master")).toString(), QStringLiteral("egress-1"));
    QCOMPARE(o.value(QStringLiteral("term")).toInt(), 7);
    QCOMPARE(o.value(QStringLiteral("lease_ms")).toInt(), 240);
    auto nodes = o.value(QStringLiteral("nodes")).toArray();
    QCOMPARE(nodes.size(), 5);
    for (const auto& v : nodes) {
      auto n = v.toObject();
      for (const char* k : {"name", "address", "egress_ip", "role", "allowlist"})
        QVERIFY2(n.value(QLatin1String(k)).isString(), k);
      for (const char* k : {"candidate", "healthy"}) QVERIFY2(n.value(QLatin1String(k)).isBool(), k);
    }
    auto first = nodes[0].toObject();
    QCOMPARE(first.value(QStringLiteral("name")).toString(), QStringLiteral("egress-1"));
    QCOMPARE(first.value(QStringLiteral("egress_ip")).toString(), QStringLiteral("172.16.0.7"));
    QCOMPARE(first.value(QStringLiteral("role")).toString(), QStringLiteral("master"));
    QCOMPARE(first.value(QStringLiteral("candidate")).toBool(), true);
    QCOMPARE(first.value(QStringLiteral("allowlist")).toString(), QStringLiteral("ok"));
    auto pending = nodes[3].toObject();
    QCOMPARE(pending.value(QStringLiteral("candidate")).toBool(), false);
    QCOMPARE(pending.value(QStringLiteral("candidacy")).toString(), QStringLiteral("pending"));
    QCOMPARE(pending.value(QStringLiteral("allowlist")).toString(), QStringLiteral("unknown"));
  }

  void statusJsonMasterNullWithoutMaster() {
    auto s = sampleState();
    s.set_master("");
    api_.backend.setState(s);
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status"), QStringLiteral("-o"), QStringLiteral("json")});
    QCOMPARE(r.code, 0);
    auto o = QJsonDocument::fromJson(r.out.toUtf8()).object();
    QVERIFY(o.contains(QStringLiteral("master")));
    QVERIFY(o.value(QStringLiteral("master")).isNull());
  }

  void statusTable() {
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status")});
    QCOMPARE(r.code, 0);
    QVERIFY2(r.out.startsWith(QStringLiteral("master: egress-1  term: 7")), qPrintable(r.out));
    QVERIFY(r.out.contains(QStringLiteral("EGRESS IP")));
    QVERIFY(r.out.contains(QStringLiteral("172.16.0.5")));
  }

  // docs/membership.md: an observer's API serves only itself; status says so and names the voters.
  void statusServedByAnObserverSaysWhereTheWholeViewIs() {
    auto s = sampleState();
    s.set_served_by("worker-3");
    s.set_partial(true);
    for (const char* v : {"egress-1", "egress-2", "egress-3"}) s.add_voters(v);
    s.clear_nodes();
    *s.add_nodes() = node("worker-3", "", v1::OBSERVER, v1::CANDIDACY_NONE, v1::ALLOWLIST_UNKNOWN);
    api_.backend.setState(s);
    auto table = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status")});
    auto json = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status"), QStringLiteral("-o"), QStringLiteral("json")});
    QCOMPARE(table.code, 0);
    QVERIFY2(table.out.contains(QStringLiteral("\nserved by observer worker-3: it knows only itself and the master; "
                                               "connect to a voter (egress-1, egress-2, egress-3) for the whole cluster\n")),
             qPrintable(table.out));
    auto o = QJsonDocument::fromJson(json.out.toUtf8()).object();
    QCOMPARE(o.value(QStringLiteral("partial")).toBool(), true);
    QCOMPARE(o.value(QStringLiteral("voters")).toArray().size(), 3);
  }

  void failsOverToTheNextEndpoint() {
    auto r = ctl({QStringLiteral("--endpoint"), closedEndpoint(), QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status")});
    QCOMPARE(r.code, 0);
    QVERIFY(r.out.contains(QStringLiteral("egress-1")));
  }

  void unreachableIsAClearErrorWithExitCode1() {
    const QString dead = closedEndpoint();
    auto r = ctl({QStringLiteral("--endpoint"), dead, QStringLiteral("status")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("cannot reach any agent: ") + dead + QStringLiteral(": connection refused")),
             qPrintable(r.err));
  }

  void usageErrorsExit2() {
    QCOMPARE(ctl({QStringLiteral("status"), QStringLiteral("-o"), QStringLiteral("xml")}).code, 2);
    QCOMPARE(ctl({}).code, 2);
    QCOMPARE(ctl({QStringLiteral("--endpoint"), QStringLiteral("no-port"), QStringLiteral("status")}).code, 2);
    QCOMPARE(ctl({QStringLiteral("candidacy"), QStringLiteral("maybe"), QStringLiteral("egress-1")}).code, 2);
    auto help = ctl({QStringLiteral("--help")});
    QCOMPARE(help.code, 0);
    QVERIFY(help.out.contains(QStringLiteral("Examples:")));
    QVERIFY(help.out.contains(QStringLiteral("Exit codes")));
  }

  void otherProtocolVersionIsRefused() {
    auto s = sampleState();
    s.set_protocol(egw::kProtocolVersion + 98);
    api_.backend.setState(s);
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("status")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(QStringLiteral("speaks protocol %1").arg(egw::kProtocolVersion + 98)), qPrintable(r.err));
  }

  void allowlistCsvExport() {
    auto s = sampleState();
    s.set_mode("virtual-ip");
    s.set_virtual_ip("172.16.0.100/24");
    api_.backend.setState(s);
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("allowlist"), QStringLiteral("export"),
                  QStringLiteral("--format"), QStringLiteral("csv")});
    QCOMPARE(r.code, 0);
    const QString expected = QStringLiteral(
        "ip,node,role,state,first_seen\r\n"
        "172.16.0.7,egress-1,master,enabled,\r\n"
        "172.16.0.8,egress-2,standby,enabled,\r\n"
        "172.16.0.9,egress-3,standby,enabled,\r\n"
        "172.16.0.5,egress-4,standby,pending,2025-11-26T12:00:00.000Z\r\n"
        "172.16.0.100,egress-1,vip,active,\r\n");
    QCOMPARE(r.out, expected);

    // Read back by a CSV reader that is not ours.
    if (QStandardPaths::findExecutable(QStringLiteral("python3")).isEmpty()) QSKIP("python3 not installed");
    QProcess py;
    py.start(QStringLiteral("python3"),
             {QStringLiteral("-c"),
              QStringLiteral("import csv,sys,io\n"
                             "rows=list(csv.DictReader(io.StringIO(sys.stdin.read(), newline='')))\n"
                             "print(len(rows), rows[3]['ip'], rows[3]['state'], rows[4]['role'], repr(rows[0]['first_seen']))")});
    py.write(r.out.toUtf8());
    py.closeWriteChannel();
    QVERIFY(py.waitForFinished(10000));
    QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()).trimmed(), QStringLiteral("5 172.16.0.5 pending vip ''"));
  }

  void allowlistToFileAndOtherFormats() {
    QTemporaryDir d;
    const QString file = d.path() + QStringLiteral("/allow.csv");
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("allowlist"), QStringLiteral("export"),
                  QStringLiteral("--output"), file});
    QCOMPARE(r.code, 0);
    QFile f(file);
    QVERIFY(f.open(QIODevice::ReadOnly));
    auto content = f.readAll();
    QVERIFY(content.startsWith("ip,node,role,state,first_seen\r\n172.16.0.7,"));
    QCOMPARE(QDir(d.path()).entryList(QDir::Files).size(), 1);  // no temp file left behind

    auto bad = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("allowlist"), QStringLiteral("export"),
                    QStringLiteral("--output"), QStringLiteral("/nonexistent-dir/allow.csv")});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains(QStringLiteral("cannot write /nonexistent-dir/allow.csv: No such file or directory")),
             qPrintable(bad.err));

    auto txt = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("allowlist"), QStringLiteral("export"),
                    QStringLiteral("--format"), QStringLiteral("txt")});
    QCOMPARE(txt.code, 0);
    QStringList ips;
    for (const auto& line : txt.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts))
      if (!line.startsWith(QLatin1Char('#'))) ips << line;
    QCOMPARE(ips, (QStringList{QStringLiteral("172.16.0.7"), QStringLiteral("172.16.0.8"), QStringLiteral("172.16.0.9"),
                               QStringLiteral("172.16.0.5")}));

    auto json = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("allowlist"), QStringLiteral("export"),
                     QStringLiteral("--format"), QStringLiteral("json")});
    QCOMPARE(json.code, 0);
    auto arr = QJsonDocument::fromJson(json.out.toUtf8()).array();
    QCOMPARE(arr.size(), 4);
    QCOMPARE(arr[3].toObject().value(QStringLiteral("first_seen")).toString(), QStringLiteral("2025-11-26T12:00:00.000Z"));
    QVERIFY(arr[0].toObject().value(QStringLiteral("first_seen")).isNull());
  }

  void eventsAsJsonLines() {
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("events"), QStringLiteral("-o"), QStringLiteral("json")});
    QCOMPARE(r.code, 0);
    auto lines = r.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    auto last = QJsonDocument::fromJson(lines[2].toUtf8()).object();
    QCOMPARE(last.value(QStringLiteral("cursor")).toInt(), 3);
    QCOMPARE(last.value(QStringLiteral("kind")).toString(), QStringLiteral("master_elected"));
    QCOMPARE(last.value(QStringLiteral("message")).toString(), QStringLiteral("egress-1 won \"term\" 7"));
    QCOMPARE(last.value(QStringLiteral("gap_ms")).toInt(), 180);
    auto since = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("events"), QStringLiteral("--since"), QStringLiteral("2")});
    QCOMPARE(since.code, 0);
    QCOMPARE(since.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts).size(), 1);
    QVERIFY(since.out.contains(QStringLiteral("gap 180 ms")));
  }

  void eventsFollowStreamsLiveEvents() {
    QProcess p;
    p.start(egwtest::egressctlBinary(),
            {QStringLiteral("--endpoint"), ep(api_), QStringLiteral("events"), QStringLiteral("--follow"),
             QStringLiteral("-o"), QStringLiteral("json"), QStringLiteral("--since"), QStringLiteral("3")});
    QVERIFY(p.waitForStarted());
    QTRY_COMPARE(api_.service->activeWatches(), std::size_t(1));
    QVERIFY(api_.store->append("handover", "egress-1", 7, "live one").ok());
    QTRY_VERIFY(p.canReadLine());
    auto o = QJsonDocument::fromJson(p.readLine()).object();
    QCOMPARE(o.value(QStringLiteral("message")).toString(), QStringLiteral("live one"));
    QCOMPARE(o.value(QStringLiteral("cursor")).toInt(), 4);
    p.kill();
    p.waitForFinished();
  }

  // --follow survives an agent restart: it reconnects and resumes from its cursor, so the events
  // from before the restart are not printed twice and the new ones arrive.
  void eventsFollowResumesAcrossRestart() {
    ApiServer api;
    QVERIFY(api.start());
    const int port = api.grpc.port;
    QVERIFY(api.store->append("k", "egress-1", 1, "first").ok());
    QProcess p;
    p.start(egwtest::egressctlBinary(),
            {QStringLiteral("--endpoint"), ep(api), QStringLiteral("events"), QStringLiteral("--follow"),
             QStringLiteral("-o"), QStringLiteral("json")});
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY(p.canReadLine());
    QCOMPARE(QJsonDocument::fromJson(p.readLine()).object().value(QStringLiteral("message")).toString(),
             QStringLiteral("first"));
    api.stop();
    QVERIFY(api.start(port));
    QVERIFY(api.store->append("k", "egress-1", 1, "after restart").ok());
    QTRY_VERIFY_WITH_TIMEOUT(p.canReadLine(), 10000);
    auto o = QJsonDocument::fromJson(p.readLine()).object();
    QCOMPARE(o.value(QStringLiteral("message")).toString(), QStringLiteral("after restart"));
    QCOMPARE(o.value(QStringLiteral("cursor")).toInt(), 2);
    QVERIFY(!p.canReadLine());
    p.kill();
    p.waitForFinished();
  }

  void candidacyAndHandover() {
    // Candidacy goes to the node's own agent: the one named in the cluster view.
    auto st = sampleState();
    for (auto& n : *st.mutable_nodes())
      if (n.name() == "egress-4") n.set_api_endpoint(api_.endpoint());
    api_.backend.setState(st);
    auto refused = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-4")});
    QCOMPARE(refused.code, 1);
    QVERIFY2(refused.err.contains(QStringLiteral("refused: egress-4: its egress IP 172.16.0.5 is not verified")), qPrintable(refused.err));
    auto forced = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("candidacy"), QStringLiteral("enable"),
                       QStringLiteral("egress-4"), QStringLiteral("--force")});
    QCOMPARE(forced.code, 0);
    auto bad = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("candidacy"), QStringLiteral("disable"), QStringLiteral("Bad_Name")});
    QCOMPARE(bad.code, 1);
    QVERIFY2(bad.err.contains(QStringLiteral("node: must be")), qPrintable(bad.err));
    auto h = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("handover"), QStringLiteral("--to"), QStringLiteral("egress-3")});
    QCOMPARE(h.code, 0);
    QVERIFY(h.out.startsWith(QStringLiteral("new master: egress-3")));
  }

  void candidacyNamesTheNodesUnreachableAgent() {
    auto st = sampleState();
    const auto closed = closedEndpoint();
    for (auto& n : *st.mutable_nodes())
      if (n.name() == "egress-4") n.set_api_endpoint(closed.toStdString());
    api_.backend.setState(st);
    auto r = ctl({QStringLiteral("--endpoint"), ep(api_), QStringLiteral("--timeout"), QStringLiteral("1s"),
                  QStringLiteral("candidacy"), QStringLiteral("enable"), QStringLiteral("egress-4")});
    QCOMPARE(r.code, 1);
    QVERIFY2(r.err.contains(closed), qPrintable(r.err));
  }
};

QTEST_GUILESS_MAIN(TestEgressctl)
#include "test_egressctl.moc"
