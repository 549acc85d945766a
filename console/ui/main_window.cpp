#include "console/ui/main_window.h"

#include <QtCore/QDateTime>
#include <QtCore/QSettings>
#include <QtCore/QSortFilterProxyModel>
#include <QtCore/QTimer>
#include <QtGui/QAction>
#include <QtGui/QActionGroup>
#include <QtGui/QCloseEvent>
#include <QtGui/QFont>
#include <QtGui/QPalette>
#include <QtWidgets/QApplication>
#include <QtWidgets/QComboBox>
#include <QtWidgets/QFrame>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QInputDialog>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMenu>
#include <QtWidgets/QMenuBar>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QScrollBar>
#include <QtWidgets/QSplitter>
#include <QtWidgets/QStatusBar>
#include <QtWidgets/QStyle>
#include <QtWidgets/QTabWidget>
#include <QtWidgets/QTableView>
#include <QtWidgets/QToolBar>
#include <QtWidgets/QVBoxLayout>

#include "console/core/node_details.h"
#include "console/ui/add_node_wizard.h"
#include "console/ui/drift_view.h"
#include "console/ui/traffic_charts.h"
#include "egw/vocabulary.h"

namespace egw::console {

// Sorts the nodes by their raw values and colours what needs attention; readable in both palettes.
class NodesViewProxy final : public QSortFilterProxyModel {
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setDark(bool dark) {
    dark_ = dark;
    if (rowCount() > 0) emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
  }
  QVariant data(const QModelIndex& idx, int role) const override {
    if (role == Qt::ForegroundRole) {
      switch (severity(idx)) {
        case 2: return QColor(dark_ ? QColor(0xff, 0x8a, 0x80) : QColor(0xc6, 0x28, 0x28));
        case 1: return QColor(dark_ ? QColor(0xff, 0xd5, 0x4f) : QColor(0x9a, 0x67, 0x00));
        default: break;
      }
    }
    if (role == Qt::FontRole && node(idx).role == egw::Role::Master) {
      QFont f;
      f.setBold(true);
      return f;
    }
    return QSortFilterProxyModel::data(idx, role);
  }

 private:
  // Per cell: 2 needs action, 1 needs attention, 0 fine.
  const NodeInfo& node(const QModelIndex& idx) const {
    return static_cast<const NodesModel*>(sourceModel())->node(mapToSource(idx).row());
  }
  int severity(const QModelIndex& idx) const {
    const NodeInfo& n = node(idx);
    switch (idx.column()) {
      case NodesModel::Healthy: return n.healthy ? 0 : 2;
      case NodesModel::Allowlist:
        if (!n.isEgress()) return 0;
        return n.allowlist == AllowlistVerdict::Rejected ? 2 : (n.allowlist == AllowlistVerdict::Ok ? 0 : 1);
      case NodesModel::Candidacy:
        return n.candidacy == Candidacy::Pending || n.candidacy == Candidacy::Disabled ? 1 : 0;
      default: return 0;
    }
  }
  bool dark_ = false;
};

namespace {

QPalette darkPalette() {
  QPalette p;
  const QColor window(0x2b, 0x2d, 0x31), base(0x1e, 0x1f, 0x22), text(0xe6, 0xe6, 0xe6), disabled(0x80, 0x80, 0x80);
  p.setColor(QPalette::Window, window);
  p.setColor(QPalette::WindowText, text);
  p.setColor(QPalette::Base, base);
  p.setColor(QPalette::AlternateBase, QColor(0x26, 0x28, 0x2c));
  p.setColor(QPalette::ToolTipBase, QColor(0x3c, 0x3f, 0x41));
  p.setColor(QPalette::ToolTipText, text);
  p.setColor(QPalette::PlaceholderText, disabled);
  p.setColor(QPalette::Text, text);
  p.setColor(QPalette::Button, window);
  p.setColor(QPalette::ButtonText, text);
  p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
  p.setColor(QPalette::Link, QColor(0x6a, 0xb0, 0xff));
  p.setColor(QPalette::Highlight, QColor(0x2f, 0x65, 0xca));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Mid, QColor(0x45, 0x48, 0x4d));
  p.setColor(QPalette::Dark, QColor(0x19, 0x1a, 0x1c));
  for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText}) {
    p.setColor(QPalette::Disabled, role, disabled);
  }
  return p;
}

