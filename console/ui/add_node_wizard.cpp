#include "console/ui/add_node_wizard.h"

#include <QtCore/QDir>
#include <QtCore/QStandardPaths>
#include <QtGui/QClipboard>
#include <QtGui/QGuiApplication>
#include <QtWidgets/QButtonGroup>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QGroupBox>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QLineEdit>
#include <QtWidgets/QListWidget>
#include <QtWidgets/QPlainTextEdit>
#include <QtWidgets/QProgressBar>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QRadioButton>
#include <QtWidgets/QTableWidget>
#include <QtWidgets/QVBoxLayout>
#include <QtWidgets/QWizardPage>

#include "console/core/console_session.h"

namespace egw::console {

namespace {

QString colourOf(PreflightCheck::Status s) {
  switch (s) {
    case PreflightCheck::Status::Ok: return QStringLiteral("#2e7d32");
    case PreflightCheck::Status::Warning: return QStringLiteral("#b26a00");
    case PreflightCheck::Status::Failed: return QStringLiteral("#c62828");
    case PreflightCheck::Status::Running:
    case PreflightCheck::Status::Info: break;
  }
  return {};
}

QLabel* wrapped(const QString& text = {}) {
  auto* l = new QLabel(text);
  l->setWordWrap(true);
  l->setTextInteractionFlags(Qt::TextSelectableByMouse);
  return l;
}

// 1. A pending node from the cluster view, or an agent address.
class ChooseNodePage final : public QWizardPage {
 public:
  explicit ChooseNodePage(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Choose the new egress node"));
    setSubTitle(QStringLiteral("A node that has joined the cluster waits with its candidacy pending until it is "
                               "enabled. Pick it, or enter its agent's API address (listen.api)."));
    auto* v = new QVBoxLayout(this);
    fromCluster_ = new QRadioButton(QStringLiteral("A joined node with pending candidacy:"));
    fromCluster_->setObjectName(QStringLiteral("fromCluster"));
    byAddress_ = new QRadioButton(QStringLiteral("The agent at this address:"));
    byAddress_->setObjectName(QStringLiteral("byAddress"));
    list_ = new QListWidget;
    list_->setObjectName(QStringLiteral("pendingNodes"));
    address_ = new QLineEdit;
    address_->setObjectName(QStringLiteral("agentAddress"));
    address_->setPlaceholderText(QStringLiteral("10.0.0.14:7401"));
    error_ = wrapped();
    error_->setObjectName(QStringLiteral("chooseError"));
    error_->setStyleSheet(QStringLiteral("color: #c62828;"));
    v->addWidget(fromCluster_);
    v->addWidget(list_, 1);
    v->addWidget(byAddress_);
    v->addWidget(address_);
    v->addWidget(error_);
    connect(list_, &QListWidget::currentRowChanged, this, [this] {
      if (list_->currentRow() >= 0) fromCluster_->setChecked(true);
      emit completeChanged();
    });
    connect(address_, &QLineEdit::textEdited, this, [this] {
      byAddress_->setChecked(true);
      emit completeChanged();
    });
    connect(fromCluster_, &QRadioButton::toggled, this, &QWizardPage::completeChanged);
  }
  void initializePage() override {
    list_->clear();
    for (const NodeInfo& n : flow_->pendingNodes()) {
      auto* item = new QListWidgetItem(QStringLiteral("%1   egress IP %2   agent %3")
                                           .arg(n.name, n.egressIp.isEmpty() ? QStringLiteral("—") : n.egressIp,
                                                n.apiEndpoint.isEmpty() ? QStringLiteral("—") : n.apiEndpoint));
      item->setData(Qt::UserRole, n.name);
      list_->addItem(item);
    }
    if (list_->count() > 0) {
      list_->setCurrentRow(0);
      fromCluster_->setChecked(true);
    } else {
      list_->addItem(QStringLiteral("(no node is waiting: start the new node's agent with this cluster's voters)"));
      list_->item(0)->setFlags(Qt::NoItemFlags);
      fromCluster_->setEnabled(false);
      byAddress_->setChecked(true);
    }
  }
  bool isComplete() const override {
    return fromCluster_->isChecked() ? list_->currentItem() != nullptr && !list_->currentItem()->data(Qt::UserRole).isNull()
                                     : !address_->text().trimmed().isEmpty();
  }
  bool validatePage() override {
    QString error;
    const bool ok = fromCluster_->isChecked()
                        ? flow_->chooseNode(list_->currentItem()->data(Qt::UserRole).toString(), &error)
                        : flow_->chooseAddress(address_->text(), &error);
    error_->setText(ok ? QString() : error);
    return ok;
  }

