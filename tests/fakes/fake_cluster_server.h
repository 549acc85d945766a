#pragma once
// A small in-process implementation of the Cluster service (cluster.proto) for the client test
// and the screenshot demo, until the agent's real API server can be started in-process.
// The cluster's state and journal live in FakeCluster, so a server can be killed and restarted
// on the same port with the journal intact.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "egressgw/v1/cluster.grpc.pb.h"

namespace egw::testing {

namespace pb = egressgw::v1;

struct FakeCluster {
  std::mutex mu;
  std::condition_variable cv;
  pb::ClusterState state;
  std::vector<pb::Event> journal;  // the cursor of journal[i] is i + 1
  std::uint64_t stateVersion = 0;
  std::vector<std::uint64_t> watchSince;  // since_seq of every Watch received
  std::vector<std::string> candidacyReasons;  // SetCandidacyRequest.reason, in order
  bool silent = false;                    // accept Watch but never send anything

  void appendEvent(pb::Event e) {
    {
      std::lock_guard lock(mu);
      if (e.seq() == 0) e.set_seq(journal.size() + 1);
      journal.push_back(std::move(e));
    }
    cv.notify_all();
  }
  void setState(const pb::ClusterState& s) {
    {
      std::lock_guard lock(mu);
      state = s;
      ++stateVersion;
    }
    cv.notify_all();
  }
  template <typename F>
  void mutateState(F&& f) {
    {
      std::lock_guard lock(mu);
      f(state);
      ++stateVersion;
    }
    cv.notify_all();
  }
  std::vector<std::uint64_t> sinces() {
    std::lock_guard lock(mu);
    return watchSince;
  }
};

inline pb::Event makeEvent(const std::string& kind, const std::string& node, std::uint64_t term,
                           std::int64_t timeMs, std::int64_t gapMs = -1, const std::string& origin = "egress-1") {
  pb::Event e;
  e.set_origin(origin);
  e.set_kind(kind);
  e.set_node(node);
  e.set_term(term);
  e.set_time_ms(timeMs);
  e.set_gap_ms(gapMs);
  e.set_message(kind + " " + node);
  return e;
}

class FakeClusterService final : public pb::Cluster::Service {
 public:
  explicit FakeClusterService(FakeCluster* c) : c_(c) {}

  void shutdown() {
    {
      std::lock_guard lock(c_->mu);
      stopping_ = true;
    }
    c_->cv.notify_all();
  }

