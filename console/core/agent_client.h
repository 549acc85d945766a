#pragma once
// The console's view of "an agent somewhere": a Watch stream and three actions. GrpcAgentClient
// talks to real agents; tests use tests/fakes/fake_agent_client.h.
//
// Contract: every signal is emitted on the thread the client lives on (the GUI thread), never on
// a network thread, and no method blocks on the network.
#include <QtCore/QObject>

#include "console/core/cluster_types.h"

namespace egw::console {

class AgentClient : public QObject {
  Q_OBJECT

 public:
  using QObject::QObject;
  ~AgentClient() override = default;

  // Starts streaming (and keeps reconnecting) until stop() or destruction.
  virtual void start() = 0;
  // After stop() no further signals except one connectionStateChanged(Stopped).
  virtual void stop() = 0;

  // Planned handover; empty `to`: the agent picks the best healthy candidate.
  virtual void handover(const QString& to) = 0;
  // Only the node's own agent changes its candidacy or runs its probe: send these two through a
  // client connected to that node's API endpoint (NodeInfo::apiEndpoint); other agents refuse.
  // `reason` travels with the request (SetCandidacyRequest.reason): with `force`, the operator's
  // manual confirmation of the allowlist.
  virtual void setCandidacy(const QString& node, bool enable, bool force, const QString& reason) = 0;
  // Runs the node's allowlist probe now; the verdict comes back in actionFinished
  // (Action::ProbeAllowlist). Empty `node`: the serving agent.
  virtual void probeAllowlist(const QString& node) = 0;

  virtual ConnectionState connectionState() const = 0;
  virtual QString currentEndpoint() const = 0;

 signals:
  void connectionStateChanged(egw::console::ConnectionState state, const QString& endpoint,
                              const QString& detail);
  // The first state of each (re)connected stream.
  void snapshotReceived(const egw::console::ClusterSnapshot& state);
  void stateUpdated(const egw::console::ClusterSnapshot& state);
  void eventReceived(const egw::console::ClusterEvent& event, quint64 cursor);
  void actionFinished(const egw::console::ActionResult& result);
};

}  // namespace egw::console
