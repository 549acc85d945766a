// The add-node wizard driven page by page with QTest against fake clients: the pending node is
// chosen, the preflight runs against the node's own client, the IP is copied and the CSV saved,
// the verify page probes until accepted, stops on Cancel (the page's and the wizard's), takes a
// manual confirmation, and the enable page shows the agent's refusal before it succeeds.
#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QSettings>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtGui/QClipboard>
#include <QtWidgets/QApplication>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTableWidget>
#include <QtTest/QTest>

#include "console/core/console_session.h"
#include "console/ui/add_node_wizard.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

namespace {

ClusterSnapshot clusterWithPending() {
  ClusterSnapshot s = sampleCluster();
  NodeInfo n = s.nodes[2];
  n.name = QStringLiteral("egress-4");
  n.apiEndpoint = QStringLiteral("10.0.0.14:7401");
  n.egressIp = QStringLiteral("172.16.0.5");
  n.candidacy = Candidacy::Pending;
  n.voter = false;
  n.allowlist = AllowlistVerdict::Rejected;
  s.nodes << n;
  return s;
}

}  // namespace

class TestAddNodeWizard : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::unique_ptr<ConsoleSession> session_;
  FakeAgentClient* sessionClient_ = nullptr;
  FakeAgentClient* nodeClient_ = nullptr;
  QStringList madeFor_;
  AddNodeWizard* wizard_ = nullptr;

  template <typename T>
  T* child(const char* name) {
    T* w = wizard_->findChild<T*>(QLatin1String(name));
    if (w == nullptr) qFatal("no widget %s", name);
    return w;
  }
  // EGW_SCREENSHOT_DIR set: each page is saved as a PNG there, to look at by hand.
  void shot(const QString& name) {
    const QString dir = qEnvironmentVariable("EGW_SCREENSHOT_DIR");
    if (!dir.isEmpty()) wizard_->grab().save(QDir(dir).filePath(QStringLiteral("wizard-%1.png").arg(name)));
  }
  bool nextEnabled() const { return wizard_->button(QWizard::NextButton)->isEnabled(); }
  void next() { QTest::mouseClick(wizard_->button(QWizard::NextButton), Qt::LeftButton); }
  void answerProbe(AllowlistVerdict v, const QString& detail) {
    nodeClient_->finish(ActionResult{Action::ProbeAllowlist, QStringLiteral("egress-4"), true, detail, {}, v,
                                     QStringLiteral("172.16.0.5")});
  }
  // Choose egress-4 and pass the preflight; ends on the export page.
  void throughPreflight() {
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::ChoosePage));
    auto* list = child<QListWidget>("pendingNodes");
    QCOMPARE(list->count(), 1);
    QVERIFY(list->item(0)->text().startsWith(QStringLiteral("egress-4")));
    shot(QStringLiteral("1-choose"));
    QVERIFY(nextEnabled());
    next();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::PreflightPage));
    QCOMPARE(madeFor_, QStringList{QStringLiteral("10.0.0.14:7401")});
    QVERIFY(!nextEnabled());  // still checking
    ClusterSnapshot v = clusterWithPending();
    v.servedBy = QStringLiteral("egress-4");
    v.nodes.last().wallTimeMs = QDateTime::currentMSecsSinceEpoch();
    nodeClient_->sendSnapshot(v);
    auto* table = child<QTableWidget>("preflightChecks");
    QCOMPARE(table->rowCount(), 8);
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("ok"));
    shot(QStringLiteral("2-preflight"));
    QVERIFY(nextEnabled());
    next();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::ExportPage));
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, dir_.path());
  }

  void init() {
    madeFor_.clear();
    session_ = std::make_unique<ConsoleSession>();
    auto c = std::make_unique<FakeAgentClient>();
    sessionClient_ = c.get();
    session_->setClient(std::move(c));
    sessionClient_->sendSnapshot(clusterWithPending());
    session_->flush();
    wizard_ = new AddNodeWizard(
        session_.get(),
        [this](const QString& ep) {
          madeFor_ << ep;
          auto n = std::make_unique<FakeAgentClient>();
          n->endpoint = ep;
          nodeClient_ = n.get();
          return n;
        },
        std::nullopt);
    wizard_->flow()->setAuditLogPath(dir_.filePath(QStringLiteral("audit.log")));
    wizard_->show();
  }
  void cleanup() {
    delete wizard_;
    wizard_ = nullptr;
    session_.reset();
  }

  void manualPathWithPageCancelAndARefusal() {
    throughPreflight();
    // Export: the IP, copied; the delta CSV saved.
    QVERIFY(child<QLabel>("exportIp")->text().startsWith(QStringLiteral("172.16.0.5")));
    QVERIFY(child<QLabel>("exportInstructions")->text().contains(QStringLiteral("add 172.16.0.5")));
    QTest::mouseClick(child<QPushButton>("copyIp"), Qt::LeftButton);
    QCOMPARE(QGuiApplication::clipboard()->text(), QStringLiteral("172.16.0.5"));
    const QString csvPath = dir_.filePath(QStringLiteral("delta.csv"));
    child<QLineEdit>("exportPath")->setText(csvPath);
    QTest::mouseClick(child<QPushButton>("exportSave"), Qt::LeftButton);
    QFile csv(csvPath);
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll(), QByteArray("ip,node,role,state,first_seen\r\n172.16.0.5,egress-4,standby,pending,\r\n"));
    QVERIFY(child<QPlainTextEdit>("exportPreview")->toPlainText().contains(QStringLiteral("172.16.0.5,egress-4")));
    shot(QStringLiteral("3-export"));
    next();

    // Verify: probing starts at once; the page's Stop really stops it.
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::VerifyPage));
    wizard_->flow()->setProbeInterval(10);
    QCOMPARE(nodeClient_->probeCalls, QStringList{QStringLiteral("egress-4")});
    QVERIFY(!nextEnabled());
    answerProbe(AllowlistVerdict::Rejected, QStringLiteral("refused the connection (TCP reset)"));
    QVERIFY(child<QLabel>("verifyState")->text().contains(QStringLiteral("TCP reset")));
    QTRY_COMPARE(nodeClient_->probeCalls.size(), 2);
    QCOMPARE(child<QProgressBar>("verifyProgress")->value(), 2);
    QTest::mouseClick(child<QPushButton>("verifyStop"), Qt::LeftButton);
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("late"));  // in flight when stopped: ignored
    QTest::qWait(60);
    QCOMPARE(nodeClient_->probeCalls.size(), 2);
    QVERIFY(!nextEnabled());
    QVERIFY(child<QLabel>("verifyState")->text().startsWith(QStringLiteral("Stopped")));
    // Manual confirmation: refused without a reason, recorded with one.
    QTest::mouseClick(child<QPushButton>("manualConfirm"), Qt::LeftButton);
    QVERIFY(!child<QLabel>("manualError")->text().isEmpty());
    QVERIFY(!nextEnabled());
    QTest::keyClicks(child<QLineEdit>("manualReason"), QStringLiteral("NET-7: partner added it"));
    QTest::mouseClick(child<QPushButton>("manualConfirm"), Qt::LeftButton);
    shot(QStringLiteral("4-verify"));
    QVERIFY(nextEnabled());
    QFile audit(dir_.filePath(QStringLiteral("audit.log")));
    QVERIFY(audit.open(QIODevice::ReadOnly));
    QVERIFY(audit.readAll().contains("NET-7: partner added it"));
    next();

    // Enable: forced (manual confirmation); the refusal is shown, then it succeeds.
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::EnablePage));
    QVERIFY(!nextEnabled());
    QTest::mouseClick(child<QPushButton>("enableCandidacy"), Qt::LeftButton);
    QCOMPARE(nodeClient_->candidacyCalls, QStringList{QStringLiteral("egress-4:enable:force")});
    QCOMPARE(nodeClient_->candidacyReasons, QStringList{QStringLiteral("NET-7: partner added it")});
    nodeClient_->finish(ActionResult{Action::SetCandidacy, QStringLiteral("egress-4"), false,
                                     QStringLiteral("cannot persist candidacy: No space left on device"), {}, {}, {}});
    QVERIFY(child<QLabel>("enableResult")->text().contains(QStringLiteral("No space left on device")));
    shot(QStringLiteral("5-enable-refused"));
    QVERIFY(!nextEnabled());
    QTest::mouseClick(child<QPushButton>("enableCandidacy"), Qt::LeftButton);
    nodeClient_->finish(ActionResult{Action::SetCandidacy, QStringLiteral("egress-4"), true,
                                     QStringLiteral("egress-4 candidacy enabled"), {}, {}, {}});
    QVERIFY(nextEnabled());
    next();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::SummaryPage));
    const QString summary = child<QPlainTextEdit>("summaryText")->toPlainText();
    shot(QStringLiteral("6-summary"));
    QVERIFY2(summary.contains(QStringLiteral("confirmed manually")), qPrintable(summary));
    QVERIFY(summary.contains(QStringLiteral("delta saved to ") + csvPath));
    QVERIFY(summary.contains(QStringLiteral("Candidacy: enabled (forced after the manual confirmation)")));
    QVERIFY(wizard_->button(QWizard::FinishButton)->isVisible());
  }

  void acceptedByTheProbe() {
    throughPreflight();
    next();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::VerifyPage));
    answerProbe(AllowlistVerdict::Ok, QStringLiteral("TCP connect accepted in 3 ms"));
    QVERIFY(child<QLabel>("verifyState")->text().contains(QStringLiteral("accepts 172.16.0.5")));
    QVERIFY(nextEnabled());
    next();
    QTest::mouseClick(child<QPushButton>("enableCandidacy"), Qt::LeftButton);
    QCOMPARE(nodeClient_->candidacyCalls, QStringList{QStringLiteral("egress-4:enable")});  // no force
    QCOMPARE(nodeClient_->candidacyReasons, QStringList{QString()});
  }

  void cancellingTheWizardDuringVerifyStopsTheProbes() {
    throughPreflight();
    next();
    wizard_->flow()->setProbeInterval(10);
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("no answer within 2s"));
    QTRY_COMPARE(nodeClient_->probeCalls.size(), 2);
    QTest::mouseClick(wizard_->button(QWizard::CancelButton), Qt::LeftButton);
    QVERIFY(!wizard_->isVisible());
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("no answer within 2s"));
    QTest::qWait(60);
    QCOMPARE(nodeClient_->probeCalls.size(), 2);
    QCOMPARE(wizard_->flow()->verifyState(), AddNodeFlow::VerifyState::Cancelled);
  }

  void backFromVerifyStopsTheProbes() {
    throughPreflight();
    next();
    wizard_->flow()->setProbeInterval(10);
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("x"));
    QTRY_COMPARE(nodeClient_->probeCalls.size(), 2);
    wizard_->back();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::ExportPage));
    answerProbe(AllowlistVerdict::Unverified, QStringLiteral("x"));
    QTest::qWait(60);
    QCOMPARE(nodeClient_->probeCalls.size(), 2);
  }

  void anAddressTypedIn() {
    auto* address = child<QLineEdit>("agentAddress");
    QTest::keyClicks(address, QStringLiteral("10.0.0.99"));
    next();  // no port: stays, says why
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::ChoosePage));
    QVERIFY(!child<QLabel>("chooseError")->text().isEmpty());
    QTest::keyClicks(address, QStringLiteral(":7401"));
    next();
    QCOMPARE(wizard_->currentId(), int(AddNodeWizard::PreflightPage));
    QCOMPARE(madeFor_.last(), QStringLiteral("10.0.0.99:7401"));
    nodeClient_->setConnection(ConnectionState::Backoff, QStringLiteral("10.0.0.99:7401: stream ended: UNAVAILABLE"));
    auto* table = child<QTableWidget>("preflightChecks");
    QCOMPARE(table->item(0, 1)->text(), QStringLiteral("failed"));
    QVERIFY(table->item(0, 2)->text().contains(QStringLiteral("UNAVAILABLE")));
    QVERIFY(!nextEnabled());
  }
};

QTEST_MAIN(TestAddNodeWizard)
#include "test_add_node_wizard.moc"
