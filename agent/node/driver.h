#pragma once
// The agent driver: the election state machine and everything that reacts to it, on one thread
// (the loop's), talking to the world only through ports (agent/core/ports.h). It owns no thread,
// socket, clock or file: the composition (agent/node/agent.*) gives it real ports, the
// in-process SimCluster (tests/sim/) gives it simulated ones.
//
// Every method runs on the loop thread. Inputs: start(), onTick() at nextDeadline(),
// onPeerMessage() (envelope already checked, codec::checkEnvelope), onDatapathReport(),
// onProbe(), and the operator's requests (setCandidacy, handover, probeAllowlist, reload,
// shutdown). Outputs: messages through PeerTransport, the datapath role, durable state, events
// in the journal, and the published state (DriverSink).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "agent/core/cluster_view.h"
#include "agent/core/election.h"
#include "agent/core/health.h"
#include "agent/core/observer_feed.h"
#include "agent/core/persistent_state.h"
#include "agent/core/ports.h"
#include "agent/core/readiness.h"
#include "egressgw/v1/cluster.pb.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/config.h"
#include "egw/log.h"
#include "egw/vocabulary.h"

namespace egw {

class EventStore;

struct DriverPorts {
  ports::Clock* clock = nullptr;
  ports::Executor* executor = nullptr;
  ports::PeerTransport* peers = nullptr;
  ports::DurableState* state = nullptr;
  EventStore* events = nullptr;          // the journal (agent/store/event_store.*)
  AgentDatapath* datapath = nullptr;     // null: --no-datapath
  ports::ProberFactory prober;           // empty: no allowlist probe
};

// What the driver publishes after every change, for the other threads (API, metrics, TLS
// admission). The composition copies it under its own locks.
struct PublishedState {
  egressgw::v1::ClusterState state;
  std::set<std::string> admitted;        // voters and joined members (ClusterView::admitted)
  std::set<std::string> standing;        // voters and candidates (ClusterView::standing)
  std::uint64_t failovers = 0;           // times this node became master
  std::map<std::string, std::uint64_t> messages;  // election messages sent, by type
  ReadinessInputs readiness;
};

class DriverSink {
 public:
  virtual ~DriverSink() = default;
  // The sink takes what it keeps out of `s` (by moving or swapping). Whatever `s.state` holds
  // afterwards the driver clears and fills again at the next publish: a sink that swaps its
  // previous state back saves the allocation of every node (1,000 nodes, ten times a second).
  virtual void publish(PublishedState& s) = 0;
  virtual void failoverGap(std::int64_t ms) = 0;  // this node was elected `ms` after the master was lost
};

class Driver {
 public:
  using Time = election::Time;
  using Done = std::function<void(bool ok, std::string message)>;
  using HandoverDone = std::function<void(bool ok, std::string message, std::string newMaster)>;

  // `peerEndpoint`/`apiEndpoint`: where others reach this agent (its status and replies).
  Driver(Config cfg, DriverPorts ports, DriverSink& sink, std::string peerEndpoint, std::string apiEndpoint);
  ~Driver();

  // From the state loaded at start (a corrupt file: amnesia, see docs/election.md).
  void start(const LoadedState& loaded);
  // Before start: the name our server certificate is valid for, when not our node name
  // (NodeStatus.tls_name; "observer" for the workers' shared certificate).
  void setTlsName(std::string name) { tlsName_ = std::move(name); }
  Time nextDeadline() const;
  void onTick(Time t);
  void onPeerMessage(const egressgw::v1::ElectionMessage& m);
  void onDatapathReport(const DatapathReport& r);
  void onProbe(const ProbeResult& r);

  void setCandidacy(const std::string& node, bool enable, bool force, const std::string& reason, Done done);
  void handover(const std::string& to, HandoverDone done);
  void probeAllowlist(const std::string& node, std::function<void(egressgw::v1::ProbeAllowlistResponse)> done);
  std::string reload(const Config& next);
  // SIGTERM: a master hands over to the best healthy candidate first (bounded), then stays a
  // follower until no member routes through it any more (bounded), then steps down, records
  // node_stopped and hands its latest events to the others. `done` runs when all that is over.
  void shutdown(std::function<void()> done);
  // After the loop has ended: stops the prober's threads (they may still post).
  void stopProber();

  // For the composition and tests. master() is the master this node routes through: the
  // election's for a voter or candidate, its feed's word for an observer (docs/membership.md).
  Role role() const;
  const std::string& master() const;
  std::uint64_t term() const;
  const ClusterView& view() const { return view_; }
  bool observer() const { return observer_; }
  // An observer's feed voter ("" for a voter or candidate).
  std::string feed() const { return feed_ ? feed_->feed() : std::string(); }
  bool stopping() const { return stopping_; }