 private:
  AddNodeFlow* flow_;
  QRadioButton* fromCluster_;
  QRadioButton* byAddress_;
  QListWidget* list_;
  QLineEdit* address_;
  QLabel* error_;
};

// 2. The checks, live from the node's own agent.
class PreflightPageW final : public QWizardPage {
 public:
  explicit PreflightPageW(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Preflight"));
    setSubTitle(QStringLiteral("The console connects to the node's own agent and checks it. A failed check must be "
                               "fixed on the node; warnings let you go on."));
    auto* v = new QVBoxLayout(this);
    table_ = new QTableWidget(0, 3);
    table_->setObjectName(QStringLiteral("preflightChecks"));
    table_->setHorizontalHeaderLabels({QStringLiteral("Check"), QStringLiteral("Result"), QStringLiteral("Detail")});
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setWordWrap(true);
    auto* again = new QPushButton(QStringLiteral("Check again"));
    again->setObjectName(QStringLiteral("preflightAgain"));
    connect(again, &QPushButton::clicked, this, [this] { flow_->startPreflight(); });
    v->addWidget(table_, 1);
    auto* h = new QHBoxLayout;
    h->addStretch(1);
    h->addWidget(again);
    v->addLayout(h);
    connect(flow_, &AddNodeFlow::preflightChanged, this, [this] {
      refresh();
      emit completeChanged();
    });
  }
  void initializePage() override { flow_->startPreflight(); }
  bool isComplete() const override { return flow_->preflightPassed(); }

