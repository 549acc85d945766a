#include "console/core/events_model.h"

#include <QtCore/QDateTime>

namespace egw::console {

EventsModel::EventsModel(QObject* parent) : QAbstractTableModel(parent) {}

int EventsModel::appendEvents(const QList<ClusterEvent>& events) {
  QList<ClusterEvent> fresh;
  bool newKind = false;
  for (const ClusterEvent& e : events) {
    auto key = qMakePair(e.origin, e.seq);
    if (seen_.contains(key)) continue;
    seen_.insert(key);
    if (!kinds_.contains(e.kind)) {
      kinds_.insert(e.kind);
      newKind = true;
    }
    fresh.append(e);
  }
  if (!fresh.isEmpty()) {
    const int first = int(events_.size());
    beginInsertRows({}, first, first + int(fresh.size()) - 1);
    events_.append(fresh);
    endInsertRows();
    trim();
  }
  if (newKind) emit kindsChanged();
  return int(fresh.size());
}

void EventsModel::setCapacity(int maxEvents) {
  capacity_ = std::max(1, maxEvents);
  trim();
}

void EventsModel::trim() {
  const int excess = int(events_.size()) - capacity_;
  if (excess <= 0) return;
  // The (origin, seq) keys stay in seen_: a trimmed event that is sent again stays out.
  beginRemoveRows({}, 0, excess - 1);
  events_.remove(0, excess);
  endRemoveRows();
}

QStringList EventsModel::kinds() const {
  QStringList k(kinds_.cbegin(), kinds_.cend());
  k.sort();
  return k;
}

int EventsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(events_.size()); }
int EventsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant EventsModel::data(const QModelIndex& idx, int role) const {
  if (!checkIndex(idx, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const ClusterEvent& e = events_.at(idx.row());
  switch (role) {
    case Qt::DisplayRole:
      switch (idx.column()) {
        case Time:
          return QDateTime::fromMSecsSinceEpoch(e.timeMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
        case Kind: return e.kind;
        case Node: return e.node;
        case Term: return QString::number(e.term);
        case Message: return e.message;
        case Gap: return e.gapMs >= 0 ? formatDuration(e.gapMs) : QString();
        default: return {};
      }
    case Qt::ToolTipRole:
      if (idx.column() == Message) return QStringLiteral("%1\nrecorded by %2, seq %3").arg(e.message, e.origin).arg(e.seq);
      return {};
    case SortRole:
      switch (idx.column()) {
        case Time: return e.timeMs;
        case Term: return e.term;
        case Gap: return e.gapMs;
        default: return data(idx, Qt::DisplayRole);
      }
    case KindRole: return e.kind;
    case NodeRole: return e.node;
    case GapRole: return e.gapMs;
    default: return {};
  }
}

QVariant EventsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case Time: return QStringLiteral("Time");
    case Kind: return QStringLiteral("Kind");
    case Node: return QStringLiteral("Node");
    case Term: return QStringLiteral("Term");
    case Message: return QStringLiteral("Message");
    case Gap: return QStringLiteral("Gap");
    default: return {};
  }
}

EventsFilterProxy::EventsFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {}

void EventsFilterProxy::setKindFilter(const QString& kind) {
  if (kind == kind_) return;
  kind_ = kind;
  invalidateFilter();
}

void EventsFilterProxy::setNodeFilter(const QString& node) {
  if (node == node_) return;
  node_ = node;
  invalidateFilter();
}

bool EventsFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  const auto* m = qobject_cast<const EventsModel*>(sourceModel());
  if (m == nullptr || sourceParent.isValid()) return true;
  const ClusterEvent& e = m->event(sourceRow);
  if (!kind_.isEmpty() && e.kind != kind_) return false;
  if (!node_.isEmpty() && e.node != node_ && e.origin != node_) return false;
  return true;
}

}  // namespace egw::console
