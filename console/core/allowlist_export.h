#pragma once
// The cluster's source addresses as the external service's owner needs them: every egress node's
// egress IP (candidacy pending, enabled or disabled) and the VIP in virtual-ip mode. The same rows
// and formats as `egressctl allowlist export` (CSV header ip,node,role,state,first_seen, written
// with common's csv::row), plus the bridge from a ClusterSnapshot to common's drift input.
#include <QtCore/QByteArray>
#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

#include "console/core/cluster_types.h"
#include "egw/allowlist.h"
#include "egw/drift.h"

namespace egw::console {

class EventsModel;

struct ExportRow {
  QString ip;
  QString node;
  QString role;       // master | standby | vip
  QString state;      // candidacy (pending | enabled | disabled); the VIP: active | idle
  QString firstSeen;  // ISO 8601 UTC of the node's earliest node_joined event; empty if unknown
  bool operator==(const ExportRow&) const = default;
};

enum class ExportFormat { Csv, Txt, Json };

// firstSeenMs: node name -> ms of its earliest node_joined event.
QList<ExportRow> allowlistRows(const ClusterSnapshot& state, const QHash<QString, qint64>& firstSeenMs = {});
// The earliest node_joined event per node in the log (what the console has received).
QHash<QString, qint64> firstSeenFromEvents(const EventsModel& events);

QByteArray allowlistCsv(const QList<ExportRow>& rows);  // RFC 4180, CRLF, header first
QByteArray allowlistTxt(const QList<ExportRow>& rows, const QString& servedBy);
QByteArray allowlistJson(const QList<ExportRow>& rows);
QByteArray renderAllowlist(const QList<ExportRow>& rows, ExportFormat format, const QString& servedBy);
// "json" / "*.json" -> Json, "txt"/"text" -> Txt, anything else -> Csv.
ExportFormat exportFormatFor(const QString& suffixOrPath);

// Writes through a temporary file and a rename (QSaveFile): a reader never sees half a file.
// false with "cannot write PATH: why" in *error.
bool writeFileAtomically(const QString& path, const QByteArray& data, QString* error);

// The console's cluster view as common's drift input (egress nodes: candidacy pending, enabled or
// disabled; the VIP only in virtual-ip mode).
egw::DriftInput driftInput(const ClusterSnapshot& state);
egw::AllowlistVerdict toCommon(AllowlistVerdict v);

}  // namespace egw::console
