// The executables' command lines: --check on every example and on a broken file, --help.
#include <QDir>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "support/paths.h"
#include "support/run_process.h"

namespace {
// `exe`: a path below the build directory, e.g. "/agent/egress-agent".
egwtest::Run run(const QString& exe, const QStringList& args) { return egwtest::runProcess(egwtest::binaryDir() + exe, args, 30000); }
}  // namespace

class TestAgentCheck : public QObject {
  Q_OBJECT
 private slots:
  void examplesPassCheck() {
    QDir dir(egwtest::sourcePath(u"resources/examples"));
    for (const auto& f : dir.entryList({QStringLiteral("*.yaml")}, QDir::Files)) {
      auto r = run(QStringLiteral("/agent/egress-agent"), {QStringLiteral("--config"), dir.filePath(f), QStringLiteral("--check")});
      QVERIFY2(r.code == 0, qPrintable(f + QStringLiteral(": ") + r.err));
      QVERIFY(r.out.contains(QStringLiteral(": ok")));
    }
  }
  void brokenFileExits2WithEveryError() {
    QTemporaryDir tmp;
    const auto path = tmp.filePath(QStringLiteral("bad.yaml"));
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("node:\n  name: Bad_Name\n  address: 10.0.0.1\nlisten: { peer: '127.0.0.1:1', api: '127.0.0.1:99999' }\n"
            "voters: [ { name: a, address: '127.0.0.1:1' }, { name: b, address: '127.0.0.1:2' } ]\n");
    f.close();
    auto r = run(QStringLiteral("/agent/egress-agent"), {QStringLiteral("--config"), path, QStringLiteral("--check")});
    QCOMPARE(r.code, 2);
    QVERIFY2(r.err.contains(path + QStringLiteral(":2: node.name:")), qPrintable(r.err));
    QVERIFY2(r.err.contains(path + QStringLiteral(":4: listen.api:")), qPrintable(r.err));
    QVERIFY2(r.err.contains(path + QStringLiteral(":5: voters: the number of voters must be odd")), qPrintable(r.err));
  }
  void missingConfigExits2() {
    auto r = run(QStringLiteral("/agent/egress-agent"), {QStringLiteral("--config"), QStringLiteral("/nonexistent.yaml"), QStringLiteral("--check")});
    QCOMPARE(r.code, 2);
    QVERIFY(r.err.contains(QStringLiteral("/nonexistent.yaml")));
  }
  void helpForEveryExecutable() {
    auto a = run(QStringLiteral("/agent/egress-agent"), {QStringLiteral("--help")});
    QCOMPARE(a.code, 0);
    QVERIFY(a.out.contains(QStringLiteral("--config")));
    QVERIFY(a.out.contains(QStringLiteral("--check")));
    QVERIFY(a.out.contains(QStringLiteral("--no-datapath")));
    auto c = run(QStringLiteral("/ctl/egressctl"), {QStringLiteral("--help")});
    QCOMPARE(c.code, 0);
    QVERIFY(c.out.contains(QStringLiteral("--endpoint")));
    QVERIFY(c.out.contains(QStringLiteral("status")));
    if (QFile::exists(egwtest::binaryPath(u"console/egress-console"))) {
      auto g = run(QStringLiteral("/console/egress-console"), {QStringLiteral("--help")});
      QCOMPARE(g.code, 0);
      QVERIFY(g.out.contains(QStringLiteral("--endpoint")));
    }
  }
  void unknownOptionExits2() {
    auto a = run(QStringLiteral("/agent/egress-agent"), {QStringLiteral("--bogus")});
    QCOMPARE(a.code, 2);
  }
};

QTEST_GUILESS_MAIN(TestAgentCheck)
#include "test_agent_check.moc"