QString ago(qint64 sinceMs) {
  if (sinceMs <= 0) return QStringLiteral("—");
  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  return QStringLiteral("%1 (%2 ago)")
      .arg(QDateTime::fromMSecsSinceEpoch(sinceMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
           formatDuration(std::max<qint64>(0, now - sinceMs)));
}

}  // namespace

MainWindow::MainWindow(ConsoleSession* session, ConnectionProfiles* profiles, QWidget* parent)
    : QMainWindow(parent), session_(session), profiles_(profiles), nodesProxy_(new NodesViewProxy(this)),
      eventsProxy_(new EventsFilterProxy(this)) {
  setWindowTitle(QStringLiteral("Egress Gateway console"));
  setWindowIcon(QIcon(QStringLiteral(":/icons/egress-console.png")));

  nodesProxy_->setSourceModel(session_->nodes());
  nodesProxy_->setSortRole(NodesModel::SortRole);
  nodesView_ = new QTableView;
  nodesView_->setObjectName(QStringLiteral("nodesView"));
  nodesView_->setModel(nodesProxy_);
  nodesView_->setSortingEnabled(true);
  nodesView_->sortByColumn(NodesModel::Name, Qt::AscendingOrder);
  nodesView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  nodesView_->setSelectionMode(QAbstractItemView::SingleSelection);
  nodesView_->setAlternatingRowColors(true);
  nodesView_->verticalHeader()->hide();
  nodesView_->horizontalHeader()->setStretchLastSection(true);
  nodesView_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  nodesView_->setContextMenuPolicy(Qt::ActionsContextMenu);
  nodesView_->verticalHeader()->setDefaultSectionSize(nodesView_->fontMetrics().height() + 8);

  charts_ = new TrafficCharts(session_->traffic());

  hsplit_ = new QSplitter(Qt::Horizontal);
  hsplit_->addWidget(buildEventsPanel());
  hsplit_->addWidget(charts_);
  hsplit_->setStretchFactor(0, 3);
  hsplit_->setStretchFactor(1, 2);
  details_ = new QLabel;
  details_->setObjectName(QStringLiteral("nodeDetails"));
  details_->setAlignment(Qt::AlignTop | Qt::AlignLeft);
  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  details_->setMargin(6);
  details_->setFrameShape(QFrame::StyledPanel);
  topSplit_ = new QSplitter(Qt::Horizontal);
  topSplit_->addWidget(nodesView_);
  topSplit_->addWidget(details_);
  topSplit_->setStretchFactor(0, 3);
  topSplit_->setStretchFactor(1, 1);
  vsplit_ = new QSplitter(Qt::Vertical);
  vsplit_->addWidget(topSplit_);
  vsplit_->addWidget(hsplit_);
  vsplit_->setStretchFactor(0, 2);
  vsplit_->setStretchFactor(1, 3);

  auto* clusterTab = new QWidget;
  auto* clusterLayout = new QVBoxLayout(clusterTab);
  clusterLayout->setContentsMargins(6, 6, 6, 6);
  clusterLayout->addWidget(buildBanner());
  clusterLayout->addWidget(vsplit_, 1);

  driftView_ = new DriftView(session_);

  tabs_ = new QTabWidget;
  tabs_->addTab(clusterTab, QStringLiteral("Cluster"));
  tabs_->addTab(driftView_, QStringLiteral("Allowlist drift"));
  // The tab says how many addresses need attention, so drift is seen from the cluster tab too.
  connect(driftView_->model(), &DriftModel::reportChanged, this, [this] {
    const egw::DriftReport& r = driftView_->model()->report();
    const std::size_t bad = r.rows.size() - r.count(egw::DriftState::Ok);
    tabs_->setTabText(1, bad == 0 ? QStringLiteral("Allowlist drift") : QStringLiteral("Allowlist drift (%1)").arg(bad));
  });
  setCentralWidget(tabs_);

  connLabel_ = new QLabel;
  statusBar()->addPermanentWidget(connLabel_, 1);

  buildMenus();

  connect(session_, &ConsoleSession::bannerChanged, this, [this] { refreshBanner(); });
  connect(session_, &ConsoleSession::connectionChanged, this, [this] {
    refreshConnection();
    refreshBanner();
    refreshActions();
  });
  connect(session_, &ConsoleSession::stateApplied, this, [this] {
    refreshActions();
    refreshDetails();
  });
  connect(session_, &ConsoleSession::actionFinished, this, &MainWindow::onActionFinished);
  connect(session_->events(), &EventsModel::kindsChanged, this, &MainWindow::refreshKindFilter);
  connect(session_->nodes(), &QAbstractItemModel::rowsInserted, this, &MainWindow::refreshNodeFilter);
  connect(session_->nodes(), &QAbstractItemModel::rowsRemoved, this, &MainWindow::refreshNodeFilter);
  connect(nodesView_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
    refreshActions();
    refreshDetails();
  });
  auto* ticker = new QTimer(this);  // "since … ago"
  connect(ticker, &QTimer::timeout, this, [this] { refreshBanner(); });
  ticker->start(1000);

  restoreLayout();
  refreshBanner();
  refreshConnection();
  refreshActions();
  refreshKindFilter();
  refreshNodeFilter();
  refreshDetails();
}

