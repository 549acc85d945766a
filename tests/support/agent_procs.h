#pragma once
// Real egress-agent processes for robustness tests: three voters/candidates on a loopback /24 of
// their own (127.x.y.1-3; x from a per-test constant, y from the pid, so tests running in parallel
// never share an address), started
// with --no-datapath, their output appended to <name>.log in a temp dir. Timings default to a
// 100 ms heartbeat and a 600 ms election timeout: slower than the agent's defaults, so that an
// oversubscribed CI machine (timers waking 100+ ms late) does not cause spurious elections that
// a test would read as a changed master.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <QFile>
#include <QProcess>
#include <QSaveFile>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>
#include <vector>

#include "egressgw/v1/cluster.grpc.pb.h"
#include "egressgw/v1/peer.grpc.pb.h"

#include "support/paths.h"

namespace egwtest {

namespace pb = egressgw::v1;

struct AgentProc {
  QString name;
  QString host;
  QString config;
  QString stateDir;
  QString logPath;
  int priority = 100;
  bool observer = false;  // neither voter nor candidate: a worker (docs/membership.md)
  QString votersYaml;  // the voters: block as written into the config
  QString extraYaml;   // appended to the config (e.g. an allowlist probe)
  QStringList extraArgs;  // after --config FILE --no-datapath (a shared config's --node-name ...)
  std::unique_ptr<QProcess> proc;
  std::unique_ptr<pb::Cluster::Stub> stub;

  QString peerEndpoint() const { return host + QStringLiteral(":7400"); }
  QString apiEndpoint() const { return host + QStringLiteral(":7401"); }
  bool running() const { return proc && proc->state() == QProcess::Running; }
  pid_t pid() const { return proc ? static_cast<pid_t>(proc->processId()) : 0; }
};

// A channel to an agent that these tests kill and restart: gRPC's default reconnect backoff
// (1 s, growing 1.6x) would keep a client failing fast for many seconds after the agent is back
// (every refused attempt while it starts grows the wait), which a test would read as "the
// restarted agent does not answer".
inline grpc::ChannelArguments testChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection state shared with other channels
  return args;
}
inline std::shared_ptr<grpc::Channel> agentChannel(const std::string& endpoint) {
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), testChannelArguments());
}

inline std::string readText(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll().toStdString() : std::string();
}
// Client credentials from a make-certs.sh directory (ca.pem and client.pem or node.pem).
inline std::shared_ptr<grpc::ChannelCredentials> tlsCredentials(const QString& dir) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = readText(dir + QStringLiteral("/ca.pem"));
  const bool node = QFile::exists(dir + QStringLiteral("/node.pem"));
  o.pem_cert_chain = readText(dir + (node ? QStringLiteral("/node.pem") : QStringLiteral("/client.pem")));
  o.pem_private_key = readText(dir + (node ? QStringLiteral("/node-key.pem") : QStringLiteral("/client-key.pem")));
  return grpc::SslCredentials(o);
}
// A TLS channel whose server certificate must be valid for `serverName` (a node name, or
// "observer" for the workers' shared certificate).
inline std::shared_ptr<grpc::Channel> tlsChannel(const std::string& endpoint, const QString& certDir,
                                                 const std::string& serverName) {
  auto args = testChannelArguments();
  args.SetSslTargetNameOverride(serverName);
  return grpc::CreateCustomChannel(endpoint, tlsCredentials(certDir), args);
}

// The first update of a Watch is the snapshot of the agent's cluster view.
// Waits for the connection within the deadline rather than failing at once while the channel
// backs off from an attempt made before the agent listened (with TLS such a channel could keep
// failing fast with the old attempt's error).
inline std::optional<pb::ClusterState> fetchState(pb::Cluster::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  // Generous for a sanitizer build on a busy machine; a stopped agent is never asked.
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(2000));
  auto reader = stub.Watch(&ctx, pb::WatchRequest{});
  pb::WatchUpdate u;
  std::optional<pb::ClusterState> out;
  if (reader->Read(&u) && u.has_snapshot()) out = u.snapshot();
  ctx.TryCancel();
  reader->Finish();
  return out;
}

inline std::optional<pb::NodeStatus> nodeIn(const pb::ClusterState& s, const QString& name) {
  for (const auto& n : s.nodes())
    if (n.name() == name.toStdString()) return n;
  return std::nullopt;
}

