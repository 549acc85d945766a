#include "console/ui/drift_view.h"

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QSortFilterProxyModel>
#include <QtGui/QColor>
#include <QtWidgets/QFileDialog>
#include <QtWidgets/QHBoxLayout>
#include <QtWidgets/QHeaderView>
#include <QtWidgets/QLabel>
#include <QtWidgets/QMessageBox>
#include <QtWidgets/QPushButton>
#include <QtWidgets/QTableView>
#include <QtWidgets/QVBoxLayout>

#include "console/core/allowlist_export.h"
#include "console/core/console_session.h"

namespace egw::console {

// Colours the state column by state (both palettes) and sorts by the model's raw values.
class DriftViewProxy final : public QSortFilterProxyModel {
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;
  void setDark(bool dark) {
    dark_ = dark;
    if (rowCount() > 0) emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
  }
  static QColor colourOf(egw::DriftState s, bool dark) {
    switch (s) {
      case egw::DriftState::Ok: return dark ? QColor(0x81, 0xc7, 0x84) : QColor(0x2e, 0x7d, 0x32);
      case egw::DriftState::Stale:
      case egw::DriftState::Unverified: return dark ? QColor(0xff, 0xd5, 0x4f) : QColor(0x9a, 0x67, 0x00);
      case egw::DriftState::Missing:
      case egw::DriftState::Rejected: return dark ? QColor(0xff, 0x8a, 0x80) : QColor(0xc6, 0x28, 0x28);
    }
    return {};
  }
  QVariant data(const QModelIndex& idx, int role) const override {
    if (role == Qt::ForegroundRole && (idx.column() == DriftModel::State || idx.column() == DriftModel::Ip)) {
      return colourOf(egw::DriftState(QSortFilterProxyModel::data(idx, DriftModel::StateRole).toInt()), dark_);
    }
    if (role == Qt::FontRole && idx.column() == DriftModel::State) {
      QFont f;
      f.setBold(true);
      return f;
    }
    return QSortFilterProxyModel::data(idx, role);
  }

