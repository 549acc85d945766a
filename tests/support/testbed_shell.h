#pragma once
// The e2e tests' handle on tests/e2e/testbed/testbed.sh: shell commands run with the test's own
// namespace prefix and run directory (EGW_TB_PREFIX, EGW_TB_DIR), so tests never share a testbed,
// and the monotonic clock that traffic.py's kernel timestamps are compared with.
#include <time.h>

#include <QProcess>
#include <QString>

#include <cstdint>

namespace egwtest {

// `bash -c cmd`; returns stdout followed by stderr; rc: the exit code, -1 on a crash or timeout
// (the command is killed then).
inline QString testbedShell(const QString& prefix, const QString& runDir, const QString& cmd, int* rc = nullptr,
                            int timeoutMs = 60000) {
  QProcess p;
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("EGW_TB_PREFIX"), prefix);
  env.insert(QStringLiteral("EGW_TB_DIR"), runDir);
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

inline QString testbedScript() { return QStringLiteral(EGW_SOURCE_DIR "/tests/e2e/testbed/testbed.sh"); }

inline std::int64_t monoNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace egwtest