class AgentCluster {
 public:
  // `testConstant` picks x = 20 + 20·c + pid % 20: each test binary its own range. In use: 0..3
  // (integration/agent), 4 (test_election_multiproc), 5 (test_agent_observers), 9 (test_agent_candidacy), 10
  // (test_agent_readyz); 11 would reach test_sd_notify's 127.240.
  AgentCluster(QTemporaryDir& dir, int testConstant, int heartbeatMs = 100, int electionMs = 600)
      : dir_(dir), heartbeatMs_(heartbeatMs), electionMs_(electionMs) {
    x_ = 20 + 20 * testConstant + static_cast<int>(getpid() % 20);
    y_ = static_cast<int>((getpid() / 20) % 250) + 1;
    QStringList voters;
    for (int i = 1; i <= 3; ++i) {
      AgentProc n;
      n.name = QStringLiteral("egress-%1").arg(i);
      n.host = QStringLiteral("127.%1.%2.%3").arg(x_).arg(y_).arg(i);
      n.config = dir_.filePath(n.name + QStringLiteral(".yaml"));
      n.stateDir = dir_.filePath(n.name + QStringLiteral("-state"));
      n.logPath = dir_.filePath(n.name + QStringLiteral(".log"));
      voters << QStringLiteral("  - { name: %1, address: \"%2:7400\" }").arg(n.name, n.host);
      nodes_.push_back(std::move(n));
    }
    for (auto& n : nodes_) {
      n.votersYaml = voters.join(QStringLiteral("\n"));
      n.stub = apiStub(n);
    }
  }
  ~AgentCluster() { killAll(); }

  // A candidate that is not a voter (it joins the three voters), at 127.x.y.<index>.
  AgentProc& addNonVoter(const QString& name, int index, const QString& extraYaml = {}) {
    AgentProc n;
    n.name = name;
    n.host = QStringLiteral("127.%1.%2.%3").arg(x_).arg(y_).arg(index);
    n.config = dir_.filePath(n.name + QStringLiteral(".yaml"));
    n.stateDir = dir_.filePath(n.name + QStringLiteral("-state"));
    n.logPath = dir_.filePath(n.name + QStringLiteral(".log"));
    n.votersYaml = nodes_.front().votersYaml;
    n.extraYaml = extraYaml;
    n.stub = apiStub(n);
    nodes_.push_back(std::move(n));
    return nodes_.back();
  }

  // An observer (no egress, not a candidate) at 127.x.y.<index>. With shareObserverConfig(), it
  // runs from the one observers.yaml, its name, address and state_dir on the command line.
  AgentProc& addObserver(const QString& name, int index) {
    auto& n = addNonVoter(name, index);
    n.observer = true;
    if (sharedObserverConfig_) {
      n.config = dir_.filePath(QStringLiteral("observers.yaml"));
      n.extraArgs = {QStringLiteral("--node-name"), n.name, QStringLiteral("--address"), n.host,
                     QStringLiteral("--state-dir"), n.stateDir};
    }
    n.stub = apiStub(n);
    return n;
  }