 private:
  void refresh() {
    const auto& checks = flow_->checks();
    table_->setRowCount(int(checks.size()));
    for (int r = 0; r < checks.size(); ++r) {
      const PreflightCheck& c = checks[r];
      auto* status = new QTableWidgetItem(labelOf(c.status));
      const QString colour = colourOf(c.status);
      if (!colour.isEmpty()) status->setForeground(QColor(colour));
      table_->setItem(r, 0, new QTableWidgetItem(c.title));
      table_->setItem(r, 1, status);
      auto* detail = new QTableWidgetItem(c.detail);
      detail->setToolTip(c.detail);
      table_->setItem(r, 2, detail);
    }
    table_->resizeColumnToContents(0);
    table_->resizeColumnToContents(1);
  }
  AddNodeFlow* flow_;
  QTableWidget* table_;
};

// 3. The IP, the CSV and what to tell the service's owner.
class ExportPageW final : public QWizardPage {
 public:
  explicit ExportPageW(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Tell the external service"));
    setSubTitle(QStringLiteral("The new node's public IP must be on the external service's allowlist before it may "
                               "carry traffic."));
    auto* v = new QVBoxLayout(this);
    ip_ = new QLabel;
    ip_->setObjectName(QStringLiteral("exportIp"));
    ip_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont f = ip_->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    f.setBold(true);
    ip_->setFont(f);
    auto* copy = new QPushButton(QStringLiteral("Copy IP"));
    copy->setObjectName(QStringLiteral("copyIp"));
    connect(copy, &QPushButton::clicked, this, [this] {
      QGuiApplication::clipboard()->setText(flow_->egressIp());
      flow_->noteCopied();
      status_->setText(QStringLiteral("%1 copied to the clipboard.").arg(flow_->egressIp()));
    });
    auto* top = new QHBoxLayout;
    top->addWidget(ip_);
    top->addStretch(1);
    top->addWidget(copy);
    v->addLayout(top);
    instructions_ = wrapped();
    instructions_->setObjectName(QStringLiteral("exportInstructions"));
    v->addWidget(instructions_);

    auto* box = new QGroupBox(QStringLiteral("Allowlist CSV (ip,node,role,state,first_seen)"));
    auto* bv = new QVBoxLayout(box);
    full_ = new QRadioButton(QStringLiteral("Full list: every egress IP of the cluster"));
    full_->setObjectName(QStringLiteral("exportFull"));
    delta_ = new QRadioButton(QStringLiteral("Delta: only what the service's list lacks"));
    delta_->setObjectName(QStringLiteral("exportDelta"));
    delta_->setChecked(true);
    preview_ = new QPlainTextEdit;
    preview_->setObjectName(QStringLiteral("exportPreview"));
    preview_->setReadOnly(true);
    preview_->setMaximumHeight(110);
    path_ = new QLineEdit;
    path_->setObjectName(QStringLiteral("exportPath"));
    auto* browse = new QPushButton(QStringLiteral("Browse…"));
    connect(browse, &QPushButton::clicked, this, [this] {
      const QString p = QFileDialog::getSaveFileName(this, QStringLiteral("Save the allowlist CSV"), path_->text(),
                                                     QStringLiteral("CSV (*.csv)"));
      if (!p.isEmpty()) path_->setText(p);
    });
    auto* save = new QPushButton(QStringLiteral("Save CSV"));
    save->setObjectName(QStringLiteral("exportSave"));
    connect(save, &QPushButton::clicked, this, [this] {
      QString error;
      if (flow_->saveCsv(path_->text(), delta_->isChecked(), &error)) {
        status_->setText(QStringLiteral("Saved %1.").arg(path_->text()));
      } else {
        status_->setText(error);
      }
    });
    auto* ph = new QHBoxLayout;
    ph->addWidget(path_, 1);
    ph->addWidget(browse);
    ph->addWidget(save);
    bv->addWidget(full_);
    bv->addWidget(delta_);
    bv->addWidget(preview_);
    bv->addLayout(ph);
    v->addWidget(box);
    status_ = wrapped();
    status_->setObjectName(QStringLiteral("exportStatus"));
    v->addWidget(status_);
    connect(full_, &QRadioButton::toggled, this, [this] { refreshPreview(); });
  }
  void initializePage() override {
    ip_->setText(QStringLiteral("%1  (%2)").arg(flow_->egressIp(), flow_->nodeName()));
    instructions_->setText(flow_->instructions());
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    path_->setText(QDir(dir.isEmpty() ? QDir::homePath() : dir)
                       .filePath(QStringLiteral("allowlist-%1.csv").arg(flow_->nodeName())));
    delta_->setText(flow_->hasOperatorAllowlist()
                         ? QStringLiteral("Delta: only what the imported allowlist lacks")
                         : QStringLiteral("Delta: only the new node's IP (import the service's current list in the "
                                          "drift view for an exact delta)"));
    status_->clear();
    refreshPreview();
  }

 private:
  void refreshPreview() { preview_->setPlainText(QString::fromUtf8(flow_->csv(delta_->isChecked()))); }
  AddNodeFlow* flow_;
  QLabel* ip_;
  QLabel* instructions_;
  QRadioButton* full_;
  QRadioButton* delta_;
  QPlainTextEdit* preview_;
  QLineEdit* path_;
  QLabel* status_;
};

// 4. Probe until accepted, or confirm by hand with a reason.
class VerifyPageW final : public QWizardPage {
 public:
  explicit VerifyPageW(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Verify the allowlist"));
    setSubTitle(QStringLiteral("The node's agent connects to the external service from the new IP, again and again, "
                               "until the service accepts it."));
    auto* v = new QVBoxLayout(this);
    progress_ = new QProgressBar;
    progress_->setObjectName(QStringLiteral("verifyProgress"));
    state_ = wrapped();
    state_->setObjectName(QStringLiteral("verifyState"));
    stop_ = new QPushButton(QStringLiteral("Stop probing"));
    stop_->setObjectName(QStringLiteral("verifyStop"));
    restart_ = new QPushButton(QStringLiteral("Probe again"));
    restart_->setObjectName(QStringLiteral("verifyRestart"));
    connect(stop_, &QPushButton::clicked, flow_, &AddNodeFlow::cancelVerify);
    connect(restart_, &QPushButton::clicked, flow_, &AddNodeFlow::startVerify);
    auto* h = new QHBoxLayout;
    h->addWidget(progress_, 1);
    h->addWidget(stop_);
    h->addWidget(restart_);
    v->addLayout(h);
    v->addWidget(state_);

    auto* box = new QGroupBox(QStringLiteral("Or confirm by hand"));
    auto* bv = new QVBoxLayout(box);
    bv->addWidget(wrapped(QStringLiteral(
        "When the probe cannot tell (a firewall that drops silently looks like a service that is down), confirm that "
        "the owner has added the IP. Give the ticket or the reason: it is recorded, and the candidacy is then "
        "enabled with force.")));
    reason_ = new QLineEdit;
    reason_->setObjectName(QStringLiteral("manualReason"));
    reason_->setPlaceholderText(QStringLiteral("e.g. NET-1234: partner confirmed 172.16.0.5 by mail"));
    auto* confirm = new QPushButton(QStringLiteral("Confirm manually"));
    confirm->setObjectName(QStringLiteral("manualConfirm"));
    connect(confirm, &QPushButton::clicked, this, [this] {
      QString error;
      if (!flow_->confirmManually(reason_->text(), &error)) manualError_->setText(error);
      else manualError_->clear();
    });
    auto* rh = new QHBoxLayout;
    rh->addWidget(reason_, 1);
    rh->addWidget(confirm);
    bv->addLayout(rh);
    manualError_ = wrapped();
    manualError_->setObjectName(QStringLiteral("manualError"));
    manualError_->setStyleSheet(QStringLiteral("color: #c62828;"));
    bv->addWidget(manualError_);
    v->addWidget(box);
    v->addStretch(1);
    connect(flow_, &AddNodeFlow::verifyChanged, this, [this] {
      refresh();
      emit completeChanged();
    });
  }
  void initializePage() override {
    if (!flow_->verified()) flow_->startVerify();
    refresh();
  }
  void cleanupPage() override { flow_->cancelVerify(); }  // Back: stop probing
  bool isComplete() const override { return flow_->verified(); }

