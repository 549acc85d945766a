#pragma once
// Plain, copyable views of the cluster API's messages. Models, widgets and fakes use these, so
// only proto_convert.* (and the client that uses it) include the generated protobuf headers.
// Roles and event kinds are the shared vocabulary (egw/vocabulary.h), spelled as there.
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

#include "egw/vocabulary.h"

namespace egw::console {

enum class Candidacy { Unknown, None, Pending, Enabled, Disabled };
enum class AllowlistVerdict { Unknown, Ok, Unverified, Rejected };

struct NodeInfo {
  QString name;
  QString address;
  QString apiEndpoint;
  QString egressIp;
  QString egressInterface;
  std::optional<egw::Role> role;  // nullopt: not reported, or a role newer than this console
  quint64 term = 0;
  Candidacy candidacy = Candidacy::Unknown;
  bool voter = false;
  bool healthy = false;
  QStringList healthProblems;
  AllowlistVerdict allowlist = AllowlistVerdict::Unknown;
  QString allowlistDetail;
  quint64 snatBytes = 0;
  quint64 snatPackets = 0;
  quint64 markedBytes = 0;
  quint64 markedPackets = 0;
  QString version;
  int priority = 0;
  qint64 wallTimeMs = 0;  // the node's clock when it reported; the heartbeat age derives from it
  bool datapathReady = false;
  quint32 protocol = 0;
  bool operator==(const NodeInfo&) const = default;

  // An egress node: it may carry traffic (the chart and the handover list show only these).
  bool isEgress() const { return candidacy != Candidacy::None && candidacy != Candidacy::Unknown; }
};

struct ClusterDelta;

struct ClusterSnapshot {
  QString master;  // empty: no master known
  quint64 term = 0;
  qint64 masterSinceMs = 0;
  QList<NodeInfo> nodes;
  QString servedBy;
  quint32 protocol = 0;
  QString mode;
  QString virtualIp;
  qint64 lastFailoverGapMs = -1;
  // The serving agent's lease timing, derived from its election settings (0: not reported).
  qint64 leaseMs = 0;
  qint64 leaseRefreshMs = 0;
  qint64 driftMarginMs = 0;
  // The serving agent is an observer: `nodes` holds only itself; `voters` serve the whole view.
  bool partial = false;
  QStringList voters;
  bool operator==(const ClusterSnapshot&) const = default;

  const NodeInfo* findNode(const QString& name) const;
  // Takes the delta's header fields, replaces the changed nodes where they are (new ones go at the
  // end) and drops the removed ones: O(nodes + changes).
  void apply(const ClusterDelta& delta);
};

// A Watch stream's state change (cluster.proto ClusterDelta).
struct ClusterDelta {
  ClusterSnapshot header;  // `nodes` empty
  QList<NodeInfo> changed;  // new or changed nodes, whole
  QStringList removed;      // names of the nodes gone
};

struct ClusterEvent {
  QString origin;
  quint64 seq = 0;
  qint64 timeMs = 0;
  QString kind;  // as received: an egw::EventKind name, or a kind this build does not know
  QString node;
  quint64 term = 0;
  QString message;
  qint64 gapMs = -1;  // -1: unknown or not a failover
  bool operator==(const ClusterEvent&) const = default;

  bool is(egw::EventKind k) const;  // false for every k when the kind is unknown here
};

enum class Action { Handover, SetCandidacy, ProbeAllowlist };

struct ActionResult {
  Action action = Action::Handover;
  QString target;  // node handed over to / whose candidacy changed / that was probed
  // Handover, SetCandidacy: the agent agreed. ProbeAllowlist: the probe ran (the RPC succeeded);
  // whether the service accepted the IP is `verdict`.
  bool ok = false;
  QString message;  // the agent's words (a refusal's reason, the probe's detail) or the RPC error
  QString newMaster;  // Handover only
  AllowlistVerdict verdict = AllowlistVerdict::Unknown;  // ProbeAllowlist only
  QString egressIp;                                       // ProbeAllowlist only: the source probed
};

// Idle: not started. Connecting: Watch opened, no snapshot yet. Streaming: snapshot received.
// Backoff: the stream failed; a reconnect (maybe to the next endpoint) is scheduled.
// Incompatible: the agent speaks another protocol version. Stopped: stop() was called.
enum class ConnectionState { Idle, Connecting, Streaming, Backoff, Incompatible, Stopped };

QString labelOf(std::optional<egw::Role> r);  // egw::roleName; "unknown" for nullopt
QString labelOf(egw::EventKind k);            // egw::eventKindName
QString labelOf(Candidacy c);
QString labelOf(AllowlistVerdict v);
QString labelOf(ConnectionState s);
QString formatBytesRate(double bytesPerSecond);
QString formatDuration(qint64 ms);

}  // namespace egw::console

Q_DECLARE_METATYPE(egw::console::ClusterSnapshot)
Q_DECLARE_METATYPE(egw::console::ClusterEvent)
Q_DECLARE_METATYPE(egw::console::ActionResult)
Q_DECLARE_METATYPE(egw::console::ConnectionState)
