#pragma once
// The Cluster gRPC service (cluster.proto) on listen.api, with the callback API.
//
// Watch: one reactor per stream. The first update is a snapshot; then state updates (coalesced:
// only the latest state is sent when the client is slow) and `event` updates read from the
// EventStore in cursor order. A state update is the whole `state`, or with WatchRequest.deltas a
// `delta` from the version the stream holds (StateVersions: each new state is compared node by
// node once, and each stream's delta costs O(nodes changed since its version)). Every update
// carries the stream's cursor: the cursor of the last event delivered so far. Resume with WatchRequest.since_seq = that cursor: the stream replays
// events with cursor > since_seq, then live ones; no gaps, no duplicates. A since_seq beyond this
// agent's last cursor (another agent's cursor, or a lost journal) restarts from 0; the snapshot's
// cursor (0) tells the client, which then dedups by (origin, seq). See docs/api.md.
//
// Threading: RPC handlers run on gRPC threads; notifyStateChanged() and the EventStore
// subscription only raise flags for one internal worker thread, which takes the snapshot (calling
// ClusterBackend::snapshot() with no service lock held), publishes it to the versions and wakes
// the streams. The backend may therefore call notifyStateChanged() while holding its own locks.
//
// Lifetime: register with builder.RegisterService(&svc) or startGrpcServer() (agent/security/grpc_util.h); on stop call
// svc.shutdown() (finishes every stream with UNAVAILABLE, answers pending backend calls, refuses
// new calls), then server->Shutdown(), then destroy the server, then the service.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "egressgw/v1/cluster.grpc.pb.h"
#include "egw/result.h"
#include "agent/security/auth.h"
#include "agent/security/grpc_util.h"
#include "agent/api/cluster_backend.h"
#include "agent/api/state_versions.h"
#include "agent/store/event_store.h"
#include "agent/security/limiter.h"

namespace egw {

class ClusterService final : public egressgw::v1::Cluster::CallbackService {
 public:
  struct Limits {
    // Per client: the certificate's CN with TLS, the client address without (auth::Identity::key).
    std::size_t maxWatchPerPeer = 8;     // concurrent Watch streams per client
    std::size_t maxWatchTotal = 256;
    double mutatingPerSecond = 5;        // SetCandidacy/Handover/ProbeAllowlist, per client
    double mutatingBurst = 5;
    std::chrono::milliseconds backendTimeout{10000};  // backend must call done within this
    std::uint32_t defaultPageSize = 100;
    std::uint32_t maxPageSize = 1000;
  };

  ClusterService(ClusterBackend& backend, EventStore& events);
  ClusterService(ClusterBackend& backend, EventStore& events, Limits limits);
  ~ClusterService() override;
  ClusterService(const ClusterService&) = delete;
  ClusterService& operator=(const ClusterService&) = delete;

  // With TLS: every call needs a client certificate with a role, the mutating ones an operator's
  // (auth::authorizeApi), and limits count per certificate CN. Set before the server starts;
  // the agent sets it when `tls` is configured.
  void requireClientCertificates(bool on) { certificatesRequired_ = on; }

  // An extra check of SetCandidacy/Handover/ProbeAllowlist after the role check. A non-OK status
  // is returned to the client as is (use PERMISSION_DENIED). Set before the server starts.
  using Authorizer = std::function<grpc::Status(const grpc::CallbackServerContext& ctx, const std::string& what)>;
  void setMutatingAuthorizer(Authorizer a) { authorize_ = std::move(a); }

  // The backend's snapshot changed. Cheap, non-blocking, callable from any thread and with any
  // lock held; bursts are coalesced.
  void notifyStateChanged();
  // Finishes every Watch stream (UNAVAILABLE "agent shutting down") and answers pending backend
  // calls, refuses new calls, waits (bounded) for the streams' OnDone, stops the worker.
  // Idempotent; the destructor calls it.
  void shutdown();
  std::size_t activeWatches() const;

  grpc::ServerWriteReactor<egressgw::v1::WatchUpdate>* Watch(grpc::CallbackServerContext* ctx,
                                                             const egressgw::v1::WatchRequest* req) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* ctx, const egressgw::v1::ListEventsRequest* req,
                                       egressgw::v1::ListEventsResponse* resp) override;
  grpc::ServerUnaryReactor* SetCandidacy(grpc::CallbackServerContext* ctx, const egressgw::v1::SetCandidacyRequest* req,
                                         egressgw::v1::SetCandidacyResponse* resp) override;
  grpc::ServerUnaryReactor* Handover(grpc::CallbackServerContext* ctx, const egressgw::v1::HandoverRequest* req,
                                     egressgw::v1::HandoverResponse* resp) override;
  grpc::ServerUnaryReactor* ProbeAllowlist(grpc::CallbackServerContext* ctx,
                                           const egressgw::v1::ProbeAllowlistRequest* req,
                                           egressgw::v1::ProbeAllowlistResponse* resp) override;

  // "ipv4:10.0.0.5:51234" -> "ipv4:10.0.0.5": without TLS limits apply per client address, not
  // per connection.
  static std::string peerKey(const std::string& grpcPeer) { return auth::addressOf(grpcPeer); }

 private:
  class WatchReactor;
  struct Pending;

  // Role check of a call; logs a refusal (at most a few lines per client and second).
  grpc::Status authorize(const auth::Identity& who, auth::ApiAccess access, const std::string& what);
  // The common part of SetCandidacy/Handover/ProbeAllowlist: rate limit, shutdown check, log,
  // backend timeout; `call` hands the request to the backend.
  grpc::ServerUnaryReactor* mutating(grpc::CallbackServerContext* ctx, const std::string& what,
                                     const std::function<void(const std::shared_ptr<Pending>&)>& call);
  // Arms the backend timeout for a pending call; the worker finishes it if nobody else did.
  void arm(const std::shared_ptr<Pending>& p);
  void workerLoop();
  void unregister(WatchReactor* r);
  void releaseSlot(WatchReactor* r);  // the stream's Watch-cap slot, once (cancel or done)

  ClusterBackend& backend_;
  EventStore& events_;
  const Limits limits_;
  Authorizer authorize_;
  bool certificatesRequired_ = false;
  int subscription_ = 0;

  mutable std::mutex mu_;  // streams_, watchCount_; order: mu_ before a reactor's own mutex
  std::set<WatchReactor*> streams_;
  std::set<WatchReactor*> counted_;  // streams still holding a slot under the Watch cap
  StreamCounter watchCount_;
  std::condition_variable streamsGone_;
  bool stopping_ = false;

  std::mutex sigMu_;  // leaf lock: worker signals and the deadline queue
  std::condition_variable sigCv_;
  bool stateDirty_ = false, eventsDirty_ = false, deadlinesChanged_ = false, stopWorker_ = false;
  std::uint64_t offered_ = 0;  // the last version offered to the streams (worker thread only)
  std::multimap<std::chrono::steady_clock::time_point, std::shared_ptr<Pending>> deadlines_;

  // Leaf lock (after mu_ and a reactor's own): the published state, written by the worker and by
  // Watch (whose snapshot must be a version the stream's deltas start from), read by the streams.
  mutable std::mutex versionsMu_;
  StateVersions versions_;

  std::mutex rateMu_;  // leaf lock
  TokenBuckets mutatingRate_;
  TokenBuckets refusalLogRate_;  // log lines about refused calls, per client

  std::thread worker_;
};

}  // namespace egw
