#pragma once
// A ClusterBackend (what the agent's Cluster API asks the agent) with a fixed sample cluster:
// records every call, answers candidacy and handover like an agent would (handover's answer comes
// from another thread), and can `hang` to play an agent that never answers.
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "egw/version.h"
#include "agent/api/cluster_backend.h"

namespace egwtest {

namespace v1 = egressgw::v1;

inline v1::NodeStatus node(const std::string& name, const std::string& ip, v1::Role role,
                           v1::Candidacy cand = v1::CANDIDACY_ENABLED, v1::AllowlistVerdict verdict = v1::ALLOWLIST_OK) {
  v1::NodeStatus n;
  n.set_name(name);
  n.set_address("10.0.0." + ip.substr(ip.rfind('.') + 1));
  n.set_egress_ip(ip);
  n.set_role(role);
  n.set_candidacy(cand);
  n.set_healthy(true);
  n.set_allowlist(verdict);
  n.set_voter(cand != v1::CANDIDACY_NONE && cand != v1::CANDIDACY_PENDING);
  return n;
}

// Three egress nodes (egress-1 master), a pending fourth, and a worker.
inline v1::ClusterState sampleState() {
  v1::ClusterState s;
  s.set_master("egress-1");
  s.set_term(7);
  s.set_served_by("egress-1");
  s.set_protocol(egw::kProtocolVersion);
  s.set_mode("primary-ip");
  s.set_lease_ms(240);
  *s.add_nodes() = node("egress-1", "172.16.0.7", v1::MASTER);
  *s.add_nodes() = node("egress-2", "172.16.0.8", v1::FOLLOWER);
  *s.add_nodes() = node("egress-3", "172.16.0.9", v1::FOLLOWER, v1::CANDIDACY_ENABLED, v1::ALLOWLIST_UNVERIFIED);
  *s.add_nodes() = node("egress-4", "172.16.0.5", v1::FOLLOWER, v1::CANDIDACY_PENDING, v1::ALLOWLIST_UNKNOWN);
  *s.add_nodes() = node("worker-1", "", v1::OBSERVER, v1::CANDIDACY_NONE, v1::ALLOWLIST_UNKNOWN);
  return s;
}

class FakeBackend : public egw::ClusterBackend {
 public:
  FakeBackend() : state_(sampleState()) {}
  v1::ClusterState snapshot() const override {
    std::lock_guard lk(mu_);
    return state_;
  }
  void setState(const v1::ClusterState& s) {
    std::lock_guard lk(mu_);
    state_ = s;
  }
  void setCandidacy(const std::string& node, bool enable, bool force, const std::string& /*reason*/,
                    std::function<void(bool, std::string)> done) override {
    {
      std::lock_guard lk(mu_);
      calls.push_back("candidacy " + node + (enable ? " enable" : " disable") + (force ? " force" : ""));
      if (hang) return;
    }
    if (node == "egress-4" && enable && !force)
      done(false, "egress-4: its egress IP 172.16.0.5 is not verified by the allowlist probe; use --force to enable anyway");
    else
      done(true, std::string("candidacy of ") + node + (enable ? " enabled" : " disabled"));
  }
  void handover(const std::string& to, std::function<void(bool, std::string, std::string)> done) override {
    {
      std::lock_guard lk(mu_);
      calls.push_back("handover " + to);
      if (hang) return;
    }
    std::string target = to.empty() ? "egress-2" : to;
    std::thread([done, target] { done(true, "handed over to " + target, target); }).detach();  // another thread
  }
  void probeAllowlist(const std::string& node, std::function<void(v1::ProbeAllowlistResponse)> done) override {
    v1::ProbeAllowlistResponse r;
    r.set_verdict(v1::ALLOWLIST_OK);
    r.set_egress_ip(node == "egress-2" ? "172.16.0.8" : "172.16.0.7");
    r.set_detail("TCP connect to 198.51.100.10:443 accepted");
    done(r);
  }
  std::vector<std::string> takeCalls() {
    std::lock_guard lk(mu_);
    return std::exchange(calls, {});
  }
  std::size_t callCount() const {
    std::lock_guard lk(mu_);
    return calls.size();
  }
  bool hang = false;

 private:
  mutable std::mutex mu_;
  v1::ClusterState state_;
  std::vector<std::string> calls;
};

}  // namespace egwtest
