#pragma once
// The "Allowlist drift" tab: the operator's allowlist file against the cluster (DriftModel),
// every address with its state, colour and reason; import (with the bad rows listed by line and
// the choice to skip them) and export of the cluster's allowlist.
#include <QtWidgets/QWidget>

#include "console/core/drift_model.h"

QT_BEGIN_NAMESPACE
class QLabel;
class QSortFilterProxyModel;
class QTableView;
QT_END_NAMESPACE

namespace egw::console {

class ConsoleSession;
class DriftViewProxy;

class DriftView final : public QWidget {
  Q_OBJECT

 public:
  explicit DriftView(ConsoleSession* session, QWidget* parent = nullptr);

  DriftModel* model() { return &model_; }
  QTableView* table() const { return table_; }
  QString summaryText() const;
  void setDark(bool dark);

  // Reads and imports the file; on bad rows shows them (by line) and offers to skip them.
  // Returns whether a list was imported.
  bool importFile(const QString& path);
  // Writes the cluster's allowlist (format from the suffix: .csv, .txt, .json). Returns false and
  // shows why when it cannot.
  bool exportTo(const QString& path);
  // The dialogs behind File → Import allowlist… / Export allowlist….
  void chooseAndImport();
  void chooseAndExport();

 private:
  void refreshSummary();

  ConsoleSession* session_;
  DriftModel model_;
  DriftViewProxy* proxy_;
  QTableView* table_;
  QLabel* summary_;
  QLabel* source_;
};

}  // namespace egw::console
