#pragma once
// Runs a program to completion for a test: exit code (-1 when it crashed or timed out), stdout
// and stderr apart. Used to drive the real egressctl and egress-agent binaries.
#include <QProcess>
#include <QString>
#include <QStringList>

#include "support/paths.h"

namespace egwtest {

struct Run {
  int code = -1;
  QString out, err;
};

inline Run runProcess(const QString& program, const QStringList& args, int timeoutMs = 20000,
                      const QByteArray& stdinData = {}) {
  QProcess p;
  p.start(program, args);
  if (!stdinData.isEmpty()) p.write(stdinData);
  p.closeWriteChannel();
  Run r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished();
    r.err = QStringLiteral("timed out");
    return r;
  }
  r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

// The egressctl of this build.
inline Run egressctl(const QStringList& args, int timeoutMs = 20000, const QByteArray& stdinData = {}) {
  return runProcess(egwtest::egressctlBinary(), args, timeoutMs, stdinData);
}

}  // namespace egwtest