 private:
  void refresh() {
    using VS = AddNodeFlow::VerifyState;
    const VS s = flow_->verifyState();
    progress_->setRange(0, std::max(1, flow_->maxProbeAttempts()));
    progress_->setValue(std::min(flow_->probeAttempts(), progress_->maximum()));
    progress_->setFormat(QStringLiteral("probe %1 of %2").arg(flow_->probeAttempts()).arg(flow_->maxProbeAttempts()));
    stop_->setEnabled(s == VS::Probing);
    restart_->setEnabled(s == VS::Cancelled || s == VS::GaveUp || s == VS::Idle);
    const QString last = flow_->probeAttempts() == 0
                             ? QString()
                             : QStringLiteral("Last probe: %1%2").arg(labelOf(flow_->lastVerdict()),
                                                                      flow_->lastProbeDetail().isEmpty()
                                                                          ? QString()
                                                                          : QStringLiteral(" — ") + flow_->lastProbeDetail());
    QString head;
    switch (s) {
      case VS::Idle: head = QStringLiteral("Not started."); break;
      case VS::Probing: head = QStringLiteral("Probing from %1…").arg(flow_->egressIp()); break;
      case VS::Accepted: head = QStringLiteral("✔ The external service accepts %1.").arg(flow_->egressIp()); break;
      case VS::Cancelled: head = QStringLiteral("Stopped. Probe again, or confirm by hand."); break;
      case VS::GaveUp: head = QStringLiteral("Not accepted after %1 probes.").arg(flow_->probeAttempts()); break;
      case VS::ManuallyConfirmed: head = QStringLiteral("✔ Confirmed by hand: %1").arg(flow_->manualRecord()); break;
    }
    state_->setText(last.isEmpty() ? head : head + QLatin1Char('\n') + last);
  }
  AddNodeFlow* flow_;
  QProgressBar* progress_;
  QLabel* state_;
  QPushButton* stop_;
  QPushButton* restart_;
  QLineEdit* reason_;
  QLabel* manualError_;
};

// 5. SetCandidacy(enable) on the node's agent.
class EnablePageW final : public QWizardPage {
 public:
  explicit EnablePageW(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Enable the candidacy"));
    setSubTitle(QStringLiteral("From now on the node may become master when the current one fails or hands over."));
    auto* v = new QVBoxLayout(this);
    text_ = wrapped();
    button_ = new QPushButton(QStringLiteral("Enable candidacy"));
    button_->setObjectName(QStringLiteral("enableCandidacy"));
    connect(button_, &QPushButton::clicked, flow_, &AddNodeFlow::enableCandidacy);
    result_ = wrapped();
    result_->setObjectName(QStringLiteral("enableResult"));
    v->addWidget(text_);
    auto* h = new QHBoxLayout;
    h->addWidget(button_);
    h->addStretch(1);
    v->addLayout(h);
    v->addWidget(result_);
    v->addStretch(1);
    connect(flow_, &AddNodeFlow::enableChanged, this, [this] {
      refresh();
      emit completeChanged();
    });
  }
  void initializePage() override {
    text_->setText(flow_->verifyState() == AddNodeFlow::VerifyState::ManuallyConfirmed
                       ? QStringLiteral("The probe has not verified %1, so the candidacy of %2 is enabled with force; "
                                        "your confirmation goes with the request.")
                             .arg(flow_->egressIp(), flow_->nodeName())
                       : QStringLiteral("The service accepts %1: enable the candidacy of %2.")
                             .arg(flow_->egressIp(), flow_->nodeName()));
    refresh();
  }
  bool isComplete() const override { return flow_->enableState() == AddNodeFlow::EnableState::Enabled; }

