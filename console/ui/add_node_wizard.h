#pragma once
// The add-egress-node wizard: one page per step of AddNodeFlow (console_core), which holds all
// the logic; the pages only show it and pass the operator's input on. Cancelling the wizard (or
// leaving the verify page) stops the probes.
#include <QtWidgets/QWizard>

#include <optional>

#include "console/core/add_node_flow.h"

QT_BEGIN_NAMESPACE
class QButtonGroup;
class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QTableWidget;
QT_END_NAMESPACE

namespace egw::console {

class ConsoleSession;

class AddNodeWizard final : public QWizard {
  Q_OBJECT

 public:
  enum PageId { ChoosePage, PreflightPage, ExportPage, VerifyPage, EnablePage, SummaryPage };

  // `session` keeps the cluster view current; `operatorList` (may be nullopt) is the allowlist
  // imported in the drift view, for the delta.
  AddNodeWizard(ConsoleSession* session, AddNodeFlow::ClientFactory factory,
                std::optional<egw::Allowlist> operatorList, QWidget* parent = nullptr);
  ~AddNodeWizard() override;

  AddNodeFlow* flow() const { return flow_; }

  void reject() override;

 private:
  AddNodeFlow* flow_;
};

}  // namespace egw::console
