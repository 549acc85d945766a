// Three real egress-agent processes on loopback with --no-datapath: a master is elected;
// SIGKILL of the master elects another; SIGTERM of the master hands over at once.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <QDeadlineTimer>
#include <QTime>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "egressgw/v1/cluster.grpc.pb.h"
#include "integration/agent/agent_procs.h"

namespace pb = egressgw::v1;

namespace {

struct Node {
  QString name;
  QString host;
  QString config;
  std::unique_ptr<QProcess> proc;
  std::unique_ptr<pb::Cluster::Stub> stub;
};

std::optional<pb::ClusterState> fetch(pb::Cluster::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  pb::WatchRequest req;
  auto reader = stub.Watch(&ctx, req);
  pb::WatchUpdate u;
  std::optional<pb::ClusterState> out;
  if (reader->Read(&u) && u.has_snapshot()) out = u.snapshot();
  ctx.TryCancel();
  auto st = reader->Finish();
  if (!out && qEnvironmentVariableIsSet("EGW_DEBUG_FETCH"))
    qWarning("fetch %s: %d %s", qPrintable(QTime::currentTime().toString(QStringLiteral("HH:mm:ss.zzz"))), st.error_code(), st.error_message().c_str());
  return out;
}

}  // namespace

class TestElectionMultiproc : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::vector<Node> nodes_;

  void start(Node& n) {
    n.proc = std::make_unique<QProcess>();
    n.proc->setProcessChannelMode(QProcess::MergedChannels);
    n.proc->setStandardOutputFile(dir_.filePath(n.name + QStringLiteral(".log")), QIODevice::Append);
    // If this test dies, its agents die with it instead of running on.
    n.proc->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    n.proc->start(QStringLiteral(EGW_BINARY_DIR "/agent/egress-agent"),
                  {QStringLiteral("--config"), n.config, QStringLiteral("--no-datapath")});
    QVERIFY(n.proc->waitForStarted());
  }

  // The master as every live agent sees it; empty unless all agree.
  QString agreedMaster(std::uint64_t* term = nullptr) {
    QString master;
    for (auto& n : nodes_) {
      if (!n.proc || n.proc->state() != QProcess::Running) continue;
      auto s = fetch(*n.stub);
      if (!s || s->master().empty()) return {};
      auto m = QString::fromStdString(s->master());
      if (!master.isEmpty() && m != master) return {};
      master = m;
      if (term) *term = s->term();
    }
    return master;
  }

  Node& byName(const QString& name) {
    for (auto& n : nodes_)
      if (n.name == name) return n;
    qFatal("no node");
  }

  QString logs() {
    QString all;
    for (auto& n : nodes_) {
      QFile f(dir_.filePath(n.name + QStringLiteral(".log")));
      if (f.open(QIODevice::ReadOnly)) all += QStringLiteral("=== ") + n.name + QStringLiteral("\n") + QString::fromUtf8(f.readAll());
    }
    return all;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    // A loopback /24 of our own (127.x.y.0) so parallel runs do not collide on ports.
    const int x = 100 + (getpid() % 100), y = (getpid() / 100) % 250 + 1;
    QStringList voters;
    for (int i = 1; i <= 3; ++i) {
      Node n;
      n.name = QStringLiteral("egress-%1").arg(i);
      n.host = QStringLiteral("127.%1.%2.%3").arg(x).arg(y).arg(i);
      voters << QStringLiteral("  - { name: %1, address: \"%2:7400\" }").arg(n.name, n.host);
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) {
      n.config = dir_.filePath(n.name + QStringLiteral(".yaml"));
      QFile f(n.config);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QStringLiteral("node: { name: %1, address: %2, egress: { interface: lo, ip: %2 }, candidate: true }\n"
                             "listen: { peer: \"%2:7400\", api: \"%2:7401\" }\n"
                             "voters:\n%3\n"
                             "election: { heartbeat_interval: 50ms, election_timeout: 200ms }\n"
                             "state_dir: %4\n"
                             "log: { level: debug }\n")
                  .arg(n.name, n.host, voters.join(QStringLiteral("\n")), dir_.filePath(n.name + QStringLiteral("-state")))
                  .toUtf8());
      f.close();
      n.stub = pb::Cluster::NewStub(egwtest::agentChannel((n.host + QStringLiteral(":7401")).toStdString()));
    }
    for (auto& n : nodes_) start(n);
  }

  void electsOneMaster() {
    QTRY_VERIFY2_WITH_TIMEOUT(!agreedMaster().isEmpty(), qPrintable(logs()), 15000);
  }

  void sigkillElectsAnother() {
    std::uint64_t term1 = 0;
    const auto first = agreedMaster(&term1);
    QVERIFY(!first.isEmpty());
    auto& m = byName(first);
    ::kill(static_cast<pid_t>(m.proc->processId()), SIGKILL);
    QVERIFY(m.proc->waitForFinished(5000));
    QString second;
    std::uint64_t term2 = 0;
    QTRY_VERIFY2_WITH_TIMEOUT((second = agreedMaster(&term2), !second.isEmpty() && second != first), qPrintable(logs()), 15000);
    QVERIFY(term2 > term1);
    // The killed node restarts with its persisted term and rejoins as a follower (no preempt).
    start(m);
    // A new channel for every try: nothing of the killed process's connection (or of gRPC's
    // reconnect backoff while the new one starts) is carried over.
    const auto followsSecond = [&] {
      auto stub = pb::Cluster::NewStub(egwtest::agentChannel((m.host + QStringLiteral(":7401")).toStdString()));
      auto st = fetch(*stub);
      return st && st->master() == second.toStdString();
    };
    QDeadlineTimer deadline(15000);
    while (!followsSecond() && !deadline.hasExpired()) QTest::qWait(50);
    if (!followsSecond()) qWarning("%s", qPrintable(logs()));  // QVERIFY2 truncates long messages
    QVERIFY(followsSecond());
    QCOMPARE(agreedMaster(), second);
  }

  void sigtermHandsOver() {
    const auto before = agreedMaster();
    QVERIFY(!before.isEmpty());
    auto& m = byName(before);
    m.proc->terminate();  // SIGTERM
    QVERIFY(m.proc->waitForFinished(10000));
    QCOMPARE(m.proc->exitCode(), 0);
    QString after;
    QTRY_VERIFY2_WITH_TIMEOUT((after = agreedMaster(), !after.isEmpty() && after != before), qPrintable(logs()), 15000);
    QVERIFY2(logs().contains(QStringLiteral("handing over to")), qPrintable(logs()));
    // The handover is recorded as an event that any agent serves.
    auto& survivor = byName(after);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    pb::ListEventsRequest req;
    req.set_page_size(1000);
    pb::ListEventsResponse resp;
    QVERIFY(survivor.stub->ListEvents(&ctx, req, &resp).ok());
    bool sawHandover = false, sawElected = false;
    for (const auto& e : resp.events()) {
      sawHandover |= e.kind() == "handover" && e.origin() == before.toStdString();
      sawElected |= e.kind() == "master_elected" && e.node() == after.toStdString();
    }
    QVERIFY2(sawHandover, qPrintable(logs()));
    QVERIFY2(sawElected, qPrintable(logs()));
  }

  void cleanupTestCase() {
    for (auto& n : nodes_)
      if (n.proc && n.proc->state() == QProcess::Running) {
        n.proc->kill();
        n.proc->waitForFinished(3000);
      }
    nodes_.clear();  // gRPC stubs go before the library shuts down at exit
  }
};

QTEST_GUILESS_MAIN(TestElectionMultiproc)
#include "test_election_multiproc.moc"
