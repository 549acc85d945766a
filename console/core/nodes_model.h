#pragma once
// One row per node, in the order nodes first appeared (sort with a proxy). applyState() diffs the
// new state against the rows and emits removals, one bounding dataChanged for the changed rows,
// and one insertion: never a reset, so selection and scroll survive updates.
#include <QtCore/QAbstractTableModel>
#include <QtCore/QHash>

#include "console/core/cluster_types.h"

namespace egw::console {

class NodesModel final : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Name, Role, Candidacy, Healthy, Allowlist, EgressIp, Term, HeartbeatAge, TrafficRate, ColumnCount };
  enum Roles {
    SortRole = Qt::UserRole + 1,  // raw value to sort by (numbers as numbers)
    NodeNameRole,
    HealthyRole,   // bool
    SeverityRole,  // 0 fine, 1 warning (pending, unverified), 2 problem (unhealthy, rejected)
  };

  explicit NodesModel(QObject* parent = nullptr);

  // `nowMs` is the console's clock (heartbeat ages); `rates` is bytes/s per node (TrafficSeries).
  void applyState(const ClusterSnapshot& state, qint64 nowMs, const QHash<QString, double>& rates = {});
  // Moves the clock: one dataChanged for the heartbeat-age column.
  void setNow(qint64 nowMs);

  int rowOf(const QString& name) const;
  const NodeInfo& node(int row) const { return rows_.at(row).info; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    NodeInfo info;
    double rate = 0;
  };
  QVariant display(const Row& r, int column) const;
  QVariant sortValue(const Row& r, int column) const;
  QString tooltip(const Row& r, int column) const;
  void reindex();

  QList<Row> rows_;
  QHash<QString, int> index_;  // name -> row
  qint64 nowMs_ = 0;
};

}  // namespace egw::console