 private:
  void refresh() {
    using ES = AddNodeFlow::EnableState;
    button_->setEnabled(flow_->enableState() == ES::Idle || flow_->enableState() == ES::Refused);
    switch (flow_->enableState()) {
      case ES::Idle: result_->clear(); break;
      case ES::Sending: result_->setText(QStringLiteral("Waiting for %1's agent…").arg(flow_->nodeName())); break;
      case ES::Enabled:
        result_->setStyleSheet(QStringLiteral("color: #2e7d32;"));
        result_->setText(QStringLiteral("✔ %1").arg(flow_->enableMessage()));
        break;
      case ES::Refused:
        result_->setStyleSheet(QStringLiteral("color: #c62828;"));
        result_->setText(QStringLiteral("The agent refused: %1").arg(flow_->enableMessage()));
        break;
    }
  }
  AddNodeFlow* flow_;
  QLabel* text_;
  QPushButton* button_;
  QLabel* result_;
};

class SummaryPageW final : public QWizardPage {
 public:
  explicit SummaryPageW(AddNodeFlow* flow) : flow_(flow) {
    setTitle(QStringLiteral("Summary"));
    auto* v = new QVBoxLayout(this);
    text_ = new QPlainTextEdit;
    text_->setObjectName(QStringLiteral("summaryText"));
    text_->setReadOnly(true);
    v->addWidget(text_);
  }
  void initializePage() override { text_->setPlainText(flow_->summary()); }

 private:
  AddNodeFlow* flow_;
  QPlainTextEdit* text_;
};

}  // namespace

AddNodeWizard::AddNodeWizard(ConsoleSession* session, AddNodeFlow::ClientFactory factory,
                             std::optional<egw::Allowlist> operatorList, QWidget* parent)
    : QWizard(parent), flow_(new AddNodeFlow(std::move(factory), this)) {
  setWindowTitle(QStringLiteral("Add egress node"));
  setObjectName(QStringLiteral("addNodeWizard"));
  setWizardStyle(QWizard::ClassicStyle);
  setOption(QWizard::NoBackButtonOnLastPage);
  resize(760, 560);
  const QString data = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
  if (!data.isEmpty()) flow_->setAuditLogPath(QDir(data).filePath(QStringLiteral("allowlist-confirmations.log")));
  flow_->setCluster(session->state());
  flow_->setFirstSeen(firstSeenFromEvents(*session->events()));
  flow_->setOperatorAllowlist(std::move(operatorList));
  connect(session, &ConsoleSession::stateApplied, flow_, [this, session] {
    flow_->setCluster(session->state());
    flow_->setFirstSeen(firstSeenFromEvents(*session->events()));
  });
  setPage(ChoosePage, new ChooseNodePage(flow_));
  setPage(PreflightPage, new PreflightPageW(flow_));
  setPage(ExportPage, new ExportPageW(flow_));
  setPage(VerifyPage, new VerifyPageW(flow_));
  setPage(EnablePage, new EnablePageW(flow_));
  setPage(SummaryPage, new SummaryPageW(flow_));
}

AddNodeWizard::~AddNodeWizard() = default;

void AddNodeWizard::reject() {
  flow_->cancelVerify();  // the probes stop with the wizard, not when it is finally destroyed
  QWizard::reject();
}

}  // namespace egw::console
