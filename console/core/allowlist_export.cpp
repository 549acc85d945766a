#include "console/core/allowlist_export.h"

#include <QtCore/QDateTime>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QSaveFile>

#include "console/core/events_model.h"

namespace egw::console {

namespace {

QString isoTime(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

bool exportable(Candidacy c) {
  return c == Candidacy::Pending || c == Candidacy::Enabled || c == Candidacy::Disabled;
}

}  // namespace

QList<ExportRow> allowlistRows(const ClusterSnapshot& s, const QHash<QString, qint64>& firstSeenMs) {
  QList<ExportRow> rows;
  auto seen = [&](const QString& ip) {
    return std::any_of(rows.cbegin(), rows.cend(), [&](const ExportRow& r) { return r.ip == ip; });
  };
  for (const NodeInfo& n : s.nodes) {
    if (!exportable(n.candidacy) || n.egressIp.isEmpty() || seen(n.egressIp)) continue;
    const auto fs = firstSeenMs.constFind(n.name);
    rows << ExportRow{n.egressIp, n.name,
                      n.name == s.master ? QStringLiteral("master") : QStringLiteral("standby"), labelOf(n.candidacy),
                      fs == firstSeenMs.cend() ? QString() : isoTime(*fs)};
  }
  if (s.mode == QLatin1String("virtual-ip") && !s.virtualIp.isEmpty()) {
    const QString vip = s.virtualIp.section(QLatin1Char('/'), 0, 0);
    if (!seen(vip)) {
      rows << ExportRow{vip, s.master, QStringLiteral("vip"),
                        s.master.isEmpty() ? QStringLiteral("idle") : QStringLiteral("active"), {}};
    }
  }
  return rows;
}

QHash<QString, qint64> firstSeenFromEvents(const EventsModel& events) {
  QHash<QString, qint64> out;
  for (int r = 0; r < events.rowCount(); ++r) {
    const ClusterEvent& e = events.event(r);
    if (!e.is(EventKind::NodeJoined) || e.node.isEmpty()) continue;
    auto it = out.find(e.node);
    if (it == out.end()) {
      out.insert(e.node, e.timeMs);
    } else if (e.timeMs < *it) {
      *it = e.timeMs;
    }
  }
  return out;
}

QByteArray allowlistCsv(const QList<ExportRow>& rows) {
  std::string out = egw::csv::row({"ip", "node", "role", "state", "first_seen"});
  for (const ExportRow& r : rows) {
    out += egw::csv::row({r.ip.toStdString(), r.node.toStdString(), r.role.toStdString(), r.state.toStdString(),
                          r.firstSeen.toStdString()});
  }
  return QByteArray::fromStdString(out);
}

QByteArray allowlistTxt(const QList<ExportRow>& rows, const QString& servedBy) {
  QString out = QStringLiteral("# egress gateway source IPs (every egress node and the VIP), from %1\n").arg(servedBy);
  for (const ExportRow& r : rows) out += QStringLiteral("# %1: %2 %3 %4\n").arg(r.ip, r.node, r.role, r.state);
  for (const ExportRow& r : rows) out += r.ip + QLatin1Char('\n');
  return out.toUtf8();
}

QByteArray allowlistJson(const QList<ExportRow>& rows) {
  QJsonArray arr;
  for (const ExportRow& r : rows) {
    arr.append(QJsonObject{{QStringLiteral("ip"), r.ip},
                           {QStringLiteral("node"), r.node},
                           {QStringLiteral("role"), r.role},
                           {QStringLiteral("state"), r.state},
                           {QStringLiteral("first_seen"), r.firstSeen.isEmpty() ? QJsonValue() : QJsonValue(r.firstSeen)}});
  }
  return QJsonDocument(arr).toJson(QJsonDocument::Indented);
}

QByteArray renderAllowlist(const QList<ExportRow>& rows, ExportFormat format, const QString& servedBy) {
  switch (format) {
    case ExportFormat::Txt: return allowlistTxt(rows, servedBy);
    case ExportFormat::Json: return allowlistJson(rows);
    case ExportFormat::Csv: break;
  }
  return allowlistCsv(rows);
}

ExportFormat exportFormatFor(const QString& suffixOrPath) {
  const QString s = suffixOrPath.section(QLatin1Char('.'), -1).toLower();
  if (s == QLatin1String("json")) return ExportFormat::Json;
  if (s == QLatin1String("txt") || s == QLatin1String("text")) return ExportFormat::Txt;
  return ExportFormat::Csv;
}

bool writeFileAtomically(const QString& path, const QByteArray& data, QString* error) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly) || f.write(data) != data.size() || !f.commit()) {
    if (error != nullptr) *error = QStringLiteral("cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}

egw::AllowlistVerdict toCommon(AllowlistVerdict v) {
  switch (v) {
    case AllowlistVerdict::Ok: return egw::AllowlistVerdict::Ok;
    case AllowlistVerdict::Unverified: return egw::AllowlistVerdict::Unverified;
    case AllowlistVerdict::Rejected: return egw::AllowlistVerdict::Rejected;
    case AllowlistVerdict::Unknown: break;
  }
  return egw::AllowlistVerdict::Unknown;
}

egw::DriftInput driftInput(const ClusterSnapshot& s) {
  egw::DriftInput in;
  for (const NodeInfo& n : s.nodes) {
    egw::DriftNode d;
    d.name = n.name.toStdString();
    d.egressIp = n.egressIp.toStdString();
    switch (n.candidacy) {
      case Candidacy::Pending: d.candidacy = egw::NodeCandidacy::Pending; break;
      case Candidacy::Enabled: d.candidacy = egw::NodeCandidacy::Enabled; break;
      case Candidacy::Disabled: d.candidacy = egw::NodeCandidacy::Disabled; break;
      case Candidacy::None:
      case Candidacy::Unknown: d.candidacy = egw::NodeCandidacy::None; break;
    }
    d.master = !s.master.isEmpty() && n.name == s.master;
    d.verdict = toCommon(n.allowlist);
    d.verdictDetail = n.allowlistDetail.toStdString();
    in.nodes.push_back(std::move(d));
  }
  if (s.mode == QLatin1String("virtual-ip") && !s.virtualIp.isEmpty()) in.vip = s.virtualIp.toStdString();
  return in;
}

}  // namespace egw::console
