#include "console/core/add_node_flow.h"

#include <QtCore/QDateTime>
#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>

#include <cstdlib>

#include "console/core/connection_profiles.h"
#include "egw/ip.h"
#include "egw/version.h"

namespace egw::console {

namespace {

using Status = PreflightCheck::Status;

QString signedMs(qint64 ms) { return (ms >= 0 ? QStringLiteral("+") : QStringLiteral("−")) + formatDuration(std::abs(ms)); }

QString isoNow(qint64 ms) {
  return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODate);
}

}  // namespace

QString labelOf(PreflightCheck::Status s) {
  switch (s) {
    case Status::Running: return QStringLiteral("checking");
    case Status::Ok: return QStringLiteral("ok");
    case Status::Info: return QStringLiteral("info");
    case Status::Warning: return QStringLiteral("warning");
    case Status::Failed: return QStringLiteral("failed");
  }
  return QStringLiteral("unknown");
}

QList<PreflightCheck> evaluatePreflight(const PreflightInput& in) {
  QList<PreflightCheck> out;
  out.reserve(8);  // the references below stay valid: no reallocation
  auto add = [&](const char* id, const char* title) -> PreflightCheck& {
    out << PreflightCheck{QLatin1String(id), QLatin1String(title), Status::Running, {}};
    return out.last();
  };
  PreflightCheck& reach = add("reachable", "Agent reachable");
  PreflightCheck& proto = add("protocol", "Protocol and version");
  PreflightCheck& joined = add("joined", "Joined the cluster");
  PreflightCheck& egress = add("egress", "Egress interface and IP");
  PreflightCheck& datapath = add("datapath", "Datapath ready");
  PreflightCheck& clock = add("clock", "Clock offset");
  PreflightCheck& election = add("election", "Election settings");
  PreflightCheck& probe = add("allowlist", "Allowlist probe");
  auto setAll = [&](Status s, const QString& detail, int from) {
    for (int i = from; i < out.size(); ++i) {
      out[i].status = s;
      out[i].detail = detail;
    }
  };

  const bool incompatible = in.connection == ConnectionState::Incompatible;
  if (!in.nodeView || incompatible) {
    if (incompatible) {
      reach.status = Status::Ok;
      reach.detail = QStringLiteral("%1 answered").arg(in.endpoint);
      proto.status = Status::Failed;
      proto.detail = in.connectionDetail;
      setAll(Status::Failed, QStringLiteral("not checked: incompatible agent"), 2);
    } else if (in.connection == ConnectionState::Backoff || in.connection == ConnectionState::Stopped) {
      reach.status = Status::Failed;
      reach.detail = in.connectionDetail.isEmpty() ? QStringLiteral("cannot reach %1").arg(in.endpoint)
                                                   : in.connectionDetail;
      setAll(Status::Failed, QStringLiteral("not checked: agent not reachable"), 1);
    } else {
      reach.detail = QStringLiteral("connecting to %1…").arg(in.endpoint);
      setAll(Status::Running, QStringLiteral("waiting for the agent"), 1);
    }
    return out;
  }

  const ClusterSnapshot& v = *in.nodeView;
  if (in.connection == ConnectionState::Backoff) {
    reach.status = Status::Failed;
    reach.detail = QStringLiteral("connection lost: %1").arg(in.connectionDetail);
  } else {
    reach.status = Status::Ok;
    reach.detail = QStringLiteral("%1 answers as %2").arg(in.endpoint, v.servedBy);
  }

  const NodeInfo* self = v.findNode(v.servedBy);
  // The client refuses other protocol versions (Incompatible above); check the node's own report too.
  if (v.protocol != egw::kProtocolVersion || (self != nullptr && self->protocol != egw::kProtocolVersion)) {
    proto.status = Status::Failed;
    proto.detail = QStringLiteral("agent speaks protocol %1, console speaks %2")
                       .arg(self != nullptr ? self->protocol : v.protocol)
                       .arg(egw::kProtocolVersion);
  } else {
    QStringList others;
    for (const NodeInfo& n : in.cluster.nodes) {
      if (self != nullptr && n.name != self->name && !n.version.isEmpty() && n.version != self->version &&
          !others.contains(n.version))
        others << n.version;
    }
    const QString version = self != nullptr && !self->version.isEmpty() ? self->version : QStringLiteral("?");
    if (others.isEmpty()) {
      proto.status = Status::Ok;
      proto.detail = QStringLiteral("protocol %1, version %2").arg(v.protocol).arg(version);
    } else {
      proto.status = Status::Warning;
      proto.detail = QStringLiteral("protocol %1, version %2; other nodes run %3")
                         .arg(v.protocol)
                         .arg(version, others.join(QStringLiteral(", ")));
    }
  }

  if (self == nullptr) {
    setAll(Status::Failed, QStringLiteral("the agent at %1 does not report its own status (%2)")
                               .arg(in.endpoint, v.servedBy.isEmpty() ? QStringLiteral("no name") : v.servedBy),
           2);
    return out;
  }

  // Joined: the right node, known to the cluster, an egress node.
  const NodeInfo* known = in.cluster.findNode(self->name);
  if (!in.expectedNode.isEmpty() && self->name != in.expectedNode) {
    joined.status = Status::Failed;
    joined.detail = QStringLiteral("the agent at %1 is %2, not %3").arg(in.endpoint, self->name, in.expectedNode);
  } else if (self->candidacy == Candidacy::None) {
    joined.status = Status::Failed;
    joined.detail = QStringLiteral("%1 is not an egress node (node.candidate: false in its config)").arg(self->name);
  } else if (in.cluster.nodes.isEmpty()) {
    joined.status = Status::Warning;
    joined.detail = QStringLiteral("the console has no cluster view to check against; %1 reports candidacy %2")
                        .arg(self->name, labelOf(self->candidacy));
  } else if (known == nullptr) {
    joined.status = Status::Failed;
    joined.detail = QStringLiteral("%1 is not in the cluster view served by %2: it has not joined (check the "
                                   "voters: list in its config and that it reaches the voters' peer ports)")
                        .arg(self->name, in.cluster.servedBy);
  } else if (self->candidacy == Candidacy::Enabled) {
    joined.status = Status::Warning;
    joined.detail = QStringLiteral("%1 has joined; its candidacy is already enabled").arg(self->name);
  } else if (!in.cluster.master.isEmpty() && v.master != in.cluster.master) {
    joined.status = Status::Warning;
    joined.detail = QStringLiteral("%1 has joined (candidacy %2) but follows %3, the cluster's master is %4")
                        .arg(self->name, labelOf(self->candidacy),
                             v.master.isEmpty() ? QStringLiteral("no master") : v.master, in.cluster.master);
  } else {
    joined.status = Status::Ok;
    joined.detail = QStringLiteral("%1 has joined, candidacy %2, follows %3")
                        .arg(self->name, labelOf(self->candidacy),
                             v.master.isEmpty() ? QStringLiteral("no master") : v.master);
  }

  // Egress interface and IP, and that no other node has the IP.
  if (self->egressInterface.isEmpty()) {
    egress.status = Status::Failed;
    egress.detail = QStringLiteral("no egress interface configured (node.egress.interface)");
  } else if (self->egressIp.isEmpty()) {
    egress.status = Status::Failed;
    egress.detail = QStringLiteral("no egress IP on %1 (node.egress.ip unset and the interface has no IPv4 address)")
                        .arg(self->egressInterface);
  } else if (!egw::IpAddress::parse(self->egressIp.toStdString())) {
    egress.status = Status::Failed;
    egress.detail = QStringLiteral("'%1' is not an IP address").arg(self->egressIp);
  } else {
    QString clash;
    for (const NodeInfo& n : in.cluster.nodes) {
      if (n.name != self->name && n.egressIp == self->egressIp) clash = n.name;
    }
    if (!clash.isEmpty()) {
      egress.status = Status::Failed;
      egress.detail = QStringLiteral("%1 on %2, but %3 already uses that IP").arg(self->egressIp, self->egressInterface, clash);
    } else {
      egress.status = Status::Ok;
      egress.detail = QStringLiteral("%1 on %2").arg(self->egressIp, self->egressInterface);
    }
  }

  if (!self->datapathReady) {
    datapath.status = Status::Failed;
    datapath.detail = QStringLiteral("the datapath is not applied%1")
                          .arg(self->healthProblems.isEmpty() ? QString()
                                                              : QStringLiteral(": ") + self->healthProblems.join(QStringLiteral("; ")));
  } else if (!self->healthy) {
    datapath.status = Status::Warning;
    datapath.detail = QStringLiteral("applied, but the node is unhealthy and will not stand for election: %1")
                          .arg(self->healthProblems.isEmpty() ? QStringLiteral("(no reason given)")
                                                              : self->healthProblems.join(QStringLiteral("; ")));
  } else {
    datapath.status = Status::Ok;
    datapath.detail = QStringLiteral("applied, node healthy");
  }

  if (in.nodeWallTimeMs <= 0 || in.receivedAtMs <= 0) {
    clock.status = Status::Warning;
    clock.detail = QStringLiteral("the node did not report its clock");
  } else {
    // The node's clock when it built the snapshot against ours when it arrived: the network
    // delay and the snapshot's age (up to one status interval) make it a little negative.
    const qint64 offset = in.nodeWallTimeMs - in.receivedAtMs;
    const qint64 a = std::abs(offset);
    clock.detail = QStringLiteral("%1 against this console").arg(signedMs(offset));
    if (a <= 1'000) {
      clock.status = Status::Ok;
    } else if (a <= 60'000) {
      clock.status = Status::Warning;
      clock.detail += QStringLiteral(": event times from this node will be off; check NTP");
    } else {
      clock.status = Status::Failed;
      clock.detail += QStringLiteral(": fix the node's time (NTP) first; certificates and logs depend on it");
    }
  }

  if (in.cluster.leaseMs <= 0 || v.leaseMs <= 0) {
    election.status = Status::Info;
    election.detail = v.leaseMs > 0 ? QStringLiteral("lease %1, refresh %2, drift margin %3")
                                          .arg(formatDuration(v.leaseMs), formatDuration(v.leaseRefreshMs),
                                               formatDuration(v.driftMarginMs))
                                    : QStringLiteral("not reported");
  } else if (v.leaseMs != in.cluster.leaseMs || v.leaseRefreshMs != in.cluster.leaseRefreshMs ||
             v.driftMarginMs != in.cluster.driftMarginMs) {
    election.status = Status::Warning;
    election.detail = QStringLiteral("lease %1 / refresh %2 / drift margin %3 differ from %4's %5 / %6 / %7: "
                                     "use the same election settings on every node")
                          .arg(formatDuration(v.leaseMs), formatDuration(v.leaseRefreshMs), formatDuration(v.driftMarginMs),
                               in.cluster.servedBy, formatDuration(in.cluster.leaseMs),
                               formatDuration(in.cluster.leaseRefreshMs), formatDuration(in.cluster.driftMarginMs));
  } else {
    election.status = Status::Ok;
    election.detail = QStringLiteral("lease %1, refresh %2, drift margin %3 (same as the cluster)")
                          .arg(formatDuration(v.leaseMs), formatDuration(v.leaseRefreshMs), formatDuration(v.driftMarginMs));
  }

  // Informational: before the owner adds the IP, anything but ok is expected here.
  probe.status = self->allowlist == AllowlistVerdict::Ok ? Status::Ok : Status::Info;
  probe.detail = labelOf(self->allowlist) +
                 (self->allowlistDetail.isEmpty() ? QString() : QStringLiteral(": ") + self->allowlistDetail);
  return out;
}

