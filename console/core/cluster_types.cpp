#include "console/core/cluster_types.h"

#include <QtCore/QHash>
#include <QtCore/QSet>

#include <utility>

namespace egw::console {

const NodeInfo* ClusterSnapshot::findNode(const QString& name) const {
  for (const NodeInfo& n : nodes) {
    if (n.name == name) return &n;
  }
  return nullptr;
}

void ClusterSnapshot::apply(const ClusterDelta& delta) {
  QHash<QString, qsizetype> changed;  // name -> index in delta.changed, until placed
  changed.reserve(delta.changed.size());
  for (qsizetype i = 0; i < delta.changed.size(); ++i) changed.insert(delta.changed.at(i).name, i);
  const QSet<QString> removed(delta.removed.cbegin(), delta.removed.cend());
  // Usually shared with the copy the session holds: read it, never detach it.
  const QList<NodeInfo> kept = std::exchange(nodes, {});
  *this = delta.header;
  nodes.clear();  // a header has none
  nodes.reserve(kept.size() + changed.size());
  for (const NodeInfo& n : kept) {
    if (removed.contains(n.name)) continue;
    if (auto it = changed.constFind(n.name); it != changed.cend()) {
      nodes.append(delta.changed.at(it.value()));
      changed.erase(it);
    } else {
      nodes.append(n);
    }
  }
  for (qsizetype i = 0; i < delta.changed.size(); ++i)  // the new ones, in the delta's order
    if (changed.contains(delta.changed.at(i).name)) nodes.append(delta.changed.at(i));
}

namespace {
QLatin1String latin1(std::string_view name) { return QLatin1String(name.data(), qsizetype(name.size())); }
}  // namespace

bool ClusterEvent::is(egw::EventKind k) const { return kind == latin1(egw::eventKindName(k)); }

QString labelOf(std::optional<egw::Role> r) {
  return r ? QString(latin1(egw::roleName(*r))) : QStringLiteral("unknown");
}

QString labelOf(egw::EventKind k) { return latin1(egw::eventKindName(k)); }

QString labelOf(Candidacy c) {
  switch (c) {
    case Candidacy::None: return QStringLiteral("—");
    case Candidacy::Pending: return QStringLiteral("pending");
    case Candidacy::Enabled: return QStringLiteral("enabled");
    case Candidacy::Disabled: return QStringLiteral("disabled");
    case Candidacy::Unknown: break;
  }
  return QStringLiteral("unknown");
}

QString labelOf(AllowlistVerdict v) {
  switch (v) {
    case AllowlistVerdict::Ok: return QStringLiteral("ok");
    case AllowlistVerdict::Unverified: return QStringLiteral("unverified");
    case AllowlistVerdict::Rejected: return QStringLiteral("rejected");
    case AllowlistVerdict::Unknown: break;
  }
  return QStringLiteral("unknown");
}

QString labelOf(ConnectionState s) {
  switch (s) {
    case ConnectionState::Idle: return QStringLiteral("idle");
    case ConnectionState::Connecting: return QStringLiteral("connecting");
    case ConnectionState::Streaming: return QStringLiteral("streaming");
    case ConnectionState::Backoff: return QStringLiteral("reconnecting");
    case ConnectionState::Incompatible: return QStringLiteral("incompatible");
    case ConnectionState::Stopped: return QStringLiteral("stopped");
  }
  return QStringLiteral("unknown");
}

QString formatBytesRate(double bps) {
  static const char* const units[] = {"B/s", "KB/s", "MB/s", "GB/s"};
  int u = 0;
  while (bps >= 1000.0 && u < 3) {
    bps /= 1000.0;
    ++u;
  }
  return QStringLiteral("%1 %2").arg(bps, 0, 'f', u == 0 ? 0 : 1).arg(QLatin1String(units[u]));
}

QString formatDuration(qint64 ms) {
  if (ms < 0) return QStringLiteral("—");
  if (ms < 1'000) return QStringLiteral("%1 ms").arg(ms);
  if (ms < 10'000) return QStringLiteral("%1 s").arg(double(ms) / 1000.0, 0, 'f', 1);
  const qint64 s = ms / 1000;
  if (s < 120) return QStringLiteral("%1 s").arg(s);
  if (s < 7200) return QStringLiteral("%1 min").arg(s / 60);
  return QStringLiteral("%1 h").arg(s / 3600);
}

}  // namespace egw::console
