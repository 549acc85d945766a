#pragma once
// The console window. It only wires parts together: the session's models into views, the
// banner and status bar to the session's signals, actions to the client (after confirmation).
#include <QtWidgets/QMainWindow>

#include "console/core/add_node_flow.h"
#include "console/core/connection_profiles.h"
#include "console/core/console_session.h"

QT_BEGIN_NAMESPACE
class QAction;
class QActionGroup;
class QComboBox;
class QLabel;
class QMenu;
class QSplitter;
class QTableView;
class QTabWidget;
QT_END_NAMESPACE

namespace egw::console {

class AddNodeWizard;
class DriftView;
class EventsFilterProxy;
class NodesViewProxy;
class TrafficCharts;

class MainWindow final : public QMainWindow {
  Q_OBJECT

 public:
  // `profiles` may be null (no Connection menu entries beyond the current endpoints).
  MainWindow(ConsoleSession* session, ConnectionProfiles* profiles, QWidget* parent = nullptr);
  ~MainWindow() override;

  // How the add-node wizard reaches a node's own agent (main() builds GrpcAgentClients with the
  // current profile's TLS settings). Without one the "Add egress node…" action stays disabled.
  void setNodeClientFactory(AddNodeFlow::ClientFactory factory);
  // Opens the wizard (non-modal, deleted on close) and returns it.
  AddNodeWizard* openAddNodeWizard();

  // Light or dark palette for the whole application (and the charts of this window).
  void setDark(bool dark);
  static void applyPalette(bool dark);

  // For tests.
  QAction* handoverAction() const { return handover_; }
  QAction* candidacyAction() const { return candidacy_; }
  QAction* addNodeAction() const { return addNode_; }
  QTableView* nodesView() const { return nodesView_; }
  QTableView* eventsView() const { return eventsView_; }
  QString bannerMasterText() const;
  QString bannerDetailText() const;
  QString connectionText() const;
  QTabWidget* tabs() const { return tabs_; }
  DriftView* driftView() const { return driftView_; }
  QString nodeDetailsText() const;

 signals:
  // The user picked another connection profile: main() gives the session a new client.
  void profileActivated(const egw::console::ConnectionProfile& profile);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  QWidget* buildBanner();
  QWidget* buildEventsPanel();
  void buildMenus();
  void rebuildProfilesMenu();
  void newProfile();
  void removeProfile();
  void refreshBanner();
  void refreshConnection();
  void refreshActions();
  void refreshKindFilter();
  void refreshNodeFilter();
  void refreshDetails();
  void handOver();
  void toggleCandidacy();
  void onActionFinished(const ActionResult& r);
  QString selectedNode() const;
  void saveLayout();
  void restoreLayout();

  ConsoleSession* session_;
  ConnectionProfiles* profiles_;
  NodesViewProxy* nodesProxy_;
  EventsFilterProxy* eventsProxy_;
  QTabWidget* tabs_ = nullptr;
  QTableView* nodesView_ = nullptr;
  QTableView* eventsView_ = nullptr;
  TrafficCharts* charts_ = nullptr;
  QSplitter* vsplit_ = nullptr;
  QSplitter* hsplit_ = nullptr;
  QSplitter* topSplit_ = nullptr;
  QLabel* details_ = nullptr;
  DriftView* driftView_ = nullptr;
  AddNodeFlow::ClientFactory nodeClientFactory_;
  QComboBox* kindFilter_ = nullptr;
  QComboBox* nodeFilter_ = nullptr;
  QLabel* masterLabel_ = nullptr;
  QLabel* detailLabel_ = nullptr;
  QLabel* warningLabel_ = nullptr;
  QLabel* connLabel_ = nullptr;
  QAction* handover_ = nullptr;
  QAction* candidacy_ = nullptr;
  QAction* addNode_ = nullptr;
  QAction* dark_ = nullptr;
  QMenu* profilesMenu_ = nullptr;
  QActionGroup* profileGroup_ = nullptr;
};

}  // namespace egw::console
