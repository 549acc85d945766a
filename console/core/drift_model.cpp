#include "console/core/drift_model.h"

#include <QtCore/QFile>
#include <QtCore/QHash>
#include <QtCore/QSet>

#include "console/core/allowlist_export.h"

namespace egw::console {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QStringList notes(const std::vector<egw::LineNote>& v, const QString& source) {
  QStringList out;
  for (const auto& n : v) out << (source.isEmpty() ? qs(n.str()) : QStringLiteral("%1: %2").arg(source, qs(n.str())));
  return out;
}

}  // namespace

AllowlistImport importAllowlist(const QByteArray& text, const QString& source, bool skipBadRows,
                                egw::AllowlistFormat format) {
  AllowlistImport out;
  egw::AllowlistOptions o;
  o.format = format;
  o.skipBadRows = skipBadRows;
  o.source = source.toStdString();
  const std::string_view view(text.constData(), static_cast<std::size_t>(text.size()));
  auto r = egw::parseAllowlist(view, o);
  if (r) {
    out.ok = true;
    out.list = std::move(*r);
    out.warnings = notes(out.list.warnings, source);
    out.skipped = notes(out.list.skipped, source);
    out.goodRows = static_cast<int>(out.list.entries.size());
    return out;
  }
  out.errors = qs(r.error()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  if (!skipBadRows) {
    o.skipBadRows = true;
    auto lenient = egw::parseAllowlist(view, o);
    out.canSkipBadRows = lenient.ok();
    if (lenient) out.goodRows = static_cast<int>(lenient->entries.size());
  }
  return out;
}

AllowlistImport importAllowlistFile(const QString& path, bool skipBadRows, egw::AllowlistFormat format) {
  auto text = egw::readAllowlistFile(path.toStdString());
  if (!text) {
    AllowlistImport out;
    out.errors << qs(text.error());
    return out;
  }
  return importAllowlist(QByteArray::fromStdString(*text), path, skipBadRows, format);
}

DriftModel::DriftModel(QObject* parent) : QAbstractTableModel(parent) {}

void DriftModel::setCluster(const ClusterSnapshot& state) {
  state_ = state;
  recompute();
}

void DriftModel::setAllowlist(std::optional<egw::Allowlist> list, const QString& source) {
  list_ = std::move(list);
  source_ = list_ ? source : QString();
  recompute();
}

QString DriftModel::summary() const {
  if (!list_) {
    return QStringLiteral("No allowlist imported: import the external service's current allowlist (CSV or text) "
                          "to compare it with the cluster's egress IPs.");
  }
  if (state_.nodes.isEmpty()) return QStringLiteral("No cluster state yet (not connected).");
  return qs(report_.summary());
}

QString DriftModel::keyOf(const egw::DriftRow& r) {
  // A stale entry has no node; an address may be listed for two rows only with different nodes.
  return qs(r.ip) + QLatin1Char('\x1f') + qs(r.node);
}

void DriftModel::recompute() {
  report_ = list_ && !state_.nodes.isEmpty() ? egw::computeDrift(*list_, driftInput(state_)) : egw::DriftReport{};
  QHash<QString, const egw::DriftRow*> next;
  QStringList order;
  for (const egw::DriftRow& r : report_.rows) {
    const QString k = keyOf(r);
    if (next.contains(k)) continue;  // impossible by computeDrift's contract; keep the first
    next.insert(k, &r);
    order << k;
  }
  // Removals, bottom up, in contiguous runs.
  for (int i = int(rows_.size()) - 1; i >= 0;) {
    if (next.contains(keyOf(rows_.at(i)))) {
      --i;
      continue;
    }
    int first = i;
    while (first > 0 && !next.contains(keyOf(rows_.at(first - 1)))) --first;
    beginRemoveRows({}, first, i);
    rows_.remove(first, i - first + 1);
    endRemoveRows();
    i = first - 1;
  }
  // Updates in place: one bounding dataChanged.
  QSet<QString> present;
  int lo = -1, hi = -1;
  for (int i = 0; i < rows_.size(); ++i) {
    const QString k = keyOf(rows_.at(i));
    present.insert(k);
    const egw::DriftRow& n = *next.value(k);
    if (!(rows_.at(i) == n)) {
      rows_[i] = n;
      if (lo < 0) lo = i;
      hi = i;
    }
  }
  if (lo >= 0) emit dataChanged(index(lo, 0), index(hi, ColumnCount - 1));
  // New rows at the end, in report order.
  QList<egw::DriftRow> added;
  for (const QString& k : order) {
    if (!present.contains(k)) added << *next.value(k);
  }
  if (!added.isEmpty()) {
    beginInsertRows({}, int(rows_.size()), int(rows_.size() + added.size()) - 1);
    rows_.append(added);
    endInsertRows();
  }
  emit reportChanged();
}

QString DriftModel::stateLabel(egw::DriftState s) { return QString::fromLatin1(egw::driftStateName(s)); }

int DriftModel::severityOf(egw::DriftState s) {
  switch (s) {
    case egw::DriftState::Ok: return 0;
    case egw::DriftState::Stale:
    case egw::DriftState::Unverified: return 1;
    case egw::DriftState::Missing:
    case egw::DriftState::Rejected: return 2;
  }
  return 2;
}

int DriftModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(rows_.size()); }
int DriftModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant DriftModel::data(const QModelIndex& idx, int role) const {
  if (!checkIndex(idx, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const egw::DriftRow& r = rows_.at(idx.row());
  switch (role) {
    case Qt::DisplayRole:
      switch (idx.column()) {
        case Ip: return r.ip.empty() ? QStringLiteral("(no IP)") : qs(r.ip);
        case Node: return r.node.empty() ? QStringLiteral("—") : qs(r.node);
        case State: return stateLabel(r.state);
        case Line: return r.line > 0 ? QVariant(r.line) : QVariant(QStringLiteral("—"));
        case Reason: return qs(r.reason);
        default: return {};
      }
    case Qt::ToolTipRole: return qs(r.reason);
    case SortRole:
      switch (idx.column()) {
        case State: return severityOf(r.state) * 16 + int(r.state);
        case Line: return r.line;
        default: return data(idx, Qt::DisplayRole);
      }
    case StateRole: return int(r.state);
    case SeverityRole: return severityOf(r.state);
    default: return {};
  }
}

QVariant DriftModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Ip: return QStringLiteral("IP");
    case Node: return QStringLiteral("Node");
    case State: return QStringLiteral("State");
    case Line: return QStringLiteral("Line");
    case Reason: return QStringLiteral("Reason");
    default: return {};
  }
}

}  // namespace egw::console