AddNodeFlow::AddNodeFlow(ClientFactory factory, QObject* parent)
    : QObject(parent), factory_(std::move(factory)), clock_([] { return QDateTime::currentMSecsSinceEpoch(); }) {
  probeTimer_.setSingleShot(true);
  probeTimer_.setInterval(2000);
  connect(&probeTimer_, &QTimer::timeout, this, &AddNodeFlow::probeNow);
}

AddNodeFlow::~AddNodeFlow() {
  if (client_) {
    client_->disconnect(this);
    client_->stop();
  }
}

void AddNodeFlow::setCluster(const ClusterSnapshot& state) {
  cluster_ = state;
  if (client_) reevaluate();
}

QList<NodeInfo> AddNodeFlow::pendingNodes() const {
  QList<NodeInfo> out;
  for (const NodeInfo& n : cluster_.nodes) {
    if (n.candidacy == Candidacy::Pending) out << n;
  }
  return out;
}

bool AddNodeFlow::chooseNode(const QString& name, QString* error) {
  const NodeInfo* n = cluster_.findNode(name);
  QString why;
  if (n == nullptr) {
    why = QStringLiteral("%1 is not in the cluster view").arg(name);
  } else if (n->candidacy != Candidacy::Pending) {
    why = QStringLiteral("%1's candidacy is %2, not pending").arg(name, labelOf(n->candidacy));
  } else if (n->apiEndpoint.isEmpty()) {
    why = QStringLiteral("%1 does not report its API endpoint: enter its agent's address").arg(name);
  }
  if (!why.isEmpty()) {
    if (error != nullptr) *error = why;
    return false;
  }
  endpoint_ = n->apiEndpoint;
  expectedNode_ = name;
  return true;
}

