#pragma once
// Where the checkout and the build are, read at run time from the environment that CTest gives
// every test (EGW_SOURCE_DIR, EGW_BINARY_DIR; tests/CMakeLists.txt). Not compiled in: an absolute
// path in a compile definition made every clone's test objects differ, so ccache never shared them.
// Run by hand, a test needs both exported, e.g.
//   EGW_SOURCE_DIR=$PWD EGW_BINARY_DIR=$PWD/build/dev build/dev/tests/unit/config/test_config
#include <QString>
#include <QtGlobal>

namespace egwtest {

namespace detail {
inline QString requiredDirFromEnv(const char* name) {
  const QString dir = qEnvironmentVariable(name);
  if (dir.isEmpty())
    qFatal("%s is not set: run the test with ctest, or export EGW_SOURCE_DIR (the checkout) and "
           "EGW_BINARY_DIR (the build directory)",
           name);
  return dir;
}
}  // namespace detail

// The checkout's root (the directory with the top CMakeLists.txt).
inline QString sourceDir() {
  static const QString dir = detail::requiredDirFromEnv("EGW_SOURCE_DIR");
  return dir;
}

// The build directory's root.
inline QString binaryDir() {
  static const QString dir = detail::requiredDirFromEnv("EGW_BINARY_DIR");
  return dir;
}

// A path below the checkout or the build directory: sourcePath(u"tests/e2e/testbed/testbed.sh").
inline QString sourcePath(QStringView rel) { return sourceDir() + QLatin1Char('/') + rel.toString(); }
inline QString binaryPath(QStringView rel) { return binaryDir() + QLatin1Char('/') + rel.toString(); }

// The programs of this build that tests run.
inline QString agentBinary() { return binaryPath(u"agent/egress-agent"); }
inline QString egressctlBinary() { return binaryPath(u"ctl/egressctl"); }

}  // namespace egwtest
