#include "console/core/nodes_model.h"

#include <algorithm>
#include <limits>

namespace egw::console {

NodesModel::NodesModel(QObject* parent) : QAbstractTableModel(parent) {}

void NodesModel::reindex() {
  index_.clear();
  index_.reserve(rows_.size());
  for (int i = 0; i < rows_.size(); ++i) index_.insert(rows_.at(i).info.name, i);
}

void NodesModel::applyState(const ClusterSnapshot& state, qint64 nowMs, const QHash<QString, double>& rates) {
  nowMs_ = nowMs;
  QHash<QString, int> incoming;
  incoming.reserve(state.nodes.size());
  for (int i = 0; i < state.nodes.size(); ++i) incoming.insert(state.nodes.at(i).name, i);

  // Removals, from the end so earlier row numbers stay valid; contiguous runs go together.
  bool removed = false;
  for (int last = int(rows_.size()) - 1; last >= 0;) {
    if (incoming.contains(rows_.at(last).info.name)) {
      --last;
      continue;
    }
    int first = last;
    while (first > 0 && !incoming.contains(rows_.at(first - 1).info.name)) --first;
    beginRemoveRows({}, first, last);
    rows_.remove(first, last - first + 1);
    endRemoveRows();
    removed = true;
    last = first - 1;
  }
  if (removed) reindex();

  // Changes: one dataChanged spanning the first to the last changed row.
  int top = -1;
  int bottom = -1;
  for (int i = 0; i < rows_.size(); ++i) {
    Row& r = rows_[i];
    const NodeInfo& n = state.nodes.at(incoming.value(r.info.name));
    const double rate = rates.value(n.name, 0.0);
    if (r.info == n && r.rate == rate) continue;
    r.info = n;
    r.rate = rate;
    if (top < 0) top = i;
    bottom = i;
  }
  if (top >= 0) emit dataChanged(index(top, 0), index(bottom, ColumnCount - 1));

  // Insertions: new nodes at the end, in one batch.
  const int first = int(rows_.size());
  QList<Row> added;
  for (const NodeInfo& n : state.nodes) {
    if (index_.contains(n.name)) continue;  // also skips a duplicate name within the state
    index_.insert(n.name, first + int(added.size()));
    added.append(Row{n, rates.value(n.name, 0.0)});
  }
  if (!added.isEmpty()) {
    beginInsertRows({}, first, first + int(added.size()) - 1);
    rows_.append(std::move(added));
    endInsertRows();
  }
}

void NodesModel::setNow(qint64 nowMs) {
  nowMs_ = nowMs;
  if (!rows_.isEmpty()) emit dataChanged(index(0, HeartbeatAge), index(int(rows_.size()) - 1, HeartbeatAge));
}

int NodesModel::rowOf(const QString& name) const { return index_.value(name, -1); }

int NodesModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int NodesModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant NodesModel::display(const Row& r, int column) const {
  const NodeInfo& n = r.info;
  switch (column) {
    case Name: return n.name;
    case Role: return labelOf(n.role);
    case Candidacy: return labelOf(n.candidacy);
    case Healthy:
      return n.healthy ? QStringLiteral("healthy")
                       : (n.healthProblems.isEmpty() ? QStringLiteral("unhealthy")
                                                     : QStringLiteral("unhealthy (%1)").arg(n.healthProblems.size()));
    case Allowlist: return n.isEgress() ? labelOf(n.allowlist) : QStringLiteral("—");
    case EgressIp: return n.egressIp.isEmpty() ? QStringLiteral("—") : n.egressIp;
    case Term: return QString::number(n.term);
    case HeartbeatAge: return n.wallTimeMs > 0 ? formatDuration(std::max<qint64>(0, nowMs_ - n.wallTimeMs)) : QStringLiteral("—");
    case TrafficRate: return n.isEgress() ? formatBytesRate(r.rate) : QStringLiteral("—");
    default: return {};
  }
}

QVariant NodesModel::sortValue(const Row& r, int column) const {
  const NodeInfo& n = r.info;
  switch (column) {
    case Term: return n.term;
    case HeartbeatAge: return n.wallTimeMs > 0 ? nowMs_ - n.wallTimeMs : std::numeric_limits<qint64>::max();
    case TrafficRate: return r.rate;
    case Healthy: return n.healthy;
    default: return display(r, column);
  }
}

QString NodesModel::tooltip(const Row& r, int column) const {
  const NodeInfo& n = r.info;
  switch (column) {
    case Healthy:
      return n.healthProblems.isEmpty() ? (n.healthy ? QStringLiteral("no problems") : QStringLiteral("unhealthy"))
                                        : n.healthProblems.join(QLatin1Char('\n'));
    case Allowlist: return n.allowlistDetail;
    case Name:
      return QStringLiteral("%1\naddress %2\nAPI %3\nversion %4, priority %5%6")
          .arg(n.name, n.address, n.apiEndpoint, n.version)
          .arg(n.priority)
          .arg(n.voter ? QStringLiteral(", voter") : QString());
    case EgressIp: return n.egressInterface;
    default: return {};
  }
}

QVariant NodesModel::data(const QModelIndex& idx, int role) const {
  if (!checkIndex(idx, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_.at(idx.row());
  switch (role) {
    case Qt::DisplayRole: return display(r, idx.column());
    case Qt::ToolTipRole: {
      const QString t = tooltip(r, idx.column());
      return t.isEmpty() ? QVariant() : QVariant(t);
    }
    case SortRole: return sortValue(r, idx.column());
    case NodeNameRole: return r.info.name;
    case HealthyRole: return r.info.healthy;
    case SeverityRole: {
      const NodeInfo& n = r.info;
      if (!n.healthy || (n.isEgress() && n.allowlist == AllowlistVerdict::Rejected)) return 2;
      if (n.isEgress() && (n.candidacy == Candidacy::Pending || n.allowlist == AllowlistVerdict::Unverified)) return 1;
      return 0;
    }
    case Qt::TextAlignmentRole:
      if (idx.column() == Term || idx.column() == HeartbeatAge || idx.column() == TrafficRate)
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
      return {};
    default: return {};
  }
}

QVariant NodesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, orientation, role);
  switch (section) {
    case Name: return QStringLiteral("Node");
    case Role: return QStringLiteral("Role");
    case Candidacy: return QStringLiteral("Candidacy");
    case Healthy: return QStringLiteral("Health");
    case Allowlist: return QStringLiteral("Allowlist");
    case EgressIp: return QStringLiteral("Egress IP");
    case Term: return QStringLiteral("Term");
    case HeartbeatAge: return QStringLiteral("Last heartbeat");
    case TrafficRate: return QStringLiteral("Traffic");
    default: return {};
  }
}

}  // namespace egw::console