MainWindow::~MainWindow() = default;

void MainWindow::setNodeClientFactory(AddNodeFlow::ClientFactory factory) {
  nodeClientFactory_ = std::move(factory);
  refreshActions();
}

AddNodeWizard* MainWindow::openAddNodeWizard() {
  if (!nodeClientFactory_) return nullptr;
  const egw::Allowlist* list = driftView_->model()->allowlist();
  auto* wizard = new AddNodeWizard(session_, nodeClientFactory_,
                                   list != nullptr ? std::optional<egw::Allowlist>(*list) : std::nullopt, this);
  wizard->setAttribute(Qt::WA_DeleteOnClose);
  wizard->show();
  return wizard;
}

QString MainWindow::nodeDetailsText() const { return details_->text(); }

void MainWindow::refreshDetails() {
  // Without a selection the panel shows the master: the node an operator asks about first.
  const QString selected = selectedNode();
  const QString name = selected.isEmpty() ? session_->state().master : selected;
  const DetailRows rows = nodeDetails(session_->state(), name);
  if (rows.isEmpty()) {
    details_->setText(QStringLiteral("<i>Select a node to see its details.</i>"));
    return;
  }
  QString html = selected.isEmpty() ? QStringLiteral("<i>The master (select a node for another):</i>") : QString();
  html += QStringLiteral("<table cellspacing=\"2\">");
  for (const auto& [label, value] : rows) {
    html += QStringLiteral("<tr><td><b>%1</b>&nbsp;&nbsp;</td><td>%2</td></tr>").arg(label.toHtmlEscaped(), value.toHtmlEscaped());
  }
  details_->setText(html + QStringLiteral("</table>"));
}

QWidget* MainWindow::buildBanner() {
  auto* frame = new QFrame;
  frame->setObjectName(QStringLiteral("banner"));
  frame->setFrameShape(QFrame::StyledPanel);
  auto* layout = new QVBoxLayout(frame);
  layout->setContentsMargins(10, 6, 10, 6);
  masterLabel_ = new QLabel;
  masterLabel_->setObjectName(QStringLiteral("bannerMaster"));
  QFont f = masterLabel_->font();
  f.setPointSizeF(f.pointSizeF() * 1.5);
  f.setBold(true);
  masterLabel_->setFont(f);
  masterLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  detailLabel_ = new QLabel;
  detailLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  warningLabel_ = new QLabel;
  warningLabel_->setObjectName(QStringLiteral("bannerWarning"));
  warningLabel_->setWordWrap(true);
  warningLabel_->hide();
  layout->addWidget(masterLabel_);
  layout->addWidget(detailLabel_);
  layout->addWidget(warningLabel_);
  return frame;
}

