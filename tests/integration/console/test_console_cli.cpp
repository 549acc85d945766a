// egress-console as a process: --help, and --headless against a live (fake) agent and a dead one.
#include <QtCore/QProcess>
#include <QtTest/QTest>

#include "support/paths.h"

namespace {
QString bin(const char* rel) { return egwtest::binaryDir() + QLatin1Char('/') + QLatin1String(rel); }
}  // namespace

class TestConsoleCli : public QObject {
  Q_OBJECT

 private slots:
  void helpGoesToStdoutAndExitsZero() {
    QProcess p;
    p.start(bin("console/egress-console"), {QStringLiteral("--help")});
    QVERIFY(p.waitForFinished(20'000));
    QCOMPARE(p.exitCode(), 0);
    const QString out = QString::fromLocal8Bit(p.readAllStandardOutput());
    QVERIFY2(out.contains(QStringLiteral("--endpoint")), qPrintable(out));
    QVERIFY(out.contains(QStringLiteral("--headless")));
    QVERIFY(out.contains(QStringLiteral("--screenshot")));
  }

  void headlessPrintsTheClusterStatus() {
    QProcess agent;
    agent.start(bin("tests/integration/console/egw-fake-agent"), {});
    QVERIFY(agent.waitForReadyRead(20'000));
    const QString line = QString::fromLocal8Bit(agent.readLine()).trimmed();
    QVERIFY2(line.startsWith(QStringLiteral("listening on ")), qPrintable(line));
    const QString endpoint = line.mid(13);

    QProcess console;
    console.start(bin("console/egress-console"),
                  {QStringLiteral("--headless"), QStringLiteral("--endpoint"), endpoint, QStringLiteral("--after"),
                   QStringLiteral("2500")});
    QVERIFY(console.waitForFinished(20'000));
    const QString out = QString::fromLocal8Bit(console.readAllStandardOutput());
    QCOMPARE(console.exitCode(), 0);
    QVERIFY2(out.contains(QStringLiteral("master egress-1 term 6 · nodes 5/6 healthy · streaming via ") + endpoint),
             qPrintable(out));
    agent.terminate();
    QVERIFY(agent.waitForFinished(10'000));
  }

  void headlessReportsAnUnreachableAgent() {
    QProcess console;
    console.start(bin("console/egress-console"),
                  {QStringLiteral("--headless"), QStringLiteral("--endpoint"), QStringLiteral("127.0.0.1:1"),
                   QStringLiteral("--after"), QStringLiteral("1500")});
    QVERIFY(console.waitForFinished(20'000));
    QCOMPARE(console.exitCode(), 1);
    const QString out = QString::fromLocal8Bit(console.readAllStandardOutput());
    QVERIFY2(out.contains(QStringLiteral("reconnecting via 127.0.0.1:1")), qPrintable(out));
    QVERIFY(out.contains(QStringLiteral("UNAVAILABLE")));
  }
};

QTEST_GUILESS_MAIN(TestConsoleCli)
#include "test_console_cli.moc"