bool AddNodeFlow::chooseAddress(const QString& endpoint, QString* error) {
  QString why;
  const QStringList eps = ConnectionProfiles::parseEndpoints(endpoint, &why);
  if (eps.size() != 1) {
    if (error != nullptr) *error = eps.isEmpty() ? why : QStringLiteral("one address, please (HOST:PORT)");
    return false;
  }
  endpoint_ = eps.first();
  expectedNode_.clear();
  return true;
}

void AddNodeFlow::startPreflight() {
  if (client_) {
    client_->disconnect(this);
    client_->stop();
    client_.reset();
  }
  cancelVerify();
  verify_ = VerifyState::Idle;
  input_ = PreflightInput{};
  input_.endpoint = endpoint_;
  input_.expectedNode = expectedNode_;
  client_ = factory_(endpoint_);
  connect(client_.get(), &AgentClient::snapshotReceived, this, [this](const ClusterSnapshot& s) {
    input_.nodeView = s;
    if (const NodeInfo* self = s.findNode(s.servedBy)) {
      input_.nodeWallTimeMs = self->wallTimeMs;
      input_.receivedAtMs = now();
    }
    reevaluate();
  });
  connect(client_.get(), &AgentClient::stateUpdated, this, [this](const ClusterSnapshot& s) {
    input_.nodeView = s;
    reevaluate();
  });
  connect(client_.get(), &AgentClient::connectionStateChanged, this,
          [this](ConnectionState st, const QString&, const QString& detail) {
            // The client retries on its own: until an agent answers, keep showing why the last
            // attempt failed instead of flipping back to "connecting".
            const bool failed = input_.connection == ConnectionState::Backoff ||
                                input_.connection == ConnectionState::Incompatible;
            if (st == ConnectionState::Connecting && failed && !input_.nodeView) return;
            input_.connection = st;
            input_.connectionDetail = detail;
            reevaluate();
          });
  connect(client_.get(), &AgentClient::actionFinished, this, &AddNodeFlow::onAction);
  reevaluate();
  client_->start();
}

