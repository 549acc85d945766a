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
inline std::shared_ptr<grpc::Channel> agentChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // no connection state shared with other channels
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

// The first update of a Watch is the snapshot of the agent's cluster view.
inline std::optional<pb::ClusterState> fetchState(pb::Cluster::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
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
      n.stub = pb::Cluster::NewStub(
          agentChannel(n.apiEndpoint().toStdString()));
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
    n.stub = pb::Cluster::NewStub(agentChannel(n.apiEndpoint().toStdString()));
    nodes_.push_back(std::move(n));
    return nodes_.back();
  }

  // An observer (no egress, not a candidate) at 127.x.y.<index>.
  AgentProc& addObserver(const QString& name, int index) {
    auto& n = addNonVoter(name, index);
    n.observer = true;
    return n;
  }

  // An address of this test's /24 that no agent uses (for a stranger's endpoint).
  void setMetrics(bool on) { withMetrics_ = on; }
  QString spareHost() const { return QStringLiteral("127.%1.%2.200").arg(x_).arg(y_); }

  std::vector<AgentProc>& nodes() { return nodes_; }
  AgentProc& byName(const QString& name) {
    for (auto& n : nodes_)
      if (n.name == name) return n;
    qFatal("no node %s", qPrintable(name));
  }

  QString configText(const AgentProc& n) const {
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
        .arg(n.extraYaml);
  }

  static bool writeFile(const QString& path, const QString& text) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    return f.write(text.toUtf8()) >= 0;
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
                  {QStringLiteral("--config"), n.config, QStringLiteral("--no-datapath")});
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
  std::vector<AgentProc> nodes_;
};

}  // namespace egwtest
