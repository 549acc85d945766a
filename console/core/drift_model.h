#pragma once
// The allowlist drift view's model: one row per address of common's DriftReport (the operator's
// imported allowlist against the cluster's egress IPs and probe verdicts), recomputed on every
// cluster update. Like NodesModel it diffs instead of resetting: removed rows go in contiguous
// runs, changed rows get one bounding dataChanged, new rows one insertion at the end (so the
// order is stable; sort with a proxy by SortRole).
#include <QtCore/QAbstractTableModel>
#include <QtCore/QStringList>

#include <optional>

#include "console/core/cluster_types.h"
#include "egw/allowlist.h"
#include "egw/drift.h"

namespace egw::console {

// The result of reading the operator's allowlist file. ok: `list` holds what was imported
// (with skipBadRows: the good rows; the bad ones are in `skipped`). !ok: `errors` has one
// "FILE: line N: what" per bad row; `canSkipBadRows` says whether importing again with
// skipBadRows would succeed (it cannot for an unterminated quote or a binary file).
struct AllowlistImport {
  bool ok = false;
  egw::Allowlist list;
  QStringList errors;
  QStringList warnings;
  QStringList skipped;
  bool canSkipBadRows = false;
  int goodRows = 0;  // !ok && canSkipBadRows: how many rows skipping would import
};
AllowlistImport importAllowlist(const QByteArray& text, const QString& source, bool skipBadRows,
                                egw::AllowlistFormat format = egw::AllowlistFormat::Auto);
// Reads the file first; a read error is the one error.
AllowlistImport importAllowlistFile(const QString& path, bool skipBadRows,
                                    egw::AllowlistFormat format = egw::AllowlistFormat::Auto);

class DriftModel final : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Ip, Node, State, Line, Reason, ColumnCount };
  enum Roles {
    SortRole = Qt::UserRole + 1,  // raw value to sort by
    StateRole,                    // int(egw::DriftState)
    SeverityRole,                 // 0 ok, 1 needs attention (stale, unverified), 2 problem (missing, rejected)
  };

  explicit DriftModel(QObject* parent = nullptr);

  void setCluster(const ClusterSnapshot& state);
  // The operator's current allowlist; nullopt clears it (no rows then: nothing to compare with).
  void setAllowlist(std::optional<egw::Allowlist> list, const QString& source = {});
  bool hasAllowlist() const { return list_.has_value(); }
  const egw::Allowlist* allowlist() const { return list_ ? &*list_ : nullptr; }
  QString allowlistSource() const { return source_; }
  const egw::DriftReport& report() const { return report_; }
  // The report's summary, or why there is none.
  QString summary() const;
  const egw::DriftRow& row(int r) const { return rows_.at(r); }

  static QString stateLabel(egw::DriftState s);
  static int severityOf(egw::DriftState s);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 signals:
  void reportChanged();

 private:
  void recompute();
  static QString keyOf(const egw::DriftRow& r);

  ClusterSnapshot state_;
  std::optional<egw::Allowlist> list_;
  QString source_;
  egw::DriftReport report_;
  QList<egw::DriftRow> rows_;
};

}  // namespace egw::console
