// sd_notify without libsystemd: datagrams to a real AF_UNIX socket (path and abstract), and a
// real egress-agent started the way systemd starts a Type=notify service: READY=1 only once
// its listeners accept, RELOADING=1 / READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <QFile>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QtTest>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>

#include "agent/node/sd_notify.h"
#include "support/paths.h"

namespace {

// A bound datagram socket, like systemd's notify socket. `abstractName` empty: a path in `dir`.
class NotifySocket {
 public:
  NotifySocket(const QString& path, const std::string& abstractName) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    socklen_t len;
    if (abstractName.empty()) {
      address_ = path.toStdString();
      std::memcpy(sa.sun_path, address_.data(), address_.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() + 1);
    } else {
      address_ = "@" + abstractName;
      std::memcpy(sa.sun_path + 1, abstractName.data(), abstractName.size());
      len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstractName.size());
    }
    bound_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), len) == 0;
  }
  ~NotifySocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool bound() const { return bound_; }
  const std::string& address() const { return address_; }
  // The next datagram within `timeoutMs`, or nullopt.
  std::optional<std::string> receive(int timeoutMs) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) != 1) return std::nullopt;
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
  std::string address_;
};

std::string abstractName(const char* what) { return "egw-test-" + std::string(what) + "-" + std::to_string(::getpid()); }

}  // namespace

class TestSdNotify : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

 private slots:
  void toAPathSocket() {
    NotifySocket s(dir_.filePath(QStringLiteral("notify")), "");
    QVERIFY(s.bound());
    auto r = egw::sdNotifyTo(s.address(), "READY=1\nSTATUS=up");
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QCOMPARE(*r, egw::NotifyResult::Sent);
    QCOMPARE(s.receive(2000).value_or("(nothing)"), std::string("READY=1\nSTATUS=up"));
  }

  void toAnAbstractSocketThroughTheEnvironment() {
    NotifySocket s({}, abstractName("abstract"));
    QVERIFY(s.bound());
    qputenv("NOTIFY_SOCKET", QByteArray::fromStdString(s.address()));
    auto r = egw::sdNotify("STOPPING=1");
    qunsetenv("NOTIFY_SOCKET");
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QCOMPARE(s.receive(2000).value_or("(nothing)"), std::string("STOPPING=1"));
  }

  void withoutNotifySocketNothingIsSent() {
    qunsetenv("NOTIFY_SOCKET");
    auto r = egw::sdNotify("READY=1");
    QVERIFY(r.ok());
    QCOMPARE(*r, egw::NotifyResult::NotConfigured);
  }

  void errorsNameTheSocket() {
    auto missing = dir_.filePath(QStringLiteral("no-such-socket")).toStdString();
    auto r = egw::sdNotifyTo(missing, "READY=1");
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find(missing) != std::string::npos && r.error().find("No such file") != std::string::npos,
             r.error().c_str());
    auto rel = egw::sdNotifyTo("relative/socket", "READY=1");
    QVERIFY(!rel.ok());
    QVERIFY2(rel.error().find("neither a path nor an abstract name") != std::string::npos, rel.error().c_str());
    QVERIFY(!egw::sdNotifyTo("/" + std::string(200, 'x'), "READY=1").ok());
  }

  // The agent as systemd runs it (Type=notify): one voter on loopback, no datapath.
  void agentLifecycle() {
    NotifySocket s({}, abstractName("agent"));
    QVERIFY(s.bound());
    // 127.240.y.1: test_agent_readyz uses 127.220-239 (AgentCluster constant 10), the agent tests 20-199.
    const auto host = QStringLiteral("127.240.%1.1").arg(::getpid() % 250 + 1);
    const auto config = dir_.filePath(QStringLiteral("agent.yaml"));
    const auto text = QStringLiteral(
                          "node: { name: egress-1, address: %1, egress: { interface: lo, ip: %1 }, candidate: true }\n"
                          "listen: { peer: \"%1:7400\", api: \"%1:7401\" }\n"
                          "voters:\n  - { name: egress-1, address: \"%1:7400\" }\n"
                          "election: { heartbeat_interval: 100ms, election_timeout: 600ms }\n"
                          "state_dir: %2\n")
                          .arg(host, dir_.filePath(QStringLiteral("state")));
    QFile f(config);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text.toUtf8());
    f.close();

    QProcess agent;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("NOTIFY_SOCKET"), QString::fromStdString(s.address()));
    agent.setProcessEnvironment(env);
    agent.setProcessChannelMode(QProcess::MergedChannels);
    agent.start(egwtest::agentBinary(), {QStringLiteral("--config"), config, QStringLiteral("--no-datapath")});
    QVERIFY(agent.waitForStarted());
    auto out = [&] { return QString::fromUtf8(agent.readAll()); };

    auto ready = s.receive(20000);
    QVERIFY2(ready, qPrintable(out()));
    QVERIFY2(ready->starts_with("READY=1\nSTATUS=egress-1: running"), ready->c_str());
    // READY=1 is sent after start(): the API listener accepts by now, with no retry.
    QTcpSocket api;
    api.connectToHost(host, 7401);
    QVERIFY2(api.waitForConnected(2000), qPrintable(api.errorString()));
    api.close();

    ::kill(static_cast<pid_t>(agent.processId()), SIGHUP);
    QCOMPARE(s.receive(10000).value_or("(nothing)"), std::string("RELOADING=1"));
    auto reloaded = s.receive(10000).value_or("(nothing)");
    QVERIFY2(reloaded == "READY=1\nSTATUS=reload: nothing to apply", reloaded.c_str());

    // An invalid config is refused, and the service is ready again (still on the old config).
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Append));
    f.write("voters: [ {\n");
    f.close();
    ::kill(static_cast<pid_t>(agent.processId()), SIGHUP);
    QCOMPARE(s.receive(10000).value_or("(nothing)"), std::string("RELOADING=1"));
    auto refused = s.receive(10000).value_or("(nothing)");
    QVERIFY2(refused.starts_with("READY=1\nSTATUS=reload refused"), refused.c_str());

    agent.terminate();  // SIGTERM
    QCOMPARE(s.receive(10000).value_or("(nothing)"), std::string("STOPPING=1"));
    QVERIFY(agent.waitForFinished(15000));
    QCOMPARE(agent.exitStatus(), QProcess::NormalExit);
    QCOMPARE(agent.exitCode(), 0);
    QVERIFY(!s.receive(200));  // nothing after STOPPING=1
  }
};

QTEST_GUILESS_MAIN(TestSdNotify)
#include "test_sd_notify.moc"
