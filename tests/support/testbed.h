#pragma once
// The e2e tests' handle on tests/e2e/testbed/testbed.sh: real agents in network namespaces, driven
// by shell commands that run with the test's own namespace prefix and run directory
// (EGW_TB_PREFIX, EGW_TB_DIR), so tests never share a testbed, and with this build's agents and
// egressctl (EGW_BUILD). A test declares one
//
//   const egwtest::Testbed bed{QStringLiteral("egwe2e")};  // namespaces egwe2e-*, /tmp/egwe2e-run
//
// and starts at its scenario: TB(bed, QStringLiteral("up --traffic")), bed.ctl(...), bed.logs().
//
// EGW_TB_INSTANCE (optional, environment): a tag appended to every test's name, so two checkouts
// (or two builds) can run the e2e suite on one machine at once: with EGW_TB_INSTANCE=k the test
// above uses namespaces egwe2ek-* and /tmp/egwe2ek-run. The tag goes before the dash on purpose:
// testbed.sh removes leftover namespaces by prefix, and "egwe2e-" must not match another
// instance's "egwe2ek-". Letters and digits only, short (namespace names end up in paths).
#include <time.h>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QtGlobal>

#include <cstdint>

#include "support/paths.h"

namespace egwtest {

// The value of EGW_TB_INSTANCE, empty when unset.
inline QString testbedInstance() { return qEnvironmentVariable("EGW_TB_INSTANCE"); }

// The clock that traffic.py's kernel timestamps are compared with.
inline std::int64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

class Testbed {
 public:
  // The three voters' API endpoints in the testbed's cluster network.
  static QString voterEndpoints() {
    return QStringLiteral("--endpoint 10.0.0.11:7401 --endpoint 10.0.0.12:7401 --endpoint 10.0.0.13:7401");
  }

  // `name`: the test's own short name, e.g. "egwfn" (namespaces egwfn<instance>-*).
  explicit Testbed(const QString& name)
      : name_(name + testbedInstance()),
        prefix_(name_ + QLatin1Char('-')),
        runDir_(QStringLiteral("/tmp/") + prefix_ + QStringLiteral("run")) {}

  const QString& prefix() const { return prefix_; }
  const QString& runDir() const { return runDir_; }
  QString runFile(const QString& file) const { return runDir_ + QLatin1Char('/') + file; }

  // `bash -c cmd` with EGW_TB_PREFIX, EGW_TB_DIR and EGW_BUILD set; returns stdout followed by stderr. rc: the
  // exit code, -1 on a crash or timeout (the command is killed then).
  QString sh(const QString& cmd, int* rc = nullptr, int timeoutMs = 60000) const {
    QProcess p;
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("EGW_TB_PREFIX"), prefix_);
    env.insert(QStringLiteral("EGW_TB_DIR"), runDir_);
    env.insert(QStringLiteral("EGW_BUILD"), binaryDir());
    p.setProcessEnvironment(env);
    p.start(QStringLiteral("bash"), {QStringLiteral("-c"), cmd});
    const bool finished = p.waitForFinished(timeoutMs);
    if (!finished) {
      p.kill();
      p.waitForFinished();
    }
    if (rc) *rc = finished && p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    return QString::fromUtf8(p.readAllStandardOutput()) + QString::fromUtf8(p.readAllStandardError());
  }

  static QString script() { return sourcePath(u"tests/e2e/testbed/testbed.sh"); }

  // testbed.sh with `args` (up [options], down, start NODE, kill NODE SIG, exec NODE CMD, ...).
  QString tb(const QString& args, int* rc = nullptr, int timeoutMs = 60000) const {
    return sh(script() + QLatin1Char(' ') + args, rc, timeoutMs);
  }

  void down() const { tb(QStringLiteral("down")); }

  // A command in one of the testbed's namespaces ("mgmt", "ext", "egress-1", ...).
  QString in(const QString& ns, const QString& cmd, int* rc = nullptr) const {
    return sh(QStringLiteral("ip netns exec %1%2 %3").arg(prefix_, ns, cmd), rc);
  }

  // This build's egressctl in the management namespace with the testbed's client settings (TLS
  // when the testbed made certificates: `ctl-args`); `args` holds everything else, endpoints and
  // redirections included, e.g. "--timeout 1s " + voterEndpoints() + " status -o json 2>/dev/null".
  QString ctl(const QString& args, int* rc = nullptr) const {
    return in(QStringLiteral("mgmt"),
              QStringLiteral("%1 $(%2 ctl-args 2>/dev/null) %3").arg(egressctlBinary(), script(), args), rc);
  }

  // traffic.py's analysis of what the external service received since `sinceNs` (monoNs()).
  QJsonObject analyze(std::int64_t sinceNs, const QString& options = {}) const {
    const auto out = sh(QStringLiteral("python3 %1 analyze %2 --since %3 %4")
                            .arg(sourcePath(u"tests/e2e/testbed/traffic.py"), runFile(QStringLiteral("arrivals.log")))
                            .arg(sinceNs)
                            .arg(options));
    return QJsonDocument::fromJson(out.toUtf8()).object();
  }

  // The end of every agent's and the worker's log, and the testbed's status: a failure's context.
  QString logs(int lines = 30) const {
    return sh(QStringLiteral("tail -n %1 %2/egress-*.log %2/worker.log 2>/dev/null; echo; %3 status")
                  .arg(lines)
                  .arg(runDir_, script()));
  }

  // Copies the run directory (agents' logs, capture, arrivals) to /tmp/<name>-failed<suffix> for
  // the post-mortem of a failed run, before `down` removes it.
  void keepRunDir(const QString& suffix = {}) const {
    const auto keep = QStringLiteral("/tmp/") + name_ + QStringLiteral("-failed") + suffix;
    sh(QStringLiteral("rm -rf %1 && cp -r %2 %1").arg(keep, runDir_));
    qWarning("testbed logs kept in %s", qPrintable(keep));
  }

 private:
  QString name_, prefix_, runDir_;
};

}  // namespace egwtest

// Runs testbed.sh with `args` on `testbed`; the test fails at once (with the script's output) if it
// fails.
#define TB(testbed, args)                     \
  do {                                        \
    int rc_ = 0;                              \
    const auto out_ = (testbed).tb(args, &rc_); \
    QVERIFY2(rc_ == 0, qPrintable(out_));     \
  } while (false)