  grpc::Status Watch(grpc::ServerContext* ctx, const pb::WatchRequest* req,
                     grpc::ServerWriter<pb::WatchUpdate>* writer) override {
    std::uint64_t sent = req->since_seq();
    std::uint64_t version = 0;
    pb::WatchUpdate first;
    bool silent = false;
    {
      std::lock_guard lock(c_->mu);
      c_->watchSince.push_back(sent);
      silent = c_->silent;
      *first.mutable_snapshot() = c_->state;
      first.set_cursor(c_->journal.size());
      version = c_->stateVersion;
    }
    if (!silent && !writer->Write(first)) return grpc::Status::CANCELLED;
    while (!ctx->IsCancelled()) {
      std::vector<pb::WatchUpdate> out;
      {
        std::unique_lock lock(c_->mu);
        c_->cv.wait_for(lock, std::chrono::milliseconds(20), [&] {
          return stopping_ || c_->journal.size() > sent || c_->stateVersion != version;
        });
        if (stopping_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
        if (silent) continue;
        if (c_->stateVersion != version) {
          version = c_->stateVersion;
          pb::WatchUpdate u;
          *u.mutable_state() = c_->state;
          u.set_cursor(c_->journal.size());
          out.push_back(std::move(u));
        }
        for (; sent < c_->journal.size(); ++sent) {
          pb::WatchUpdate u;
          *u.mutable_event() = c_->journal[sent];
          u.set_cursor(sent + 1);
          out.push_back(std::move(u));
        }
      }
      for (const auto& u : out) {
        if (!writer->Write(u)) return grpc::Status::CANCELLED;
      }
    }
    return grpc::Status::CANCELLED;
  }

  grpc::Status Handover(grpc::ServerContext*, const pb::HandoverRequest* req, pb::HandoverResponse* resp) override {
    std::string to = req->to();
    std::uint64_t term = 0;
    {
      std::lock_guard lock(c_->mu);
      if (to.empty()) {
        for (const auto& n : c_->state.nodes()) {
          if (n.name() != c_->state.master() && n.candidacy() == pb::CANDIDACY_ENABLED && n.healthy()) {
            to = n.name();
            break;
          }
        }
      }
      bool known = false;
      for (auto& n : *c_->state.mutable_nodes()) {
        if (n.name() == to) known = true;
      }
      if (!known) {
        resp->set_ok(false);
        resp->set_message("no such candidate: " + to);
        return grpc::Status::OK;
      }
      term = c_->state.term() + 1;
      c_->state.set_master(to);
      c_->state.set_term(term);
      for (auto& n : *c_->state.mutable_nodes()) {
        n.set_role(n.name() == to ? pb::MASTER : (n.candidacy() == pb::CANDIDACY_NONE ? pb::OBSERVER : pb::FOLLOWER));
        n.set_term(term);
      }
      ++c_->stateVersion;
    }
    c_->appendEvent(makeEvent("handover", to, term, nowMs()));
    resp->set_ok(true);
    resp->set_new_master(to);
    resp->set_message("handed over");
    return grpc::Status::OK;
  }

  grpc::Status SetCandidacy(grpc::ServerContext*, const pb::SetCandidacyRequest* req,
                            pb::SetCandidacyResponse* resp) override {
    {
      std::lock_guard lock(c_->mu);
      c_->candidacyReasons.push_back(req->reason());
    }
    c_->mutateState([&](pb::ClusterState& s) {
      for (auto& n : *s.mutable_nodes()) {
        if (n.name() == req->node()) {
          n.set_candidacy(req->enable() ? pb::CANDIDACY_ENABLED : pb::CANDIDACY_DISABLED);
          resp->set_ok(true);
        }
      }
    });
    if (!resp->ok()) resp->set_message("no such node: " + req->node());
    return grpc::Status::OK;
  }

  // Answers with the node's current verdict from the state (empty node: served_by).
  grpc::Status ProbeAllowlist(grpc::ServerContext*, const pb::ProbeAllowlistRequest* req,
                              pb::ProbeAllowlistResponse* resp) override {
    std::lock_guard lock(c_->mu);
    const std::string node = req->node().empty() ? c_->state.served_by() : req->node();
    for (const auto& n : c_->state.nodes()) {
      if (n.name() != node) continue;
      resp->set_verdict(n.allowlist());
      resp->set_detail(n.allowlist_detail());
      resp->set_egress_ip(n.egress_ip());
      return grpc::Status::OK;
    }
    return {grpc::StatusCode::NOT_FOUND, "no such node: " + node};
  }

  static std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  FakeCluster* c_;
  bool stopping_ = false;  // guarded by c_->mu
};

// One server instance. port 0 picks a free port; port() tells which.
class FakeClusterServer {
 public:
  FakeClusterServer(FakeCluster* cluster, int port) : service_(cluster) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
  }
  ~FakeClusterServer() { kill(); }
  bool ok() const { return server_ != nullptr && port_ > 0; }
  int port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  // Ends every stream at once (as a crash would, from the client's point of view).
  void kill() {
    if (!server_) return;
    service_.shutdown();
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }

 private:
  FakeClusterService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A small cluster: egress-1..3 candidates (egress-1 master), worker-1 observer.
inline pb::ClusterState sampleState(std::uint32_t protocol, std::int64_t nowMs) {
  pb::ClusterState s;
  s.set_master("egress-1");
  s.set_term(3);
  s.set_master_since_ms(nowMs - 90'000);
  s.set_served_by("egress-1");
  s.set_protocol(protocol);
  s.set_mode("primary-ip");
  s.set_last_failover_gap_ms(-1);
  s.set_lease_ms(250);  // election timeout 300 ms - drift margin 50 ms, refreshed every heartbeat
  s.set_lease_refresh_ms(100);
  s.set_drift_margin_ms(50);
  for (int i = 1; i <= 4; ++i) {
    pb::NodeStatus* n = s.add_nodes();
    const bool egress = i <= 3;
    n->set_name(egress ? "egress-" + std::to_string(i) : "worker-1");
    n->set_address("10.0.0." + std::to_string(10 + i));
    n->set_api_endpoint(n->address() + ":7401");
    n->set_role(i == 1 ? pb::MASTER : (egress ? pb::FOLLOWER : pb::OBSERVER));
    n->set_term(3);
    n->set_candidacy(egress ? pb::CANDIDACY_ENABLED : pb::CANDIDACY_NONE);
    n->set_voter(egress);
    n->set_healthy(true);
    if (egress) {
      n->set_egress_ip("172.16.0." + std::to_string(6 + i));
      n->set_egress_interface("eth1");
      n->set_allowlist(pb::ALLOWLIST_OK);
      n->set_allowlist_detail("probe 198.51.100.10:443 accepted");
    }
    n->set_wall_time_ms(nowMs);
    n->set_datapath_ready(true);
    n->set_protocol(protocol);
    n->set_priority(egress ? 100 - i : 0);
    n->set_version("0.1.0");
  }
  return s;
}

}  // namespace egw::testing
