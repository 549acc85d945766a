// AddNodeFlow without widgets, against the fake client: choosing, preflight checks (each one able
// to fail), export rows/CSV/delta, the probe loop (accepted, cancel that stops, give up, stale
// answers ignored), manual confirmation recorded, candidacy with and without force, refusal text.
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include "console/core/add_node_flow.h"
#include "egw/version.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;
using St = PreflightCheck::Status;

namespace {

constexpr qint64 kNow = 1'700'000'000'000;

// The sample cluster plus egress-4, joined with candidacy pending.
ClusterSnapshot clusterWithPending() {
  ClusterSnapshot s = sampleCluster(QStringLiteral("egress-1"), 3, kNow);
  NodeInfo n = s.nodes[2];
  n.name = QStringLiteral("egress-4");
  n.address = QStringLiteral("10.0.0.14");
  n.apiEndpoint = QStringLiteral("10.0.0.14:7401");
  n.egressIp = QStringLiteral("172.16.0.5");
  n.candidacy = Candidacy::Pending;
  n.voter = false;
  n.allowlist = AllowlistVerdict::Rejected;
  n.allowlistDetail = QStringLiteral("198.51.100.10:443 refused the connection from 172.16.0.5 (TCP reset)");
  s.nodes << n;
  return s;
}

// What egress-4's own agent serves: the same view, served by egress-4.
ClusterSnapshot nodeView(const ClusterSnapshot& cluster = clusterWithPending()) {
  ClusterSnapshot v = cluster;
  v.servedBy = QStringLiteral("egress-4");
  return v;
}

NodeInfo& nodeIn(ClusterSnapshot& s, const QString& name) {
  for (NodeInfo& n : s.nodes)
    if (n.name == name) return n;
  qFatal("no node");
}

PreflightCheck checkOf(const QList<PreflightCheck>& checks, const QString& id) {
  for (const PreflightCheck& c : checks)
    if (c.id == id) return c;
  qFatal("no check %s", qPrintable(id));
}

PreflightInput goodInput() {
  PreflightInput in;
  in.endpoint = QStringLiteral("10.0.0.14:7401");
  in.expectedNode = QStringLiteral("egress-4");
  in.cluster = clusterWithPending();
  in.connection = ConnectionState::Streaming;
  in.nodeView = nodeView();
  in.nodeWallTimeMs = kNow + 40;
  in.receivedAtMs = kNow;
  return in;
}

}  // namespace

