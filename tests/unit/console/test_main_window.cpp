// MainWindow with a fake client: the actions confirm, call the client, and the banner follows
// the new master; the add-node wizard, the drift tab and the node details; problems are shown in the window; both palettes.
#include <QtCore/QFile>
#include <QtCore/QSettings>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtGui/QAction>
#include <QtWidgets/QApplication>
#include <QtWidgets/QInputDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QTableView>
#include <QtTest/QTest>

#include "console/ui/add_node_wizard.h"
#include "console/ui/drift_view.h"
#include "console/ui/main_window.h"
#include "fakes/fake_agent_client.h"

using namespace egw::console;

namespace {

// Answers modal dialogs while alive: clicks `button` on a message box (remembering its text),
// accepts an input dialog with its preselected item.
class ModalAnswerer : public QObject {
 public:
  explicit ModalAnswerer(QMessageBox::StandardButton button) : button_(button) {
    connect(&timer_, &QTimer::timeout, this, [this] {
      QWidget* w = QApplication::activeModalWidget();
      if (auto* box = qobject_cast<QMessageBox*>(w)) {
        texts << box->text();
        box->button(button_)->click();
      } else if (auto* input = qobject_cast<QInputDialog*>(w)) {
        inputs << input->textValue();
        input->accept();
      }
    });
    timer_.start(10);
  }
  QStringList texts;
  QStringList inputs;

 private:
  QMessageBox::StandardButton button_;
  QTimer timer_;
};

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

  QTemporaryDir settingsDir_;
  std::unique_ptr<ConsoleSession> session_;
  FakeAgentClient* client_ = nullptr;
  std::unique_ptr<MainWindow> window_;

  void selectNode(const QString& name) {
    QTableView* v = window_->nodesView();
    for (int r = 0; r < v->model()->rowCount(); ++r) {
      if (v->model()->index(r, 0).data(NodesModel::NodeNameRole).toString() == name) {
        v->selectRow(r);
        return;
      }
    }
    QFAIL("node not in the table");
  }
  QString selected() const {
    const auto rows = window_->nodesView()->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : rows.first().data(NodesModel::NodeNameRole).toString();
  }

