#pragma once
// The add-egress-node wizard's logic, step by step, without widgets (the QWizard in
// console/ui/add_node_wizard.* only shows it):
//   1. choose: a joined node whose candidacy is pending (from the console's cluster view), or an
//      agent address typed in;
//   2. preflight: a client connected to that node's own agent (ClientFactory) streams its view;
//      evaluatePreflight() turns it into checks (reachable, protocol, joined, egress interface
//      and IP, datapath, clock offset, election settings, current probe verdict);
//   3. export: the node's egress IP, the cluster's allowlist rows (full, or the delta against the
//      operator's imported list), the CSV, and what to tell the service's owner;
//   4. verify: ProbeAllowlist on the node's agent, again and again until accepted (or cancelled,
//      or maxProbeAttempts), or a manual confirmation with a reason that is recorded;
//   5. enable: SetCandidacy(enable) on the node's agent, with force only after a manual
//      confirmation; the agent's refusal text is kept;
//   6. summary.
// Only the node's own agent changes its candidacy and runs its probe, hence the own client.
#include <QtCore/QObject>
#include <QtCore/QTimer>

#include <functional>
#include <memory>
#include <optional>

#include "console/core/agent_client.h"
#include "console/core/allowlist_export.h"

namespace egw::console {

struct PreflightCheck {
  // Running: no answer yet. Info: shown, no judgement. Warning: may go on. Failed: blocks.
  enum class Status { Running, Ok, Info, Warning, Failed };
  QString id;  // reachable, protocol, joined, egress, datapath, clock, election, allowlist
  QString title;
  Status status = Status::Running;
  QString detail;
  bool operator==(const PreflightCheck&) const = default;
};
QString labelOf(PreflightCheck::Status s);

struct PreflightInput {
  QString endpoint;              // the agent's API address
  QString expectedNode;          // chosen from the cluster view; empty when typed in
  ClusterSnapshot cluster;       // the console's view of the cluster
  ConnectionState connection = ConnectionState::Idle;  // of the client to the node's agent
  QString connectionDetail;
  std::optional<ClusterSnapshot> nodeView;  // what the node's agent serves (latest)
  qint64 nodeWallTimeMs = 0;     // its own wall clock in its first snapshot...
  qint64 receivedAtMs = 0;       // ...and the console's clock when that arrived
};
// Pure: the checks in a fixed order. Thresholds: clock offset up to 1 s ok, up to 60 s a
// warning (event times disagree), beyond a failure (TLS certificates and logs become unreliable).
QList<PreflightCheck> evaluatePreflight(const PreflightInput& in);

class AddNodeFlow final : public QObject {
  Q_OBJECT

 public:
  using ClientFactory = std::function<std::unique_ptr<AgentClient>(const QString& endpoint)>;
  using Clock = std::function<qint64()>;  // ms since epoch

  enum class VerifyState { Idle, Probing, Accepted, Cancelled, GaveUp, ManuallyConfirmed };
  enum class EnableState { Idle, Sending, Enabled, Refused };

  explicit AddNodeFlow(ClientFactory factory, QObject* parent = nullptr);
  ~AddNodeFlow() override;

  void setClock(Clock clock) { clock_ = std::move(clock); }
  void setProbeInterval(int ms) { probeTimer_.setInterval(ms); }
  void setMaxProbeAttempts(int n) { maxAttempts_ = n; }
  // Where manual confirmations are appended (one line each); empty: not written to a file.
  void setAuditLogPath(const QString& path) { auditPath_ = path; }
  // Kept current by the wizard from the session.
  void setCluster(const ClusterSnapshot& state);
  void setFirstSeen(const QHash<QString, qint64>& firstSeenMs) { firstSeen_ = firstSeenMs; }
  // The operator's imported allowlist (drift view): the delta is what it lacks.
  void setOperatorAllowlist(std::optional<egw::Allowlist> list) { operatorList_ = std::move(list); }
  bool hasOperatorAllowlist() const { return operatorList_.has_value(); }
  const ClusterSnapshot& cluster() const { return cluster_; }

  // 1. choose
  QList<NodeInfo> pendingNodes() const;
  bool chooseNode(const QString& name, QString* error = nullptr);
  bool chooseAddress(const QString& endpoint, QString* error = nullptr);
  QString endpoint() const { return endpoint_; }
  QString expectedNode() const { return expectedNode_; }

  // 2. preflight
  void startPreflight();  // (re)connects to the endpoint
  const QList<PreflightCheck>& checks() const { return checks_; }
  bool preflightDone() const;    // no check running
  bool preflightPassed() const;  // done, and none failed
  QString nodeName() const;      // as the node's agent names itself (after its first snapshot)
  std::optional<NodeInfo> node() const;  // the node as its own agent reports it
  AgentClient* nodeClient() const { return client_.get(); }

  // 3. export
  QString egressIp() const;
  QList<ExportRow> fullRows() const;
  // Rows the operator's list lacks; without an imported list, the new node's row alone.
  QList<ExportRow> deltaRows() const;
  QByteArray csv(bool deltaOnly) const;
  bool saveCsv(const QString& path, bool deltaOnly, QString* error = nullptr);
  QString savedPath() const { return savedPath_; }
  void noteCopied() { copied_ = true; }
  QString instructions() const;

  // 4. verify
  void startVerify();
  void cancelVerify();
  bool confirmManually(const QString& reason, QString* error = nullptr);
  VerifyState verifyState() const { return verify_; }
  bool verified() const { return verify_ == VerifyState::Accepted || verify_ == VerifyState::ManuallyConfirmed; }
  int probeAttempts() const { return attempts_; }
  int maxProbeAttempts() const { return maxAttempts_; }
  AllowlistVerdict lastVerdict() const { return lastVerdict_; }
  QString lastProbeDetail() const { return lastDetail_; }
  QString manualRecord() const { return manualRecord_; }  // the line recorded, empty if none

  // 5. enable
  void enableCandidacy();
  EnableState enableState() const { return enable_; }
  bool forceUsed() const { return forceUsed_; }
  QString enableMessage() const { return enableMessage_; }

  // 6. summary
  QString summary() const;

 signals:
  void preflightChanged();
  void verifyChanged();
  void enableChanged();

 private:
  void reevaluate();
  void probeNow();
  void onAction(const ActionResult& r);
  qint64 now() const { return clock_(); }

  ClientFactory factory_;
  Clock clock_;
  ClusterSnapshot cluster_;
  QHash<QString, qint64> firstSeen_;
  std::optional<egw::Allowlist> operatorList_;
  QString endpoint_;
  QString expectedNode_;
  std::unique_ptr<AgentClient> client_;
  PreflightInput input_;
  QList<PreflightCheck> checks_;
  QString savedPath_;
  bool savedDelta_ = false;
  bool copied_ = false;
  QString auditPath_;

  VerifyState verify_ = VerifyState::Idle;
  QTimer probeTimer_;
  int attempts_ = 0;
  int maxAttempts_ = 150;  // 5 minutes at the default 2 s interval
  int outstanding_ = 0;    // probes sent whose answer has not come back
  int ignore_ = 0;         // of those, answers that belong to a cancelled run
  AllowlistVerdict lastVerdict_ = AllowlistVerdict::Unknown;
  QString lastDetail_;
  QString manualReason_;
  QString manualRecord_;

  EnableState enable_ = EnableState::Idle;
  bool forceUsed_ = false;
  QString enableMessage_;
};

}  // namespace egw::console
