#pragma once
// A hand-written AgentClient for widget and session tests: records calls, emits what the test
// tells it to, synchronously, on the test's thread.
#include <QtCore/QStringList>

#include <functional>

#include "console/core/agent_client.h"
#include "egw/version.h"

namespace egw::console {

class FakeAgentClient final : public AgentClient {
 public:
  using AgentClient::AgentClient;

  void start() override {
    ++starts;
    setConnection(ConnectionState::Connecting, QStringLiteral("opening Watch"));
  }
  void stop() override { setConnection(ConnectionState::Stopped, QStringLiteral("stopped")); }
  void handover(const QString& to) override {
    handovers << to;
    if (onHandover) onHandover(to);
  }
  void setCandidacy(const QString& node, bool enable, bool force, const QString& reason) override {
    candidacyCalls << QStringLiteral("%1:%2%3").arg(node, enable ? QStringLiteral("enable") : QStringLiteral("disable"),
                                                     force ? QStringLiteral(":force") : QString());
    candidacyReasons << reason;
    if (onCandidacy) onCandidacy(node, enable, force);
  }
  void probeAllowlist(const QString& node) override {
    probeCalls << node;
    if (onProbe) onProbe(node);
  }
  ConnectionState connectionState() const override { return state_; }
  QString currentEndpoint() const override { return endpoint; }

  // Test side.
  void setConnection(ConnectionState s, const QString& detail = {}) {
    state_ = s;
    emit connectionStateChanged(s, endpoint, detail);
  }
  void sendSnapshot(const ClusterSnapshot& s) {
    setConnection(ConnectionState::Streaming, QStringLiteral("served by %1").arg(s.servedBy));
    emit snapshotReceived(s);
  }
  void sendState(const ClusterSnapshot& s) { emit stateUpdated(s); }
  void sendEvent(const ClusterEvent& e) { emit eventReceived(e, ++cursor); }
  void finish(const ActionResult& r) { emit actionFinished(r); }

  QString endpoint = QStringLiteral("fake:7401");
  QStringList handovers;
  QStringList candidacyCalls;
  QStringList candidacyReasons;
  QStringList probeCalls;
  int starts = 0;
  quint64 cursor = 0;
  std::function<void(const QString&)> onHandover;
  std::function<void(const QString&)> onProbe;
  // Called after each setCandidacy call is recorded: (node, enable, force).
  std::function<void(const QString&, bool, bool)> onCandidacy;

 private:
  ConnectionState state_ = ConnectionState::Idle;
};

// A small cluster: egress-1 (master), egress-2, egress-3 candidates, worker-1 observer.
inline ClusterSnapshot sampleCluster(const QString& master = QStringLiteral("egress-1"), quint64 term = 3,
                                     qint64 nowMs = 1'700'000'000'000) {
  ClusterSnapshot s;
  s.master = master;
  s.term = term;
  s.masterSinceMs = nowMs - 60'000;
  s.servedBy = QStringLiteral("egress-1");
  s.protocol = egw::kProtocolVersion;
  s.mode = QStringLiteral("primary-ip");
  s.lastFailoverGapMs = 412;
  s.leaseMs = 250;
  s.leaseRefreshMs = 100;
  s.driftMarginMs = 50;
  for (int i = 1; i <= 3; ++i) {
    NodeInfo n;
    n.name = QStringLiteral("egress-%1").arg(i);
    n.address = QStringLiteral("10.0.0.1%1").arg(i);
    n.apiEndpoint = QStringLiteral("10.0.0.1%1:7401").arg(i);
    n.egressIp = QStringLiteral("172.16.0.%1").arg(6 + i);
    n.egressInterface = QStringLiteral("eth1");
    n.role = n.name == master ? egw::Role::Master : egw::Role::Follower;
    n.term = term;
    n.candidacy = Candidacy::Enabled;
    n.voter = true;
    n.healthy = true;
    n.allowlist = AllowlistVerdict::Ok;
    n.wallTimeMs = nowMs - 100;
    n.datapathReady = true;
    n.protocol = egw::kProtocolVersion;
    n.priority = 100 - i;
    n.version = QStringLiteral("0.1.0");
    s.nodes << n;
  }
  NodeInfo w;
  w.name = QStringLiteral("worker-1");
  w.address = QStringLiteral("10.0.0.21");
  w.role = egw::Role::Observer;
  w.candidacy = Candidacy::None;
  w.healthy = true;
  w.term = term;
  w.wallTimeMs = nowMs - 200;
  w.protocol = egw::kProtocolVersion;
  s.nodes << w;
  return s;
}

}  // namespace egw::console
