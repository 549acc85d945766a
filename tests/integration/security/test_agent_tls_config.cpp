// Without tls an agent listens on loopback only unless the config says `insecure: true`:
// `egress-agent --check` and a normal start both refuse a non-loopback listener, naming the file,
// line and key (exit 2); `insecure: true` is accepted and warned about at start; a tls section
// whose files cannot be read, or whose certificate peers would refuse, stops the start with the
// key and file named.
#include <unistd.h>

#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include "support/paths.h"
#include "support/run_process.h"

namespace {
// egress-agent with `args`.
egwtest::Run run(const QStringList& args, int timeoutMs = 20000) { return egwtest::runProcess(egwtest::agentBinary(), args, timeoutMs); }
}  // namespace

class TestAgentTlsConfig : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString host_;

  // Line 2 is `listen:`, so errors about the listeners name line 2.
  QString write(const QString& name, const QString& listenHost, const QString& extra) {
    const QString path = dir_.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QStringLiteral("node: { name: egress-1, address: %1, egress: { interface: lo, ip: %1 }, candidate: true }\n"
                           "listen: { peer: \"%2:7400\", api: \"%2:7401\" }\n"
                           "voters:\n  - { name: egress-1, address: \"%1:7400\" }\n"
                           "state_dir: %3\n%4")
                .arg(host_, listenHost, dir_.filePath(name + QStringLiteral("-state")), extra)
                .toUtf8());
    return path;
  }

  // Starts an agent (no datapath) on `path`, waits for its "started:" line, stops it; `out` is
  // what it printed. Fails the test if it does not start or stop.
  void startAndStop(const QString& path, QString& out) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(egwtest::agentBinary(), {QStringLiteral("--config"), path, QStringLiteral("--no-datapath")});
    QVERIFY(p.waitForStarted());
    QTRY_VERIFY2_WITH_TIMEOUT((out += QString::fromUtf8(p.readAll())).contains(QStringLiteral("started:")), qPrintable(out), 15000);
    p.terminate();
    QVERIFY(p.waitForFinished(10000));
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    host_ = QStringLiteral("127.%1.%2.1").arg(250 + getpid() % 5).arg((getpid() / 5) % 250 + 1);
  }

  void nonLoopbackWithoutTlsIsRefused() {
    const auto path = write(QStringLiteral("open.yaml"), QStringLiteral("0.0.0.0"), {});
    for (const QStringList& extra : {QStringList{QStringLiteral("--check")}, QStringList{QStringLiteral("--no-datapath")}}) {
      auto r = run(QStringList{QStringLiteral("--config"), path} + extra);
      QCOMPARE(r.code, 2);
      for (const char* key : {"listen.peer", "listen.api"})
        QVERIFY2(r.err.contains(path + QStringLiteral(":2: ") + QLatin1String(key) +
                                QStringLiteral(": listens on 0.0.0.0:740")),
                 qPrintable(r.err));
      QVERIFY2(r.err.contains(QStringLiteral("configure tls or set insecure: true")), qPrintable(r.err));
    }
  }

  void insecureOrTlsIsAccepted() {
    auto insecure = run({QStringLiteral("--config"), write(QStringLiteral("insecure.yaml"), QStringLiteral("0.0.0.0"),
                                                          QStringLiteral("insecure: true\n")),
                         QStringLiteral("--check")});
    QVERIFY2(insecure.code == 0, qPrintable(insecure.err));
    auto tls = run({QStringLiteral("--config"),
                    write(QStringLiteral("tls.yaml"), QStringLiteral("0.0.0.0"),
                          QStringLiteral("tls: { ca: ca.pem, cert: node.pem, key: node-key.pem }\n")),
                    QStringLiteral("--check")});
    QVERIFY2(tls.code == 0, qPrintable(tls.err));
  }

  void insecureIsWarnedAtStart() {
    // On loopback, so the test listens nowhere else.
    QString out;
    startAndStop(write(QStringLiteral("warn.yaml"), host_, QStringLiteral("insecure: true\n")), out);
    if (QTest::currentTestFailed()) return;
    QVERIFY2(out.contains(QStringLiteral("insecure: true and no tls: anyone who reaches")), qPrintable(out));
  }

  void unreadableTlsFilesStopTheStart() {
    const auto path = write(QStringLiteral("missing.yaml"), host_,
                            QStringLiteral("tls: { ca: nowhere/ca.pem, cert: nowhere/node.pem, key: nowhere/node-key.pem }\n"));
    auto r = run({QStringLiteral("--config"), path, QStringLiteral("--no-datapath")});
    QCOMPARE(r.code, 1);
    const QString all = r.out + r.err;
    QVERIFY2(all.contains(dir_.filePath(QStringLiteral("nowhere/ca.pem")) +
                          QStringLiteral(" (tls.ca, the cluster CA): No such file or directory")),
             qPrintable(all));
  }

  // Files that can be read but would not work with the peers stop the start, each problem named:
  // another node's certificate, a key of another certificate, a certificate of another CA, and a
  // client (operator) certificate in place of a node certificate.
  void unusableCertificatesStopTheStart() {
    const auto certs = dir_.filePath(QStringLiteral("certs")), other = dir_.filePath(QStringLiteral("other-ca"));
    auto mk = [](const QString& d, const QStringList& args) {
      QProcess p;
      p.start(egwtest::sourcePath(u"scripts/make-certs.sh"), QStringList{QStringLiteral("--dir"), d} + args);
      return p.waitForFinished(60000) && p.exitCode() == 0;
    };
    QVERIFY(mk(certs, {QStringLiteral("node"), QStringLiteral("egress-1"), QStringLiteral("--ip"), host_}));
    QVERIFY(mk(certs, {QStringLiteral("node"), QStringLiteral("egress-2"), QStringLiteral("--ip"), host_}));
    QVERIFY(mk(certs, {QStringLiteral("operator")}));
    QVERIFY(mk(other, {QStringLiteral("node"), QStringLiteral("egress-1"), QStringLiteral("--ip"), host_}));
    const QString n1 = certs + QStringLiteral("/egress-1/"), n2 = certs + QStringLiteral("/egress-2/");
    struct Case {
      const char* name;
      QString ca, cert, key, want;
    };
    const Case cases[] = {
        {"good", n1 + QStringLiteral("ca.pem"), n1 + QStringLiteral("node.pem"), n1 + QStringLiteral("node-key.pem"), {}},
        {"another node's", n2 + QStringLiteral("ca.pem"), n2 + QStringLiteral("node.pem"), n2 + QStringLiteral("node-key.pem"),
         QStringLiteral("tls.cert: ") + n2 + QStringLiteral("node.pem: its subject CN is 'egress-2', but node.name is 'egress-1'")},
        {"another key", n1 + QStringLiteral("ca.pem"), n1 + QStringLiteral("node.pem"), n2 + QStringLiteral("node-key.pem"),
         QStringLiteral("tls.key: ") + n2 + QStringLiteral("node-key.pem: does not belong to the certificate ") + n1 + QStringLiteral("node.pem")},
        {"another CA", n1 + QStringLiteral("ca.pem"), other + QStringLiteral("/egress-1/node.pem"),
         other + QStringLiteral("/egress-1/node-key.pem"),
         QStringLiteral("tls.cert: ") + other + QStringLiteral("/egress-1/node.pem: not signed by the CA in ") + n1 + QStringLiteral("ca.pem")},
        {"operator", certs + QStringLiteral("/operator/ca.pem"), certs + QStringLiteral("/operator/client.pem"),
         certs + QStringLiteral("/operator/client-key.pem"), QStringLiteral("its subject OU is 'operator', not 'node'")},
    };
    for (const auto& c : cases) {
      const QString path = write(QStringLiteral("tls-%1.yaml").arg(&c - cases), host_,
                              QStringLiteral("tls: { ca: %1, cert: %2, key: %3 }\n").arg(c.ca, c.cert, c.key));
      if (c.want.isEmpty()) {
        QString out;
        startAndStop(path, out);
        if (QTest::currentTestFailed()) return;
        continue;
      }
      auto r = run({QStringLiteral("--config"), path, QStringLiteral("--no-datapath")});
      QVERIFY2(r.code == 1, c.name);
      QVERIFY2((r.out + r.err).contains(c.want), qPrintable(QLatin1String(c.name) + QStringLiteral(": ") + r.out + r.err));
    }
  }
};

QTEST_GUILESS_MAIN(TestAgentTlsConfig)
#include "test_agent_tls_config.moc"
