#pragma once
// The failover/event log. Events are merged idempotently by (origin, seq), appended in one
// insertion per batch and trimmed from the front in one removal when over capacity.
#include <QtCore/QAbstractTableModel>
#include <QtCore/QSet>
#include <QtCore/QSortFilterProxyModel>

#include "console/core/cluster_types.h"

namespace egw::console {

class EventsModel final : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Time, Kind, Node, Term, Message, Gap, ColumnCount };
  enum Roles { SortRole = Qt::UserRole + 1, KindRole, NodeRole, GapRole };

  explicit EventsModel(QObject* parent = nullptr);

  // Returns how many events were new.
  int appendEvents(const QList<ClusterEvent>& events);
  void setCapacity(int maxEvents);
  const ClusterEvent& event(int row) const { return events_.at(row); }
  QStringList kinds() const;  // every kind seen, sorted

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 signals:
  void kindsChanged();

 private:
  void trim();
  QList<ClusterEvent> events_;
  QSet<QPair<QString, quint64>> seen_;
  QSet<QString> kinds_;
  int capacity_ = 20'000;
};

// Filters the log by kind and by node (empty: any). Matches the node the event is about or the
// node that recorded it.
class EventsFilterProxy final : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit EventsFilterProxy(QObject* parent = nullptr);
  void setKindFilter(const QString& kind);
  void setNodeFilter(const QString& node);
  QString kindFilter() const { return kind_; }
  QString nodeFilter() const { return node_; }

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

 private:
  QString kind_;
  QString node_;
};

}  // namespace egw::console