 private:
  bool dark_ = false;
};

DriftView::DriftView(ConsoleSession* session, QWidget* parent)
    : QWidget(parent), session_(session), proxy_(new DriftViewProxy(this)) {
  setObjectName(QStringLiteral("driftView"));
  proxy_->setSourceModel(&model_);
  proxy_->setSortRole(DriftModel::SortRole);
  table_ = new QTableView;
  table_->setObjectName(QStringLiteral("driftTable"));
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(DriftModel::State, Qt::DescendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setAlternatingRowColors(true);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setColumnWidth(DriftModel::Ip, 150);
  table_->setColumnWidth(DriftModel::Node, 110);
  table_->setColumnWidth(DriftModel::State, 90);
  table_->setColumnWidth(DriftModel::Line, 50);
  table_->setWordWrap(false);

  summary_ = new QLabel;
  summary_->setObjectName(QStringLiteral("driftSummary"));
  summary_->setWordWrap(true);
  QFont f = summary_->font();
  f.setBold(true);
  summary_->setFont(f);
  source_ = new QLabel;
  source_->setObjectName(QStringLiteral("driftSource"));
  source_->setWordWrap(true);
  auto* import = new QPushButton(QStringLiteral("Import allowlist…"));
  import->setObjectName(QStringLiteral("driftImport"));
  auto* exportButton = new QPushButton(QStringLiteral("Export allowlist…"));
  connect(import, &QPushButton::clicked, this, &DriftView::chooseAndImport);
  connect(exportButton, &QPushButton::clicked, this, &DriftView::chooseAndExport);

  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(6, 6, 6, 6);
  auto* h = new QHBoxLayout;
  h->addWidget(summary_, 1);
  h->addWidget(import);
  h->addWidget(exportButton);
  v->addLayout(h);
  v->addWidget(source_);
  v->addWidget(table_, 1);

  connect(session_, &ConsoleSession::stateApplied, this, [this] { model_.setCluster(session_->state()); });
  connect(&model_, &DriftModel::reportChanged, this, &DriftView::refreshSummary);
  model_.setCluster(session_->state());
  refreshSummary();
}

QString DriftView::summaryText() const { return summary_->text(); }

void DriftView::setDark(bool dark) { proxy_->setDark(dark); }

void DriftView::refreshSummary() {
  summary_->setText(model_.summary());
  const egw::Allowlist* list = model_.allowlist();
  if (list == nullptr) {
    source_->clear();
    return;
  }
  QString text = QStringLiteral("Compared with %1 (%2, %3 entries)")
                     .arg(model_.allowlistSource(), QString::fromLatin1(egw::formatName(list->format)))
                     .arg(list->entries.size());
  if (!list->skipped.empty()) text += QStringLiteral(", %1 bad row(s) skipped").arg(list->skipped.size());
  if (!list->warnings.empty()) text += QStringLiteral(", %1 warning(s)").arg(list->warnings.size());
  QStringList tips;
  for (const auto& n : list->skipped) tips << QString::fromStdString(n.str()) + QStringLiteral(" (skipped)");
  for (const auto& n : list->warnings) tips << QString::fromStdString(n.str()) + QStringLiteral(" (warning)");
  source_->setText(text);
  source_->setToolTip(tips.join(QLatin1Char('\n')));
}

bool DriftView::importFile(const QString& path) {
  AllowlistImport r = importAllowlistFile(path, false);
  if (!r.ok) {
    QMessageBox box(QMessageBox::Warning, QStringLiteral("Import allowlist"),
                    QStringLiteral("%1 has %2 bad row(s); nothing was imported.")
                        .arg(QDir::toNativeSeparators(path))
                        .arg(r.errors.size()),
                    QMessageBox::Cancel, this);
    box.setInformativeText(r.errors.mid(0, 10).join(QLatin1Char('\n')) +
                           (r.errors.size() > 10 ? QStringLiteral("\n…") : QString()));
    box.setDetailedText(r.errors.join(QLatin1Char('\n')));
    QPushButton* skip = nullptr;
    if (r.canSkipBadRows) {
      skip = box.addButton(QStringLiteral("Skip bad rows (import %1)").arg(r.goodRows), QMessageBox::AcceptRole);
      skip->setObjectName(QStringLiteral("skipBadRows"));
    }
    box.exec();
    if (skip == nullptr || box.clickedButton() != skip) return false;
    r = importAllowlistFile(path, true);
    if (!r.ok) return false;  // the file changed in between; the next import shows why
  }
  model_.setAllowlist(std::move(r.list), QDir::toNativeSeparators(path));
  return true;
}

bool DriftView::exportTo(const QString& path) {
  const QList<ExportRow> rows = allowlistRows(session_->state(), firstSeenFromEvents(*session_->events()));
  QString error;
  if (!writeFileAtomically(path, renderAllowlist(rows, exportFormatFor(path), session_->state().servedBy), &error)) {
    QMessageBox::warning(this, QStringLiteral("Export allowlist"), error);
    return false;
  }
  return true;
}

void DriftView::chooseAndImport() {
  const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Import the external service's allowlist"), {},
                                                    QStringLiteral("Allowlists (*.csv *.txt *.list);;All files (*)"));
  if (!path.isEmpty()) importFile(path);
}

void DriftView::chooseAndExport() {
  QString filter;
  QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export the cluster's allowlist"),
                                              QStringLiteral("allowlist.csv"),
                                              QStringLiteral("CSV (*.csv);;Text (*.txt);;JSON (*.json)"), &filter);
  if (path.isEmpty()) return;
  // The format follows the suffix; a name without one gets the chosen filter's.
  if (QFileInfo(path).suffix().isEmpty()) {
    path += filter.startsWith(QLatin1String("JSON")) ? QStringLiteral(".json")
            : filter.startsWith(QLatin1String("Text")) ? QStringLiteral(".txt")
                                                        : QStringLiteral(".csv");
  }
  if (exportTo(path)) {
    QMessageBox::information(this, QStringLiteral("Export allowlist"),
                             QStringLiteral("Wrote the cluster's egress IPs to %1.").arg(QDir::toNativeSeparators(path)));
  }
}

}  // namespace egw::console