QWidget* MainWindow::buildEventsPanel() {
  eventsProxy_->setSourceModel(session_->events());
  eventsProxy_->setSortRole(EventsModel::SortRole);
  eventsView_ = new QTableView;
  eventsView_->setObjectName(QStringLiteral("eventsView"));
  eventsView_->setModel(eventsProxy_);
  eventsView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  eventsView_->setAlternatingRowColors(true);
  eventsView_->verticalHeader()->hide();
  eventsView_->horizontalHeader()->setStretchLastSection(false);
  eventsView_->horizontalHeader()->setSectionResizeMode(EventsModel::Message, QHeaderView::Stretch);
  eventsView_->verticalHeader()->setDefaultSectionSize(eventsView_->fontMetrics().height() + 6);
  eventsView_->setColumnWidth(EventsModel::Time, eventsView_->fontMetrics().horizontalAdvance(QStringLiteral("2026-11-26 13:15:02.000")) + 16);
  int kindWidth = 0;
  for (EventKind k : kEventKinds) kindWidth = std::max(kindWidth, eventsView_->fontMetrics().horizontalAdvance(labelOf(k)));
  eventsView_->setColumnWidth(EventsModel::Kind, kindWidth + 16);
  eventsView_->setColumnWidth(EventsModel::Node, 90);
  eventsView_->setColumnWidth(EventsModel::Term, 50);
  eventsView_->setColumnWidth(EventsModel::Gap, 70);
  eventsView_->setWordWrap(false);
  // Follow new events while the view is scrolled to the bottom.
  connect(eventsProxy_, &QAbstractItemModel::rowsAboutToBeInserted, this, [this] {
    QScrollBar* sb = eventsView_->verticalScrollBar();
    eventsView_->setProperty("follow", sb->value() >= sb->maximum() - 2);
  });
  connect(eventsProxy_, &QAbstractItemModel::rowsInserted, this, [this] {
    if (eventsView_->property("follow").toBool()) QTimer::singleShot(0, eventsView_, &QTableView::scrollToBottom);
  });

  kindFilter_ = new QComboBox;
  kindFilter_->setObjectName(QStringLiteral("kindFilter"));
  nodeFilter_ = new QComboBox;
  nodeFilter_->setObjectName(QStringLiteral("nodeFilter"));
  connect(kindFilter_, &QComboBox::currentIndexChanged, this,
          [this] { eventsProxy_->setKindFilter(kindFilter_->currentData().toString()); });
  connect(nodeFilter_, &QComboBox::currentIndexChanged, this,
          [this] { eventsProxy_->setNodeFilter(nodeFilter_->currentData().toString()); });

  auto* panel = new QWidget;
  auto* v = new QVBoxLayout(panel);
  v->setContentsMargins(0, 0, 0, 0);
  auto* filters = new QHBoxLayout;
  filters->addWidget(new QLabel(QStringLiteral("Events")));
  filters->addStretch(1);
  filters->addWidget(new QLabel(QStringLiteral("Kind:")));
  filters->addWidget(kindFilter_);
  filters->addWidget(new QLabel(QStringLiteral("Node:")));
  filters->addWidget(nodeFilter_);
  v->addLayout(filters);
  v->addWidget(eventsView_, 1);
  return panel;
}

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
  QAction* import = file->addAction(QStringLiteral("&Import allowlist…"), driftView_, &DriftView::chooseAndImport);
  import->setObjectName(QStringLiteral("importAllowlistAction"));
  QAction* exportAction = file->addAction(QStringLiteral("&Export allowlist…"), driftView_, &DriftView::chooseAndExport);
  exportAction->setObjectName(QStringLiteral("exportAllowlistAction"));
  file->addSeparator();
  QAction* quit = file->addAction(QStringLiteral("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* conn = menuBar()->addMenu(QStringLiteral("&Connection"));
  profilesMenu_ = conn->addMenu(QStringLiteral("&Profiles"));
  profileGroup_ = new QActionGroup(this);
  conn->addAction(QStringLiteral("&New profile…"), this, &MainWindow::newProfile);
  conn->addAction(QStringLiteral("&Remove current profile"), this, &MainWindow::removeProfile);
  conn->addSeparator();
  conn->addAction(QStringLiteral("Re&connect"), this, [this] {
    if (profiles_ != nullptr) emit profileActivated(profiles_->current());
  });
  rebuildProfilesMenu();

  QMenu* cluster = menuBar()->addMenu(QStringLiteral("C&luster"));
  handover_ = cluster->addAction(QStringLiteral("&Hand over…"), this, &MainWindow::handOver);
  handover_->setObjectName(QStringLiteral("handoverAction"));
  handover_->setToolTip(QStringLiteral("Planned handover: the master hands its role to the chosen candidate"));
  candidacy_ = cluster->addAction(QStringLiteral("&Disable candidacy"), this, &MainWindow::toggleCandidacy);
  candidacy_->setObjectName(QStringLiteral("candidacyAction"));
  cluster->addSeparator();
  addNode_ = cluster->addAction(QStringLiteral("&Add egress node…"), this, [this] { openAddNodeWizard(); });
  addNode_->setObjectName(QStringLiteral("addNodeAction"));
  nodesView_->addAction(handover_);
  nodesView_->addAction(candidacy_);

  QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
  dark_ = view->addAction(QStringLiteral("&Dark palette"));
  dark_->setCheckable(true);
  connect(dark_, &QAction::toggled, this, [this](bool on) {
    setDark(on);
    QSettings().setValue(QStringLiteral("ui/dark"), on);
  });

  QMenu* help = menuBar()->addMenu(QStringLiteral("&Help"));
  help->addAction(QStringLiteral("&About"), this, [this] {
    QMessageBox::about(this, QStringLiteral("Egress Gateway console"),
                       QStringLiteral("egress-console %1\nOperator console of the egress gateway cluster.")
                           .arg(QCoreApplication::applicationVersion()));
  });

  QToolBar* tb = addToolBar(QStringLiteral("Cluster"));
  tb->setObjectName(QStringLiteral("clusterToolbar"));
  tb->setMovable(false);
  tb->addAction(handover_);
  tb->addAction(candidacy_);
  tb->addSeparator();
  tb->addAction(addNode_);
  tb->addSeparator();
  tb->addAction(dark_);
}

void MainWindow::rebuildProfilesMenu() {
  profilesMenu_->clear();
  for (QAction* a : profileGroup_->actions()) profileGroup_->removeAction(a);
  if (profiles_ == nullptr) {
    profilesMenu_->setEnabled(false);
    return;
  }
  for (const ConnectionProfile& p : profiles_->all()) {
    QAction* a = profilesMenu_->addAction(QStringLiteral("%1  (%2)").arg(p.name, p.endpoints.join(QStringLiteral(", "))));
    a->setCheckable(true);
    a->setChecked(p.name == profiles_->currentName());
    profileGroup_->addAction(a);
    connect(a, &QAction::triggered, this, [this, name = p.name] {
      profiles_->setCurrent(name);
      QSettings s;
      profiles_->save(s);
      emit profileActivated(profiles_->current());
    });
  }
}

void MainWindow::newProfile() {
  if (profiles_ == nullptr) return;
  bool ok = false;
  const QString name = QInputDialog::getText(this, QStringLiteral("New connection profile"), QStringLiteral("Name:"),
                                             QLineEdit::Normal, QString(), &ok)
                           .trimmed();
  if (!ok || name.isEmpty()) return;
  const QString text = QInputDialog::getText(this, QStringLiteral("New connection profile"),
                                             QStringLiteral("Agent endpoints (HOST:PORT, separated by commas; the "
                                                            "console fails over between them):"),
                                             QLineEdit::Normal, QStringLiteral("127.0.0.1:7401"), &ok);
  if (!ok) return;
  QString error;
  const QStringList endpoints = ConnectionProfiles::parseEndpoints(text, &error);
  if (endpoints.isEmpty()) {
    QMessageBox::warning(this, QStringLiteral("New connection profile"), error);
    return;
  }
  const QString tls = QInputDialog::getText(this, QStringLiteral("New connection profile"),
                                            QStringLiteral("TLS directory (ca.pem, client.pem, client-key.pem); "
                                                           "empty for an insecure connection:"),
                                            QLineEdit::Normal, QString(), &ok);
  if (!ok) return;
  profiles_->upsert(ConnectionProfile{name, endpoints, tls.trimmed()});
  profiles_->setCurrent(name);
  QSettings s;
  profiles_->save(s);
  rebuildProfilesMenu();
  emit profileActivated(profiles_->current());
}

void MainWindow::removeProfile() {
  if (profiles_ == nullptr) return;
  const QString name = profiles_->currentName();
  if (QMessageBox::question(this, QStringLiteral("Remove profile"), QStringLiteral("Remove the profile %1?").arg(name),
                            QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
    return;
  profiles_->remove(name);
  QSettings s;
  profiles_->save(s);
  rebuildProfilesMenu();
  emit profileActivated(profiles_->current());
}

QString MainWindow::bannerMasterText() const { return masterLabel_->text(); }
QString MainWindow::bannerDetailText() const { return detailLabel_->text(); }
QString MainWindow::connectionText() const { return connLabel_->text(); }

void MainWindow::refreshBanner() {
  const BannerInfo& b = session_->banner();
  if (b.master.isEmpty()) {
    masterLabel_->setText(session_->state().nodes.isEmpty() ? QStringLiteral("Master: — (not connected)")
                                                            : QStringLiteral("Master: none (no quorum?)"));
  } else {
    masterLabel_->setText(QStringLiteral("Master: %1").arg(b.master));
  }
  detailLabel_->setText(
      QStringLiteral("Egress IP %1   ·   term %2   ·   since %3   ·   last failover gap %4   ·   %5 mode   ·   served by %6")
          .arg(b.egressIp.isEmpty() ? QStringLiteral("—") : b.egressIp)
          .arg(b.term)
          .arg(ago(b.sinceMs), formatDuration(b.lastFailoverGapMs),
               b.mode.isEmpty() ? QStringLiteral("—") : b.mode, b.servedBy.isEmpty() ? QStringLiteral("—") : b.servedBy));
  // Served by an observer (a worker): one row, not the cluster. Say so where the eye is, and
  // where the whole view is (docs/membership.md).
  if (const ClusterSnapshot& s = session_->state(); s.partial) {
    std::vector<std::string> voters;
    for (const QString& v : s.voters) voters.push_back(v.toStdString());
    detailLabel_->setText(detailLabel_->text() + QStringLiteral("\n⚠ ") +
                          QString::fromStdString(egw::partialViewNotice(s.servedBy.toStdString(), voters)));
  }
  const ConnectionState st = session_->connectionState();
  const bool problem = st == ConnectionState::Backoff || st == ConnectionState::Incompatible;
  if (problem || (!b.connected && !session_->lastError().isEmpty())) {
    const QString head = st == ConnectionState::Incompatible ? QStringLiteral("Incompatible agent")
                                                             : QStringLiteral("Not connected");
    warningLabel_->setText(QStringLiteral("⚠ %1:\n%2%3")
                               .arg(head, session_->lastError())
                               .arg(session_->state().nodes.isEmpty() ? QString()
                                                                      : QStringLiteral(" (showing the last known state)")));
    warningLabel_->setStyleSheet(QStringLiteral("color: %1; font-weight: bold;")
                                     .arg(dark_ != nullptr && dark_->isChecked() ? QStringLiteral("#ff8a80")
                                                                                 : QStringLiteral("#c62828")));
    warningLabel_->show();
  } else {
    warningLabel_->hide();
  }
}

void MainWindow::refreshConnection() {
  const QString ep = session_->endpoint().isEmpty() ? QStringLiteral("—") : session_->endpoint();
  QString text = QStringLiteral("Agent %1 · stream %2").arg(ep, labelOf(session_->connectionState()));
  if (!session_->connectionDetail().isEmpty()) text += QStringLiteral(" · ") + session_->connectionDetail();
  connLabel_->setText(text);
  connLabel_->setToolTip(text);
}

QString MainWindow::selectedNode() const {
  const QModelIndexList rows = nodesView_->selectionModel()->selectedRows();
  if (rows.isEmpty()) return {};
  return rows.first().data(NodesModel::NodeNameRole).toString();
}

void MainWindow::refreshActions() {
  const bool streaming = session_->connectionState() == ConnectionState::Streaming;
  handover_->setEnabled(streaming && !session_->state().master.isEmpty());
  const NodeInfo* n = session_->state().findNode(selectedNode());
  const bool egress = n != nullptr && n->isEgress();
  candidacy_->setEnabled(streaming && egress);
  const bool enabled = egress && n->candidacy == Candidacy::Enabled;
  candidacy_->setText(enabled || !egress ? QStringLiteral("&Disable candidacy") : QStringLiteral("&Enable candidacy"));
  candidacy_->setToolTip(egress ? QStringLiteral("%1 candidacy of %2").arg(enabled ? QStringLiteral("Disable") : QStringLiteral("Enable"), n->name)
                                : QStringLiteral("Select an egress node"));
  addNode_->setEnabled(streaming && nodeClientFactory_);
  addNode_->setToolTip(nodeClientFactory_ ? QStringLiteral("Bring a joined node (candidacy pending) into service: "
                                                           "preflight, allowlist, verification, candidacy")
                                          : QStringLiteral("not available"));
}

void MainWindow::refreshKindFilter() {
  const QString current = kindFilter_->currentData().toString();
  QSignalBlocker block(kindFilter_);
  kindFilter_->clear();
  kindFilter_->addItem(QStringLiteral("All kinds"), QString());
  for (const QString& k : session_->events()->kinds()) kindFilter_->addItem(k, k);
  kindFilter_->setCurrentIndex(std::max(0, kindFilter_->findData(current)));
}

void MainWindow::refreshNodeFilter() {
  const QString current = nodeFilter_->currentData().toString();
  QStringList names;
  const NodesModel* m = session_->nodes();
  for (int r = 0; r < m->rowCount(); ++r) names << m->node(r).name;
  names.sort();
  QSignalBlocker block(nodeFilter_);
  nodeFilter_->clear();
  nodeFilter_->addItem(QStringLiteral("All nodes"), QString());
  for (const QString& n : names) nodeFilter_->addItem(n, n);
  nodeFilter_->setCurrentIndex(std::max(0, nodeFilter_->findData(current)));
}

void MainWindow::handOver() {
  AgentClient* client = session_->client();
  if (client == nullptr) return;
  const ClusterSnapshot& st = session_->state();
  auto eligible = [&](const NodeInfo* n) {
    return n != nullptr && n->isEgress() && n->candidacy == Candidacy::Enabled && n->name != st.master;
  };
  QString target = selectedNode();
  if (!eligible(st.findNode(target))) {
    const QString best = QStringLiteral("(best healthy candidate)");
    QStringList items{best};
    for (const NodeInfo& n : st.nodes) {
      if (eligible(&n) && n.healthy) items << n.name;
    }
    bool ok = false;
    const QString choice = QInputDialog::getItem(this, QStringLiteral("Hand over"),
                                                 QStringLiteral("Hand the master role over to:"), items, 0, false, &ok);
    if (!ok) return;
    target = choice == best ? QString() : choice;
  }
  const QString to = target.isEmpty() ? QStringLiteral("the best healthy candidate") : target;
  const auto answer = QMessageBox::question(
      this, QStringLiteral("Hand over"),
      QStringLiteral("Hand the master role over from %1 to %2?\n\nTraffic moves to the new master's egress IP; "
                     "connections through %1 may break in primary-ip mode.")
          .arg(st.master, to),
      QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
  if (answer != QMessageBox::Yes) return;
  statusBar()->showMessage(QStringLiteral("Handover to %1 requested…").arg(to), 10'000);
  client->handover(target);
}

void MainWindow::toggleCandidacy() {
  AgentClient* client = session_->client();
  const NodeInfo* n = session_->state().findNode(selectedNode());
  if (client == nullptr || n == nullptr || !n->isEgress()) return;
  const bool enable = n->candidacy != Candidacy::Enabled;
  const QString name = n->name;
  const QString text =
      enable ? QStringLiteral("Enable the candidacy of %1?\n\nIt may become master; its egress IP %2 must be on the "
                              "external service's allowlist.")
                   .arg(name, n->egressIp)
             : QStringLiteral("Disable the candidacy of %1?\n\nIt will not stand for election until enabled again%2.")
                   .arg(name, n->name == session_->state().master ? QStringLiteral("; as the master it hands over")
                                                                  : QString());
  if (QMessageBox::question(this, enable ? QStringLiteral("Enable candidacy") : QStringLiteral("Disable candidacy"),
                            text, QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel) != QMessageBox::Yes)
    return;
  client->setCandidacy(name, enable, false, {});
}

void MainWindow::onActionFinished(const ActionResult& r) {
  const QString what = r.action == Action::Handover ? QStringLiteral("Handover") : QStringLiteral("Candidacy of %1").arg(r.target);
  QString text = r.ok ? QStringLiteral("%1: done").arg(what) : QStringLiteral("%1 failed").arg(what);
  if (!r.newMaster.isEmpty()) text += QStringLiteral(" — new master %1").arg(r.newMaster);
  if (!r.message.isEmpty()) text += QStringLiteral(" — %1").arg(r.message);
  statusBar()->showMessage(text, 15'000);
}

void MainWindow::applyPalette(bool dark) {
  QApplication::setPalette(dark ? darkPalette() : QApplication::style()->standardPalette());
}

void MainWindow::setDark(bool dark) {
  if (dark_->isChecked() != dark) {
    QSignalBlocker b(dark_);
    dark_->setChecked(dark);
  }
  applyPalette(dark);
  charts_->setDark(dark);
  nodesProxy_->setDark(dark);
  driftView_->setDark(dark);
  refreshBanner();
}

void MainWindow::saveLayout() {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  s.setValue(QStringLiteral("window/vsplit"), vsplit_->saveState());
  s.setValue(QStringLiteral("window/hsplit"), hsplit_->saveState());
  s.setValue(QStringLiteral("window/topSplit"), topSplit_->saveState());
  s.setValue(QStringLiteral("window/nodesHeader"), nodesView_->horizontalHeader()->saveState());
}

void MainWindow::restoreLayout() {
  QSettings s;
  if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) resize(1280, 800);
  restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  if (!vsplit_->restoreState(s.value(QStringLiteral("window/vsplit")).toByteArray())) vsplit_->setSizes({250, 450});
  if (!hsplit_->restoreState(s.value(QStringLiteral("window/hsplit")).toByteArray())) hsplit_->setSizes({700, 560});
  if (!topSplit_->restoreState(s.value(QStringLiteral("window/topSplit")).toByteArray())) topSplit_->setSizes({900, 360});
  if (!nodesView_->horizontalHeader()->restoreState(s.value(QStringLiteral("window/nodesHeader")).toByteArray())) {
    nodesView_->horizontalHeader()->resizeSection(NodesModel::Name, 140);
  }
  setDark(s.value(QStringLiteral("ui/dark"), false).toBool());
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveLayout();
  QMainWindow::closeEvent(event);
}

}  // namespace egw::console