void AddNodeFlow::reevaluate() {
  input_.cluster = cluster_;
  QList<PreflightCheck> next = evaluatePreflight(input_);
  if (next == checks_) return;
  checks_ = std::move(next);
  emit preflightChanged();
}

bool AddNodeFlow::preflightDone() const {
  return !checks_.isEmpty() &&
         std::none_of(checks_.cbegin(), checks_.cend(), [](const PreflightCheck& c) { return c.status == Status::Running; });
}

bool AddNodeFlow::preflightPassed() const {
  return preflightDone() &&
         std::none_of(checks_.cbegin(), checks_.cend(), [](const PreflightCheck& c) { return c.status == Status::Failed; });
}

QString AddNodeFlow::nodeName() const {
  if (auto n = node()) return n->name;
  return expectedNode_;
}

std::optional<NodeInfo> AddNodeFlow::node() const {
  if (!input_.nodeView) return std::nullopt;
  const NodeInfo* self = input_.nodeView->findNode(input_.nodeView->servedBy);
  if (self == nullptr) return std::nullopt;
  return *self;
}

QString AddNodeFlow::egressIp() const {
  if (auto n = node()) return n->egressIp;
  return {};
}

QList<ExportRow> AddNodeFlow::fullRows() const {
  ClusterSnapshot s = cluster_;
  // The new node as its own agent reports it, whatever the console's view holds of it.
  if (auto n = node()) {
    bool found = false;
    for (NodeInfo& m : s.nodes) {
      if (m.name == n->name) {
        m.egressIp = n->egressIp;
        if (m.candidacy == Candidacy::Unknown || m.candidacy == Candidacy::None) m.candidacy = n->candidacy;
        found = true;
      }
    }
    if (!found) s.nodes << *n;
  }
  return allowlistRows(s, firstSeen_);
}