 private:
  struct PendingHandover {
    std::string from;
    Time deadline = 0;
    HandoverDone done;
  };
  struct Drain {
    Time start = 0;
    Time deadline = 0;
    std::function<void()> done;
  };

  Time now() const { return ports_.clock->now(); }
  void rebuildElection(election::HardState hs, bool restarted);
  void process();  // drains the election's Ready (driver contract, election.h)
  void onRoleOrMaster(const std::optional<Role>& roleChanged, Time t);
  void sendElection(const election::Message& m);
  void sendTo(const std::string& node, egressgw::v1::ElectionMessage msg);
  std::optional<std::string> endpointOf(const std::string& node) const;
  void sendStatusReport();
  // Our known_events to a voter or candidate: the whole map to a new peer and every
  // kKnownWholeEvery ms, else the origins changed since our last message to it.
  void addKnownEvents(egressgw::v1::ElectionMessage& msg, const std::string& peer, Time t);
  static constexpr Time kKnownWholeEvery = 1000;
  // An observer: its status to its feed when it changed or a keepalive is due (or `force`).
  void sendObserverReport(Time t, bool force);
  void onMasterUpdate(const egressgw::v1::ElectionMessage& m, Time t);
  // MASTER_UPDATE to these observers: who we follow (or are), in our term. Queued, and sent
  // kPushBatch at a time every kPushPause ms, so that opening channels to many observers never
  // holds this thread (heartbeats) for long.
  void pushMaster(const std::vector<std::string>& observers);
  void flushPushes();
  static constexpr std::size_t kPushBatch = 32;
  static constexpr Time kPushPause = 5;
  std::string clusterAddressOf(const std::string& node) const;
  void refreshMembers(Time t);
  void updateEligibility(Time t);
  void updateDatapath();
  void mergeEvents(const egressgw::v1::ElectionMessage& m);
  void startProber();
  void applyCandidacy(CandidacyState next, const std::string& reason, Done done);
  void refuseCandidacy(const Done& done);
  void checkDrain(Time t);
  void finishShutdown(std::function<void()> done);
  Time reportInterval() const;
  bool eligible() const;
  void record(EventKind kind, const std::string& node, const std::string& message, std::int64_t gapMs = -1);
  egressgw::v1::NodeStatus selfStatus() const;
  void publishState();

  Config cfg_;
  DriverPorts ports_;
  DriverSink& sink_;
  std::string peerEndpoint_, apiEndpoint_;
  std::string tlsName_;
  std::shared_ptr<spdlog::logger> log_, elog_;

  std::unique_ptr<election::Election> election_;
  ClusterView view_;
  PersistentState persisted_;
  bool amnesia_ = false;                // the state file was corrupt: the vote of the first term seen is unknown
  std::map<std::string, std::string> replyEndpoints_;  // non-voting vote requesters -> peer endpoint
  Time masterLostAt_ = -1;
  Time lastReportAt_ = -1'000'000;
  std::uint64_t reportCount_ = 0;
  std::shared_ptr<ports::Prober> prober_;
  ProbeResult probe_;                   // the latest verdict
  int priority_;
  HealthInputs health_;
  HealthVerdict verdict_;
  std::optional<PendingHandover> pendingHandover_;
  std::optional<Drain> drain_;
  bool stopping_ = false;
  std::string lastMaster_;
  std::string lastKnownMaster_;         // the last master there was (not "" after a loss)
  std::int64_t lastFailoverGapMs_ = -1;
  std::int64_t masterSinceMs_ = 0;      // wall clock
  std::uint64_t failovers_ = 0;
  std::map<std::string, std::uint64_t> messageCounts_;

  // Membership (docs/membership.md).
  bool observer_ = false;                          // neither voter nor candidate
  std::optional<ObserverFeed> feed_;               // an observer's: who is master, via which voter
  std::map<std::string, std::uint64_t> feedKnown_; // what our feed holds of our own events
  egressgw::v1::NodeStatus lastReported_;          // an observer's last report
  struct ViewSent {                                // per heartbeat peer, when it last got:
    Time changes = kNever, statuses = kNever, ages = kNever;  // the changes, every status, the ages
    static constexpr Time kNever = -1'000'000'000;
  };
  std::map<std::string, ViewSent> viewSent_;
  struct KnownSent {                               // per peer, our known_events it got:
    std::uint64_t version = 0;                     // up to this version (EventStore::forEachKnownSince)
    Time wholeAt = ViewSent::kNever;               // the whole map, last
  };
  std::map<std::string, KnownSent> knownSent_;
  Time agesSentAt_ = -1'000'000'000;               // a voter's last age digest of its observers
  std::set<std::string> pushQueue_;                // observers still to tell (pushMaster)
  egressgw::v1::ClusterState spareState_;          // what the sink left at the last publish: reused
};

}  // namespace egw
