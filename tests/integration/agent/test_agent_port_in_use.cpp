// An agent whose listen address is taken exits 1 at start with a message that names the config
// key (listen.peer / listen.api / listen.metrics) and the address; the same for a second agent
// started with the config of a running one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "support/agent_procs.h"
#include "support/paths.h"

using namespace egwtest;

namespace {

// A plain listening TCP socket (no SO_REUSEPORT), closed on destruction.
class Occupied {
 public:
  Occupied(const QString& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, host.toStdString().c_str(), &sa.sin_addr);
    ok_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 && ::listen(fd_, 4) == 0;
  }
  ~Occupied() {
    if (fd_ >= 0) ::close(fd_);
  }
  Occupied(const Occupied&) = delete;
  Occupied& operator=(const Occupied&) = delete;
  bool ok() const { return ok_; }

 private:
  int fd_ = -1;
  bool ok_ = false;
};

}  // namespace

class TestAgentPortInUse : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::unique_ptr<AgentCluster> c_;

  AgentProc& node() { return c_->nodes().front(); }

  // Runs an agent with `config` to its end; returns its exit code and output.
  int runToExit(const QString& config, QString* output) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(egwtest::agentBinary(),
            {QStringLiteral("--config"), config, QStringLiteral("--no-datapath")});
    if (!p.waitForStarted() || !p.waitForFinished(20000)) {
      p.kill();
      p.waitForFinished(3000);
      *output = QString::fromUtf8(p.readAll());
      return -1;
    }
    *output = QString::fromUtf8(p.readAll());
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  }

  void verifyRefused(const QString& key, int port, const QString& config = {}) {
    QString out;
    QCOMPARE(runToExit(config.isEmpty() ? node().config : config, &out), 1);
    QVERIFY2(out.contains(key), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("%1:%2").arg(node().host).arg(port)), qPrintable(out));
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    c_ = std::make_unique<AgentCluster>(dir_, 3);
    c_->setMetrics(true);
    QVERIFY(c_->writeConfig(node()));
  }

  void peerPortTaken() {
    Occupied busy(node().host, 7400);
    QVERIFY(busy.ok());
    verifyRefused(QStringLiteral("listen.peer"), 7400);
  }

  void apiPortTaken() {
    Occupied busy(node().host, 7401);
    QVERIFY(busy.ok());
    verifyRefused(QStringLiteral("listen.api"), 7401);
  }

  void metricsPortTaken() {
    Occupied busy(node().host, 7402);
    QVERIFY(busy.ok());
    verifyRefused(QStringLiteral("listen.metrics"), 7402);
  }

  // The realistic case: a second agent on the addresses of a running one. It must not share the
  // running agent's ports (gRPC would otherwise bind with SO_REUSEPORT) and must leave it
  // undisturbed. It gets its own state_dir, so that only the ports conflict.
  void secondAgentOnSameAddresses() {
    auto& n = node();
    c_->start(n);
    QVERIFY(n.running());
    QTRY_VERIFY2_WITH_TIMEOUT(fetchState(*n.stub).has_value(), qPrintable(c_->log(n)), 10000);
    const auto second = dir_.filePath(QStringLiteral("second.yaml"));
    QVERIFY(AgentCluster::writeFile(second, c_->configText(n).replace(n.stateDir, dir_.filePath(QStringLiteral("second-state")))));
    verifyRefused(QStringLiteral("listen.peer"), 7400, second);
    QVERIFY(n.running());
    QVERIFY(fetchState(*n.stub).has_value());
    c_->killAll();
  }

  void cleanupTestCase() { c_.reset(); }
};

QTEST_GUILESS_MAIN(TestAgentPortInUse)
#include "test_agent_port_in_use.moc"