QList<ExportRow> AddNodeFlow::deltaRows() const {
  QList<ExportRow> out;
  const QString ip = egressIp();
  for (const ExportRow& r : fullRows()) {
    if (operatorList_) {
      const auto addr = egw::IpAddress::parse(r.ip.toStdString());
      if (addr && operatorList_->contains(*addr)) continue;
    } else if (r.ip != ip) {
      continue;
    }
    out << r;
  }
  return out;
}

QByteArray AddNodeFlow::csv(bool deltaOnly) const { return allowlistCsv(deltaOnly ? deltaRows() : fullRows()); }

bool AddNodeFlow::saveCsv(const QString& path, bool deltaOnly, QString* error) {
  if (!writeFileAtomically(path, csv(deltaOnly), error)) return false;
  savedPath_ = path;
  savedDelta_ = deltaOnly;
  return true;
}

QString AddNodeFlow::instructions() const {
  const QString name = nodeName();
  const QString ip = egressIp().isEmpty() ? QStringLiteral("(unknown)") : egressIp();
  QStringList kept;
  for (const ExportRow& r : fullRows()) {
    if (r.ip != egressIp()) kept << r.ip;
  }
  QString text = QStringLiteral(
                     "Ask the owner of the external service to add %1 to the allowlist of source addresses it "
                     "accepts. %1 is the public address of %2, a new egress node of our egress gateway: our traffic "
                     "to the service leaves from this address whenever %2 is the active node, and the service must "
                     "accept it before %2 may take over, or that traffic is dropped.")
                     .arg(ip, name);
  if (!kept.isEmpty()) {
    text += QStringLiteral("\n\nThe cluster's other egress addresses (%1) must stay on the list: any egress node "
                           "may be the active one.")
                .arg(kept.join(QStringLiteral(", ")));
  }
  text += QStringLiteral("\n\nSend them the CSV: the full list (every address that must be allowed, one row each "
                         "with its node and role), or just the delta (what their list lacks). Then continue: the "
                         "next step checks from %1 itself that the service accepts it.")
              .arg(name);
  return text;
}

void AddNodeFlow::startVerify() {
  if (!client_ || nodeName().isEmpty()) return;
  probeTimer_.stop();
  ignore_ = outstanding_;  // answers to an earlier run are not this run's
  verify_ = VerifyState::Probing;
  attempts_ = 0;
  lastVerdict_ = AllowlistVerdict::Unknown;
  lastDetail_.clear();
  emit verifyChanged();
  probeNow();
}

void AddNodeFlow::probeNow() {
  if (verify_ != VerifyState::Probing || !client_) return;
  if (maxAttempts_ > 0 && attempts_ >= maxAttempts_) {
    verify_ = VerifyState::GaveUp;
    emit verifyChanged();
    return;
  }
  ++attempts_;
  ++outstanding_;
  emit verifyChanged();
  client_->probeAllowlist(nodeName());
}

void AddNodeFlow::cancelVerify() {
  probeTimer_.stop();
  ignore_ = outstanding_;
  if (verify_ != VerifyState::Probing) return;
  verify_ = VerifyState::Cancelled;
  emit verifyChanged();
}

bool AddNodeFlow::confirmManually(const QString& reason, QString* error) {
  const QString r = reason.simplified();
  QString why;
  if (r.size() < 3) why = QStringLiteral("give a reason or ticket (at least 3 characters): it is recorded");
  if (why.isEmpty() && nodeName().isEmpty()) why = QStringLiteral("no node chosen");
  if (!why.isEmpty()) {
    if (error != nullptr) *error = why;
    return false;
  }
  cancelVerify();
  QString user = qEnvironmentVariable("USER");
  if (user.isEmpty()) user = QStringLiteral("unknown user");
  manualReason_ = r;
  manualRecord_ = QStringLiteral("%1 %2 %3: allowlist confirmed manually by %4 (last probe: %5): %6")
                      .arg(isoNow(now()), nodeName(), egressIp(), user, labelOf(lastVerdict_), r);
  if (!auditPath_.isEmpty()) {
    QDir().mkpath(QFileInfo(auditPath_).absolutePath());
    QFile f(auditPath_);
    if (!f.open(QIODevice::Append | QIODevice::Text) || f.write((manualRecord_ + QLatin1Char('\n')).toUtf8()) < 0) {
      if (error != nullptr) *error = QStringLiteral("cannot record the confirmation in %1: %2").arg(auditPath_, f.errorString());
      manualRecord_.clear();
      manualReason_.clear();
      return false;
    }
  }
  verify_ = VerifyState::ManuallyConfirmed;
  emit verifyChanged();
  return true;
}