 private slots:
  void initTestCase() {
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir_.path());
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir_.path());
    QCoreApplication::setOrganizationName(QStringLiteral("EgressGatewayTest"));
  }

  void init() {
    session_ = std::make_unique<ConsoleSession>();
    auto c = std::make_unique<FakeAgentClient>();
    client_ = c.get();
    session_->setClient(std::move(c));
    window_ = std::make_unique<MainWindow>(session_.get(), nullptr);
    window_->show();
    client_->sendSnapshot(sampleCluster());
    session_->flush();
  }

  void cleanup() {
    window_.reset();
    session_.reset();
  }

  void handoverConfirmsCallsTheClientAndTheBannerFollows() {
    QCOMPARE(window_->bannerMasterText(), QStringLiteral("Master: egress-1"));
    client_->onHandover = [this](const QString& to) {
      client_->finish(ActionResult{Action::Handover, to, true, QStringLiteral("handed over"), to, {}, {}});
      client_->sendState(sampleCluster(to, 4));
    };
    selectNode(QStringLiteral("egress-2"));
    QVERIFY(window_->handoverAction()->isEnabled());
    {
      ModalAnswerer yes(QMessageBox::Yes);
      window_->handoverAction()->trigger();
      QCOMPARE(yes.texts.size(), 1);
      QVERIFY2(yes.texts.first().contains(QStringLiteral("from egress-1 to egress-2")), qPrintable(yes.texts.first()));
      QVERIFY(yes.inputs.isEmpty());  // the selected candidate is the target: no chooser
    }
    QCOMPARE(client_->handovers, QStringList{QStringLiteral("egress-2")});
    QTRY_COMPARE(window_->bannerMasterText(), QStringLiteral("Master: egress-2"));
    QCOMPARE(selected(), QStringLiteral("egress-2"));  // the update kept the selection
  }

  void servedByAnObserverTheBannerSaysWhereTheWholeViewIs() {
    QVERIFY(!window_->bannerDetailText().contains(QStringLiteral("observer")));
    auto s = sampleCluster();
    s.partial = true;
    s.servedBy = QStringLiteral("worker-3");
    s.voters = {QStringLiteral("egress-1"), QStringLiteral("egress-2"), QStringLiteral("egress-3")};
    client_->sendState(s);
    session_->flush();
    QTRY_VERIFY2(window_->bannerDetailText().contains(
                     QStringLiteral("served by observer worker-3: it knows only itself and the master; connect to a "
                                    "voter (egress-1, egress-2, egress-3) for the whole cluster")),
                 qPrintable(window_->bannerDetailText()));
  }

  void cancellingTheConfirmationDoesNothing() {
    selectNode(QStringLiteral("egress-3"));
    {
      ModalAnswerer cancel(QMessageBox::Cancel);
      window_->handoverAction()->trigger();
      QCOMPARE(cancel.texts.size(), 1);
    }
    QVERIFY(client_->handovers.isEmpty());
  }

  void handoverWithoutATargetAsksForOne() {
    window_->nodesView()->clearSelection();
    {
      ModalAnswerer yes(QMessageBox::Yes);
      window_->handoverAction()->trigger();
      QCOMPARE(yes.inputs, QStringList{QStringLiteral("(best healthy candidate)")});
      QCOMPARE(yes.texts.size(), 1);
    }
    QCOMPARE(client_->handovers, QStringList{QString()});
  }

  void candidacyToggleConfirmsAndCalls() {
    selectNode(QStringLiteral("egress-3"));
    QVERIFY(window_->candidacyAction()->isEnabled());
    QCOMPARE(window_->candidacyAction()->text(), QStringLiteral("&Disable candidacy"));
    {
      ModalAnswerer yes(QMessageBox::Yes);
      window_->candidacyAction()->trigger();
      QCOMPARE(yes.texts.size(), 1);
      QVERIFY(yes.texts.first().contains(QStringLiteral("Disable the candidacy of egress-3")));
    }
    QCOMPARE(client_->candidacyCalls, QStringList{QStringLiteral("egress-3:disable")});
    ClusterSnapshot s = sampleCluster();
    s.nodes[2].candidacy = Candidacy::Disabled;
    client_->sendState(s);
    session_->flush();
    QCOMPARE(window_->candidacyAction()->text(), QStringLiteral("&Enable candidacy"));
    selectNode(QStringLiteral("worker-1"));
    QVERIFY(!window_->candidacyAction()->isEnabled());  // not an egress node
  }

  void selectionSurvivesStreamUpdates() {
    selectNode(QStringLiteral("egress-3"));
    for (int i = 0; i < 10; ++i) {
      ClusterSnapshot s = sampleCluster(QStringLiteral("egress-1"), 3, 1'700'000'000'000 + i * 1000);
      s.nodes[0].snatBytes = quint64(i) * 1'000'000;
      client_->sendState(s);
      session_->flush();
    }
    QCOMPARE(selected(), QStringLiteral("egress-3"));
  }

  void addNodeOpensTheWizard() {
    QVERIFY(!window_->addNodeAction()->isEnabled());  // no way to reach a node's agent yet
    QStringList madeFor;
    window_->setNodeClientFactory([&madeFor](const QString& ep) {
      madeFor << ep;
      return std::make_unique<FakeAgentClient>();
    });
    QVERIFY(window_->addNodeAction()->isEnabled());
    window_->addNodeAction()->trigger();
    auto* wizard = window_->findChild<AddNodeWizard*>();
    QVERIFY(wizard != nullptr);
    QVERIFY(wizard->isVisible());
    QCOMPARE(wizard->currentId(), int(AddNodeWizard::ChoosePage));
    wizard->reject();
    client_->setConnection(ConnectionState::Backoff, QStringLiteral("x"));
    QVERIFY(!window_->addNodeAction()->isEnabled());  // not while disconnected
  }

  void nodeDetailsShowLeaseAndVerdict() {
    window_->nodesView()->clearSelection();
    QVERIFY(window_->nodeDetailsText().contains(QStringLiteral("The master")));  // nothing selected: the master
    QVERIFY(window_->nodeDetailsText().contains(QStringLiteral("<td>egress-1</td>")));
    ClusterSnapshot s = sampleCluster();
    s.nodes[1].allowlist = AllowlistVerdict::Rejected;
    s.nodes[1].allowlistDetail = QStringLiteral("refused the connection from 172.16.0.8 (TCP reset)");
    client_->sendState(s);
    session_->flush();
    selectNode(QStringLiteral("egress-2"));
    const QString text = window_->nodeDetailsText();
    QVERIFY2(text.contains(QStringLiteral("Lease</b>&nbsp;&nbsp;</td><td>250 ms (as egress-1 computes it)")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("Lease refresh</b>&nbsp;&nbsp;</td><td>every 100 ms")));
    QVERIFY(text.contains(QStringLiteral("Drift margin</b>&nbsp;&nbsp;</td><td>50 ms")));
    QVERIFY(text.contains(QStringLiteral("rejected: refused the connection from 172.16.0.8 (TCP reset)")));
    selectNode(QStringLiteral("egress-3"));
    QVERIFY(window_->nodeDetailsText().contains(QStringLiteral("172.16.0.9 on eth1")));
  }

  void driftTabImportsSkipsBadRowsAndExports() {
    QCOMPARE(window_->tabs()->tabText(1), QStringLiteral("Allowlist drift"));
    DriftView* drift = window_->driftView();
    QCOMPARE(window_->tabs()->widget(1), drift);
    QVERIFY(drift->summaryText().contains(QStringLiteral("No allowlist imported")));
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("allow.csv"));
    {
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("ip,comment\n172.16.0.7,egress-1\n172.16.0.300,typo\n172.16.0.8,egress-2\n203.0.113.9,old\n");
    }
    // Cancel: nothing imported; the message names the line.
    {
      ModalAnswerer cancel(QMessageBox::Cancel);
      QVERIFY(!drift->importFile(path));
      QCOMPARE(cancel.texts.size(), 1);
    }
    QVERIFY(!drift->model()->hasAllowlist());
    // Skip bad rows: the good ones are imported.
    {
      QTimer t;
      QString informative;
      connect(&t, &QTimer::timeout, this, [&] {
        if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
          informative = box->informativeText();
          box->findChild<QPushButton*>(QStringLiteral("skipBadRows"))->click();
        }
      });
      t.start(10);
      QVERIFY(drift->importFile(path));
      QVERIFY2(informative.contains(QStringLiteral("line 3: '172.16.0.300'")), qPrintable(informative));
    }
    QCOMPARE(drift->model()->rowCount(), 4);  // .7 ok, .8 ok, .9 missing, 203.0.113.9 stale
    QCOMPARE(window_->tabs()->tabText(1), QStringLiteral("Allowlist drift (2)"));
    if (const QString shots = qEnvironmentVariable("EGW_SCREENSHOT_DIR"); !shots.isEmpty()) {
      window_->tabs()->setCurrentIndex(1);  // to look at by hand
      window_->grab().save(shots + QStringLiteral("/drift-tab.png"));
    }
    QVERIFY2(drift->summaryText().contains(QStringLiteral("1 missing")), qPrintable(drift->summaryText()));
    QVERIFY(drift->summaryText().contains(QStringLiteral("1 stale")));
    // The table colours states: missing red, ok green.
    QAbstractItemModel* view = drift->table()->model();
    for (int r = 0; r < view->rowCount(); ++r) {
      const QString state = view->index(r, DriftModel::State).data().toString();
      const QColor c = view->index(r, DriftModel::State).data(Qt::ForegroundRole).value<QColor>();
      if (state == QStringLiteral("missing")) QVERIFY(c.red() > c.green());
      if (state == QStringLiteral("ok")) QVERIFY(c.green() > c.red());
    }
    // Export in each format.
    for (const char* name : {"out.csv", "out.txt", "out.json"}) {
      const QString out = dir.filePath(QLatin1String(name));
      QVERIFY(drift->exportTo(out));
      QFile f(out);
      QVERIFY(f.open(QIODevice::ReadOnly));
      const QByteArray data = f.readAll();
      QVERIFY2(data.contains("172.16.0.9"), name);
      if (QByteArray(name).endsWith("csv")) QVERIFY(data.startsWith("ip,node,role,state,first_seen\r\n"));
      if (QByteArray(name).endsWith("json")) QVERIFY(data.trimmed().startsWith('['));
    }
  }

  void connectionProblemsAreShownInTheWindow() {
    client_->setConnection(ConnectionState::Incompatible, QStringLiteral("agent egress-9 speaks protocol 2, console speaks 1"));
    auto* warning = window_->findChild<QLabel*>(QStringLiteral("bannerWarning"));
    QVERIFY(warning != nullptr);
    QVERIFY(warning->isVisible());
    QVERIFY(warning->text().contains(QStringLiteral("speaks protocol 2")));
    QVERIFY(window_->connectionText().contains(QStringLiteral("incompatible")));
    QVERIFY(!window_->handoverAction()->isEnabled());
    client_->sendSnapshot(sampleCluster());
    session_->flush();
    QVERIFY(!warning->isVisible());
  }

  void bothPalettesAreReadable() {
    for (bool dark : {false, true}) {
      window_->setDark(dark);
      const QPalette p = QApplication::palette();
      const int contrast = std::abs(p.color(QPalette::Window).lightness() - p.color(QPalette::WindowText).lightness());
      QVERIFY2(contrast > 120, qPrintable(QStringLiteral("dark=%1 contrast=%2").arg(dark).arg(contrast)));
      const int baseContrast = std::abs(p.color(QPalette::Base).lightness() - p.color(QPalette::Text).lightness());
      QVERIFY(baseContrast > 120);
      QCOMPARE(p.color(QPalette::Window).lightness() < 128, dark);
    }
    window_->setDark(false);
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