class TestAddNodeFlow : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<AddNodeFlow> flow_;
  FakeAgentClient* client_ = nullptr;  // the client the flow made for the node's agent
  QStringList madeFor_;
  qint64 now_ = kNow;

  // A flow whose preflight against egress-4 has passed.
  void toExport() {
    QVERIFY(flow_->chooseNode(QStringLiteral("egress-4")));
    flow_->startPreflight();
    QVERIFY(client_ != nullptr);
    ClusterSnapshot v = nodeView();
    nodeIn(v, QStringLiteral("egress-4")).wallTimeMs = now_ + 20;
    client_->sendSnapshot(v);
    QVERIFY2(flow_->preflightPassed(), qPrintable(flow_->summary()));
  }
  void answerProbe(AllowlistVerdict v, const QString& detail, bool ok = true) {
    client_->finish(ActionResult{Action::ProbeAllowlist, QStringLiteral("egress-4"), ok, detail, {}, v,
                                 QStringLiteral("172.16.0.5")});
  }

 private slots:
  void init() {
    madeFor_.clear();
    client_ = nullptr;
    flow_ = std::make_unique<AddNodeFlow>([this](const QString& ep) {
      madeFor_ << ep;
      auto c = std::make_unique<FakeAgentClient>();
      c->endpoint = ep;
      client_ = c.get();
      return c;
    });
    flow_->setClock([this] { return now_; });
    flow_->setProbeInterval(0);
    flow_->setCluster(clusterWithPending());
  }
  void cleanup() { flow_.reset(); }

  void choosingAPendingNodeOrAnAddress() {
    const QList<NodeInfo> pending = flow_->pendingNodes();
    QCOMPARE(pending.size(), 1);
    QCOMPARE(pending.first().name, QStringLiteral("egress-4"));
    QString error;
    QVERIFY(!flow_->chooseNode(QStringLiteral("egress-2"), &error));
    QVERIFY2(error.contains(QStringLiteral("enabled, not pending")), qPrintable(error));
    QVERIFY(!flow_->chooseNode(QStringLiteral("nope"), &error));
    QVERIFY(flow_->chooseNode(QStringLiteral("egress-4"), &error));
    QCOMPARE(flow_->endpoint(), QStringLiteral("10.0.0.14:7401"));
    QCOMPARE(flow_->expectedNode(), QStringLiteral("egress-4"));
    QVERIFY(!flow_->chooseAddress(QStringLiteral("10.0.0.14"), &error));  // no port
    QVERIFY(!error.isEmpty());
    QVERIFY(!flow_->chooseAddress(QStringLiteral("a:1, b:2"), &error));
    QVERIFY(flow_->chooseAddress(QStringLiteral(" 10.0.0.14:7401 "), &error));
    QCOMPARE(flow_->endpoint(), QStringLiteral("10.0.0.14:7401"));
    QVERIFY(flow_->expectedNode().isEmpty());
  }

  void preflightConnectsToTheNodesOwnAgent() {
    QVERIFY(flow_->chooseNode(QStringLiteral("egress-4")));
    QSignalSpy changed(flow_.get(), &AddNodeFlow::preflightChanged);
    flow_->startPreflight();
    QCOMPARE(madeFor_, QStringList{QStringLiteral("10.0.0.14:7401")});
    QCOMPARE(client_->starts, 1);
    QVERIFY(!flow_->preflightDone());
    QCOMPARE(checkOf(flow_->checks(), QStringLiteral("reachable")).status, St::Running);
    client_->sendSnapshot(nodeView());
    QVERIFY(changed.count() >= 2);
    QVERIFY(flow_->preflightPassed());
    QCOMPARE(flow_->nodeName(), QStringLiteral("egress-4"));
    QCOMPARE(flow_->egressIp(), QStringLiteral("172.16.0.5"));
    for (const PreflightCheck& c : flow_->checks())
      QVERIFY2(c.status == St::Ok || c.status == St::Info, qPrintable(c.id + QStringLiteral(": ") + c.detail));
    QCOMPARE(checkOf(flow_->checks(), QStringLiteral("allowlist")).status, St::Info);  // rejected: expected now
    // The connection to the node drops: the preflight no longer passes.
    client_->setConnection(ConnectionState::Backoff, QStringLiteral("stream ended: UNAVAILABLE"));
    QCOMPARE(checkOf(flow_->checks(), QStringLiteral("reachable")).status, St::Failed);
    QVERIFY(!flow_->preflightPassed());
  }

  void aFailureStaysShownWhileTheClientRetries() {
    QVERIFY(flow_->chooseAddress(QStringLiteral("10.9.9.9:7401")));
    flow_->startPreflight();
    client_->setConnection(ConnectionState::Incompatible, QStringLiteral("agent x speaks protocol 2, console speaks 1"));
    QCOMPARE(checkOf(flow_->checks(), QStringLiteral("protocol")).status, St::Failed);
    client_->setConnection(ConnectionState::Connecting, QStringLiteral("opening Watch"));  // the client's retry
    QCOMPARE(checkOf(flow_->checks(), QStringLiteral("protocol")).status, St::Failed);
    QVERIFY(flow_->preflightDone());
    QVERIFY(!flow_->preflightPassed());
    client_->sendSnapshot(nodeView());  // an agent that answers properly clears it
    QVERIFY(flow_->preflightPassed());
  }

  void unreachableAndIncompatibleAgentsFail() {
    PreflightInput in;
    in.endpoint = QStringLiteral("10.9.9.9:7401");
    in.connection = ConnectionState::Backoff;
    in.connectionDetail = QStringLiteral("10.9.9.9:7401: stream ended: UNAVAILABLE: failed to connect");
    auto checks = evaluatePreflight(in);
    QCOMPARE(checkOf(checks, QStringLiteral("reachable")).status, St::Failed);
    QVERIFY(checkOf(checks, QStringLiteral("reachable")).detail.contains(QStringLiteral("failed to connect")));
    for (const auto& c : checks) QCOMPARE(c.status, St::Failed);

    in.connection = ConnectionState::Incompatible;
    in.connectionDetail = QStringLiteral("agent egress-4 speaks protocol 2, console speaks 1");
    checks = evaluatePreflight(in);
    QCOMPARE(checkOf(checks, QStringLiteral("reachable")).status, St::Ok);
    QCOMPARE(checkOf(checks, QStringLiteral("protocol")).status, St::Failed);
    QVERIFY(checkOf(checks, QStringLiteral("protocol")).detail.contains(QStringLiteral("protocol 2")));
  }

  void eachCheckCanFail_data() {
    QTest::addColumn<QString>("check");
    QTest::addColumn<int>("expected");
    QTest::addColumn<QString>("needle");
    QTest::addColumn<int>("variant");
    QTest::newRow("another node at the address") << "joined" << int(St::Failed) << "is egress-4, not egress-5" << 0;
    QTest::newRow("not an egress node") << "joined" << int(St::Failed) << "not an egress node" << 1;
    QTest::newRow("not joined") << "joined" << int(St::Failed) << "has not joined" << 2;
    QTest::newRow("already enabled") << "joined" << int(St::Warning) << "already enabled" << 3;
    QTest::newRow("no egress interface") << "egress" << int(St::Failed) << "no egress interface" << 4;
    QTest::newRow("no egress IP") << "egress" << int(St::Failed) << "no egress IP" << 5;
    QTest::newRow("IP used by another node") << "egress" << int(St::Failed) << "egress-2 already uses" << 6;
    QTest::newRow("datapath not applied") << "datapath" << int(St::Failed) << "nft: table missing" << 7;
    QTest::newRow("unhealthy") << "datapath" << int(St::Warning) << "rp_filter" << 8;
    QTest::newRow("clock 5 s ahead") << "clock" << int(St::Warning) << "+5.0 s" << 9;
    QTest::newRow("clock 2 min behind") << "clock" << int(St::Failed) << "−2 min" << 10;
    QTest::newRow("other election settings") << "election" << int(St::Warning) << "differ" << 11;
    QTest::newRow("other protocol in its status") << "protocol" << int(St::Failed) << "protocol 7" << 12;
    QTest::newRow("other version") << "protocol" << int(St::Warning) << "other nodes run 0.1.0" << 13;
    QTest::newRow("follows another master") << "joined" << int(St::Warning) << "follows egress-2" << 14;
  }
  void eachCheckCanFail() {
    QFETCH(QString, check);
    QFETCH(int, expected);
    QFETCH(QString, needle);
    QFETCH(int, variant);
    PreflightInput in = goodInput();
    QCOMPARE(checkOf(evaluatePreflight(in), check).status, St::Ok);  // the same input passes without the fault
    NodeInfo& self = nodeIn(*in.nodeView, QStringLiteral("egress-4"));
    switch (variant) {
      case 0: in.expectedNode = QStringLiteral("egress-5"); break;
      case 1: self.candidacy = Candidacy::None; break;
      case 2: in.cluster.nodes.removeLast(); break;
      case 3: self.candidacy = Candidacy::Enabled; break;
      case 4: self.egressInterface.clear(); break;
      case 5: self.egressIp.clear(); break;
      case 6: self.egressIp = QStringLiteral("172.16.0.8"); break;
      case 7:
        self.datapathReady = false;
        self.healthProblems = QStringList{QStringLiteral("nft: table missing")};
        break;
      case 8:
        self.healthy = false;
        self.healthProblems = QStringList{QStringLiteral("net.ipv4.conf.eth1.rp_filter is 1")};
        break;
      case 9: in.nodeWallTimeMs = in.receivedAtMs + 5'000; break;
      case 10: in.nodeWallTimeMs = in.receivedAtMs - 120'000; break;
      case 11: in.nodeView->leaseMs = 400; break;
      case 12: self.protocol = 7; break;
      case 13: self.version = QStringLiteral("0.2.0"); break;
      case 14: in.nodeView->master = QStringLiteral("egress-2"); break;
    }
    const PreflightCheck c = checkOf(evaluatePreflight(in), check);
    QCOMPARE(int(c.status), expected);
    QVERIFY2(c.detail.contains(needle), qPrintable(c.detail));
    if (expected == int(St::Failed)) {
      bool failed = false;
      for (const auto& x : evaluatePreflight(in)) failed |= x.status == St::Failed;
      QVERIFY(failed);
    }
  }

  void exportRowsCsvAndDelta() {
    toExport();
    flow_->setFirstSeen({{QStringLiteral("egress-4"), 1'764'158'400'000}});  // 2025-11-26T12:00:00Z
    const QList<ExportRow> full = flow_->fullRows();
    QCOMPARE(full.size(), 4);  // three enabled + the pending one; not the worker
    QCOMPARE(full.last(), (ExportRow{QStringLiteral("172.16.0.5"), QStringLiteral("egress-4"), QStringLiteral("standby"),
                                     QStringLiteral("pending"), QStringLiteral("2025-11-26T12:00:00.000Z")}));
    QCOMPARE(full.first().role, QStringLiteral("master"));
    // Without an imported list the delta is the new node alone.
    QCOMPARE(flow_->deltaRows().size(), 1);
    QCOMPARE(flow_->csv(true),
             QByteArray("ip,node,role,state,first_seen\r\n172.16.0.5,egress-4,standby,pending,2025-11-26T12:00:00.000Z\r\n"));
    // With the operator's list: whatever it lacks.
    auto list = egw::parseAllowlist("172.16.0.7\n172.16.0.9\n");
    QVERIFY(list.ok());
    flow_->setOperatorAllowlist(*list);
    QStringList ips;
    for (const auto& r : flow_->deltaRows()) ips << r.ip;
    QCOMPARE(ips, (QStringList{QStringLiteral("172.16.0.8"), QStringLiteral("172.16.0.5")}));
    // The saved CSV reads back through common's allowlist parser with every address.
    const QString path = dir_.filePath(QStringLiteral("full.csv"));
    QString error;
    QVERIFY2(flow_->saveCsv(path, false, &error), qPrintable(error));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    auto back = egw::parseAllowlist(f.readAll().toStdString());
    QVERIFY(back.ok());
    QCOMPARE(int(back->entries.size()), 4);
    QVERIFY(back->hasHeader);
    QVERIFY(!flow_->saveCsv(dir_.filePath(QStringLiteral("no/such/dir/x.csv")), true, &error));
    QVERIFY2(error.startsWith(QStringLiteral("cannot write")), qPrintable(error));
    const QString text = flow_->instructions();
    QVERIFY(text.contains(QStringLiteral("add 172.16.0.5")));
    QVERIFY(text.contains(QStringLiteral("172.16.0.7, 172.16.0.8, 172.16.0.9")));
  }

  void verifyProbesUntilAccepted() {
    toExport();
    QSignalSpy changed(flow_.get(), &AddNodeFlow::verifyChanged);
    flow_->startVerify();
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Probing);
    QCOMPARE(client_->probeCalls, QStringList{QStringLiteral("egress-4")});
    answerProbe(AllowlistVerdict::Rejected, QStringLiteral("refused (TCP reset)"));
    QCOMPARE(flow_->lastVerdict(), AllowlistVerdict::Rejected);
    QTRY_COMPARE(client_->probeCalls.size(), 2);  // the next probe after the interval
    answerProbe(AllowlistVerdict::Unknown, QStringLiteral("RESOURCE_EXHAUSTED: rate limit"), false);
    QVERIFY(flow_->lastProbeDetail().contains(QStringLiteral("probe call failed")));
    QTRY_COMPARE(client_->probeCalls.size(), 3);
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("accepted in 3 ms"));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Accepted);
    QVERIFY(flow_->verified());
    QCOMPARE(flow_->probeAttempts(), 3);
    QTest::qWait(50);
    QCOMPARE(client_->probeCalls.size(), 3);  // no more after the verdict
    // Enabling without force.
    flow_->enableCandidacy();
    QCOMPARE(client_->candidacyCalls, QStringList{QStringLiteral("egress-4:enable")});
    client_->finish(ActionResult{Action::SetCandidacy, QStringLiteral("egress-4"), true, QStringLiteral("egress-4 candidacy enabled"), {}, {}, {}});
    QCOMPARE(flow_->enableState(), AddNodeFlow::EnableState::Enabled);
    QVERIFY(!flow_->forceUsed());
    QVERIFY2(flow_->summary().contains(QStringLiteral("Candidacy: enabled — egress-4 candidacy enabled")), qPrintable(flow_->summary()));
    QVERIFY(flow_->summary().contains(QStringLiteral("accepted by the service (probe 3")));
  }

  void cancelReallyStopsTheProbes() {
    toExport();
    flow_->setProbeInterval(20);
    flow_->startVerify();
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("no answer within 2s"));
    QTRY_COMPARE(client_->probeCalls.size(), 2);  // one in flight now
    flow_->cancelVerify();
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Cancelled);
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("late answer"));  // the in-flight one comes back
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Cancelled);  // ...and is ignored
    QTest::qWait(100);
    QCOMPARE(client_->probeCalls.size(), 2);
    flow_->enableCandidacy();  // not verified: nothing sent
    QVERIFY(client_->candidacyCalls.isEmpty());
    // A new run ignores an answer of the cancelled one that arrives late.
    flow_->startVerify();
    QCOMPARE(client_->probeCalls.size(), 3);
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("fresh"));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Accepted);
  }

  void staleAnswerAfterRestartIsIgnored() {
    toExport();
    flow_->setProbeInterval(10'000);
    flow_->startVerify();   // probe 1 in flight
    flow_->cancelVerify();
    flow_->startVerify();   // probe 2 in flight
    QCOMPARE(client_->probeCalls.size(), 2);
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("answer to probe 1"));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Probing);
    answerProbe(AllowlistVerdict::Rejected, QStringLiteral("answer to probe 2"));
    QCOMPARE(flow_->lastProbeDetail(), QStringLiteral("answer to probe 2"));
  }

  void givesUpAfterMaxAttempts() {
    toExport();
    flow_->setMaxProbeAttempts(2);
    flow_->startVerify();
    answerProbe(AllowlistVerdict::Rejected, QStringLiteral("r1"));
    QTRY_COMPARE(client_->probeCalls.size(), 2);
    answerProbe(AllowlistVerdict::Rejected, QStringLiteral("r2"));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::GaveUp);
    QTest::qWait(30);
    QCOMPARE(client_->probeCalls.size(), 2);
  }

  void manualConfirmationIsRecordedAndForces() {
    toExport();
    const QString audit = dir_.filePath(QStringLiteral("state/audit.log"));
    flow_->setAuditLogPath(audit);
    flow_->startVerify();
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("no answer within 2s"));
    QString error;
    QVERIFY(!flow_->confirmManually(QStringLiteral("  "), &error));
    QVERIFY(error.contains(QStringLiteral("reason")));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Probing);
    QVERIFY(flow_->confirmManually(QStringLiteral("NET-123: partner added 172.16.0.5"), &error));
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::ManuallyConfirmed);
    const int calls = int(client_->probeCalls.size());
    QTest::qWait(30);
    QCOMPARE(client_->probeCalls.size(), calls);  // confirming stops the probes
    QFile f(audit);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QString line = QString::fromUtf8(f.readAll());
    QVERIFY2(line.contains(QStringLiteral("egress-4 172.16.0.5: allowlist confirmed manually by")), qPrintable(line));
    QVERIFY(line.contains(QStringLiteral("(last probe: unverified): NET-123: partner added 172.16.0.5")));
    QCOMPARE(line.trimmed(), flow_->manualRecord());

    flow_->enableCandidacy();
    QCOMPARE(client_->candidacyCalls, QStringList{QStringLiteral("egress-4:enable:force")});
    QCOMPARE(client_->candidacyReasons, QStringList{QStringLiteral("NET-123: partner added 172.16.0.5")});
    const QString refusal = QStringLiteral("cannot persist candidacy: disk full");
    client_->finish(ActionResult{Action::SetCandidacy, QStringLiteral("egress-4"), false, refusal, {}, {}, {}});
    QCOMPARE(flow_->enableState(), AddNodeFlow::EnableState::Refused);
    QCOMPARE(flow_->enableMessage(), refusal);
    QVERIFY(flow_->summary().contains(QStringLiteral("refused by the agent — ") + refusal));
    QVERIFY(flow_->summary().contains(QStringLiteral("confirmed manually")));
  }

  void answersForOtherNodesAreIgnored() {
    toExport();
    flow_->startVerify();
    client_->finish(ActionResult{Action::ProbeAllowlist, QStringLiteral("egress-2"), true, QStringLiteral("x"), {},
                                 AllowlistVerdict::Ok, {}});
    QCOMPARE(flow_->verifyState(), AddNodeFlow::VerifyState::Probing);
  }
};

QTEST_GUILESS_MAIN(TestAddNodeFlow)
#include "test_add_node_flow.moc"