  // Mutual TLS from scripts/make-certs.sh in <dir>/certs: a node certificate per voter, one
  // observer certificate for every observer, a viewer for the tests' own Watch calls and an
  // operator. Call before adding nodes. False if make-certs.sh failed.
  bool enableTls() {
    certs_ = dir_.filePath(QStringLiteral("certs"));
    auto make = [&](const QStringList& args) {
      QProcess p;
      p.setProcessChannelMode(QProcess::MergedChannels);
      p.start(egwtest::sourcePath(u"scripts/make-certs.sh"), QStringList{QStringLiteral("--dir"), certs_} + args);
      const bool ok = p.waitForFinished(60000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
      if (!ok) qWarning("make-certs.sh %s: %s", qPrintable(args.join(QLatin1Char(' '))), p.readAll().constData());
      return ok;
    };
    for (const auto& n : nodes_)
      if (!make({QStringLiteral("node"), n.name, QStringLiteral("--ip"), n.host})) return false;
    if (!make({QStringLiteral("observer")}) || !make({QStringLiteral("viewer")}) || !make({QStringLiteral("operator")}))
      return false;
    for (auto& n : nodes_) n.stub = apiStub(n);
    return true;
  }
  QString certDir(const QString& name) const { return certs_ + QLatin1Char('/') + name; }
  bool tls() const { return !certs_.isEmpty(); }
  void shareObserverConfig(bool on) { sharedObserverConfig_ = on; }

  // An address of this test's /24 that no agent uses (for a stranger's endpoint).
  void setMetrics(bool on) { withMetrics_ = on; }
  QString spareHost() const { return QStringLiteral("127.%1.%2.200").arg(x_).arg(y_); }

  std::vector<AgentProc>& nodes() { return nodes_; }
  AgentProc& byName(const QString& name) {
    for (auto& n : nodes_)
      if (n.name == name) return n;
    qFatal("no node %s", qPrintable(name));
  }

  // The Cluster API as the tests' viewer sees it (TLS: checked against the node's certificate).
  std::unique_ptr<pb::Cluster::Stub> apiStub(const AgentProc& n) const {
    if (!tls()) return pb::Cluster::NewStub(agentChannel(n.apiEndpoint().toStdString()));
    return pb::Cluster::NewStub(tlsChannel(n.apiEndpoint().toStdString(), certDir(QStringLiteral("viewer")),
                                           n.observer ? "observer" : n.name.toStdString()));
  }

  QString tlsYaml(const AgentProc& n) const {
    if (!tls()) return {};
    const QString d = certDir(n.observer ? QStringLiteral("observer") : n.name);
    return QStringLiteral("tls: { ca: %1/ca.pem, cert: %1/node.pem, key: %1/node-key.pem }\n").arg(d);
  }

  // One config for every observer: no name, no address, listeners at the node's address.
  QString sharedObserverText() const {
    return QStringLiteral(
               "# every observer runs from this file: egress-agent --config observers.yaml --node-name N --address A\n"
               "node: {}\n"
               "listen: { peer: \":7400\", api: \":7401\" }\n"
               "voters:\n%1\n"
               "election: { heartbeat_interval: %2ms, election_timeout: %3ms }\n"
               "log: { level: debug }\n") .arg(nodes_.front().votersYaml).arg(heartbeatMs_).arg(electionMs_) +
           (tls() ? QStringLiteral("tls: { ca: %1/ca.pem, cert: %1/node.pem, key: %1/node-key.pem }\n")
                        .arg(certDir(QStringLiteral("observer")))
                  : QString());
  }

  QString configText(const AgentProc& n) const {
    if (n.observer && sharedObserverConfig_) return sharedObserverText();
    // (the observer's line keeps %3 in a comment: QString::arg fills the lowest placeholder left)
    const QString node = n.observer ? QStringLiteral("node: { name: %1, address: %2 }  # an observer; priority %3 unused\n")
                                    : QStringLiteral("node: { name: %1, address: %2, egress: { interface: lo, ip: %2 }, "
                                                     "candidate: true, priority: %3 }\n");
    return (node + QStringLiteral(
               "listen: { peer: \"%2:7400\", api: \"%2:7401\"%8 }\n"
               "voters:\n%4\n"
               "election: { heartbeat_interval: %5ms, election_timeout: %6ms }\n"
               "state_dir: %7\n"
               "log: { level: debug }\n%9"))
        .arg(n.name, n.host)
        .arg(n.priority)
        .arg(n.votersYaml)
        .arg(heartbeatMs_)
        .arg(electionMs_)
        .arg(n.stateDir)
        .arg(withMetrics_ ? QStringLiteral(", metrics: \"%1:7402\"").arg(n.host) : QString())
        .arg(n.extraYaml + tlsYaml(n));
  }

  // Atomically (write and rename): a shared config is rewritten while agents read it.
  static bool writeFile(const QString& path, const QString& text) {
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return false;
    return f.write(text.toUtf8()) >= 0 && f.commit();
  }
  bool writeConfig(const AgentProc& n) const { return writeFile(n.config, configText(n)); }

  void start(AgentProc& n) {
    n.proc = std::make_unique<QProcess>();
    n.proc->setProcessChannelMode(QProcess::MergedChannels);
    n.proc->setStandardOutputFile(n.logPath, QIODevice::Append);
    // If the test dies without its destructors (a sanitizer's exit at the first report, a crash,
    // a timeout kill), its agents die with it instead of running on and holding their addresses
    // and CPU.
    n.proc->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    n.proc->start(egwtest::agentBinary(),
                  QStringList{QStringLiteral("--config"), n.config, QStringLiteral("--no-datapath")} + n.extraArgs);
    n.proc->waitForStarted();
  }
  bool startAll() {
    for (auto& n : nodes_) {
      if (!writeConfig(n)) return false;
      start(n);
      if (!n.running()) return false;
    }
    return true;
  }

  void kill9(AgentProc& n) {
    if (!n.running()) return;
    ::kill(n.pid(), SIGKILL);
    n.proc->waitForFinished(5000);
  }
  void killAll() {
    for (auto& n : nodes_)
      if (n.running()) {
        n.proc->kill();
        n.proc->waitForFinished(3000);
      }
  }

  // The master every running agent reports; empty unless all agree (and `term` set from it).
  QString agreedMaster(std::uint64_t* term = nullptr) {
    QString master;
    for (auto& n : nodes_) {
      if (!n.running()) continue;
      auto s = fetchState(*n.stub);
      if (!s || s->master().empty()) return {};
      auto m = QString::fromStdString(s->master());
      if (!master.isEmpty() && m != master) return {};
      master = m;
      if (term) *term = s->term();
    }
    return master;
  }

  QString log(const AgentProc& n) const {
    QFile f(n.logPath);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
  }
  // Info and above of every agent: roles, masters, terms, refusals (the debug lines are in the files).
  QString summary() const {
    QString all;
    for (const auto& n : nodes_) {
      all += QStringLiteral("=== ") + n.name + QStringLiteral("\n");
      for (const auto& l : log(n).split(QLatin1Char('\n')))
        if (!l.contains(QStringLiteral(" debug "))) all += l + QLatin1Char('\n');
    }
    return all.size() > 20000 ? all.right(20000) : all;
  }
  QString logs() const {
    QString all;
    for (const auto& n : nodes_) all += QStringLiteral("=== ") + n.name + QStringLiteral("\n") + log(n);
    // QTest truncates long messages anyway: keep the end, where the failure is.
    return all.size() > 20000 ? all.right(20000) : all;
  }

 private:
  QTemporaryDir& dir_;
  int heartbeatMs_, electionMs_;
  int x_ = 0, y_ = 0;
  bool withMetrics_ = false;
  bool sharedObserverConfig_ = false;
  QString certs_;  // make-certs.sh directory when TLS is on
  std::vector<AgentProc> nodes_;
};

}  // namespace egwtest