void AddNodeFlow::enableCandidacy() {
  if (!client_ || !verified() || enable_ == EnableState::Sending) return;
  forceUsed_ = verify_ == VerifyState::ManuallyConfirmed;
  enable_ = EnableState::Sending;
  enableMessage_.clear();
  emit enableChanged();
  client_->setCandidacy(nodeName(), true, forceUsed_, forceUsed_ ? manualReason_ : QString());
}

void AddNodeFlow::onAction(const ActionResult& r) {
  if (r.target != nodeName()) return;
  if (r.action == Action::ProbeAllowlist) {
    if (outstanding_ > 0) --outstanding_;
    if (ignore_ > 0) {
      --ignore_;
      return;
    }
    if (verify_ != VerifyState::Probing) return;
    lastVerdict_ = r.ok ? r.verdict : AllowlistVerdict::Unknown;
    lastDetail_ = r.ok ? r.message : QStringLiteral("probe call failed: %1").arg(r.message);
    if (r.ok && r.verdict == AllowlistVerdict::Ok) {
      verify_ = VerifyState::Accepted;
    } else if (maxAttempts_ > 0 && attempts_ >= maxAttempts_) {
      verify_ = VerifyState::GaveUp;
    } else {
      probeTimer_.start();
    }
    emit verifyChanged();
  } else if (r.action == Action::SetCandidacy && enable_ == EnableState::Sending) {
    enable_ = r.ok ? EnableState::Enabled : EnableState::Refused;
    enableMessage_ = r.message;
    emit enableChanged();
  }
}

QString AddNodeFlow::summary() const {
  QStringList lines;
  lines << QStringLiteral("Node: %1 (agent %2)").arg(nodeName(), endpoint_);
  lines << QStringLiteral("Egress IP: %1").arg(egressIp().isEmpty() ? QStringLiteral("—") : egressIp());
  int warnings = 0;
  for (const PreflightCheck& c : checks_) warnings += c.status == Status::Warning ? 1 : 0;
  QStringList failed;
  for (const PreflightCheck& c : checks_) {
    if (c.status == Status::Failed || c.status == Status::Running) failed << QStringLiteral("%1 (%2)").arg(c.title, c.detail);
  }
  lines << QStringLiteral("Preflight: %1 checks, %2 warning(s)%3")
               .arg(checks_.size())
               .arg(warnings)
               .arg(failed.isEmpty() ? QString() : QStringLiteral(", not passed: ") + failed.join(QStringLiteral("; ")));
  QString exported = savedPath_.isEmpty()
                         ? QStringLiteral("no CSV saved")
                         : QStringLiteral("%1 saved to %2").arg(savedDelta_ ? QStringLiteral("delta") : QStringLiteral("full list"), savedPath_);
  if (copied_) exported += QStringLiteral("; IP copied to the clipboard");
  lines << QStringLiteral("Export: %1").arg(exported);
  switch (verify_) {
    case VerifyState::Accepted:
      lines << QStringLiteral("Allowlist: accepted by the service (probe %1: %2)").arg(attempts_).arg(lastDetail_);
      break;
    case VerifyState::ManuallyConfirmed:
      lines << QStringLiteral("Allowlist: confirmed manually — %1").arg(manualRecord_);
      break;
    default: lines << QStringLiteral("Allowlist: not verified (%1)").arg(labelOf(lastVerdict_)); break;
  }
  switch (enable_) {
    case EnableState::Enabled:
      lines << QStringLiteral("Candidacy: enabled%1 — %2")
                   .arg(forceUsed_ ? QStringLiteral(" (forced after the manual confirmation)") : QString(), enableMessage_);
      break;
    case EnableState::Refused: lines << QStringLiteral("Candidacy: refused by the agent — %1").arg(enableMessage_); break;
    case EnableState::Sending: lines << QStringLiteral("Candidacy: waiting for the agent"); break;
    case EnableState::Idle: lines << QStringLiteral("Candidacy: not changed"); break;
  }
  return lines.join(QLatin1Char('\n'));
}

}  // namespace egw::console
