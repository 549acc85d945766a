#pragma once
// A Datapath that keeps what it is asked in memory (FakeState): every applied DesiredState, every
// lease refresh, the repairs the next reconcile() reports, removeAll(). apply() blocks while
// `gateOpen` is false, so a test can hold the worker inside a kernel call.
#include <condition_variable>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "agent/datapath/datapath.h"

namespace egwtest {

struct FakeState {
  std::mutex mu;
  std::condition_variable cv;
  bool gateOpen = true;  // apply() blocks while false
  bool inApply = false;
  std::vector<egw::DesiredState> applied;
  std::vector<egw::Millis> refreshes;
  std::vector<std::string> nextRepairs;
  bool removed = false;
  bool interfaceUp = true;
};

class FakeDatapath : public egw::Datapath {
 public:
  explicit FakeDatapath(FakeState& s) : s_(s) {}
  egw::DatapathError apply(const egw::DesiredState& st) override {
    std::unique_lock lk(s_.mu);
    s_.inApply = true;
    s_.cv.wait(lk, [&] { return s_.gateOpen; });
    s_.applied.push_back(st);
    if (st.role == egw::DatapathRole::Follower && !st.masterAddress) return {egw::DatapathErrorKind::InvalidInput, "no master"};
    return {};
  }
  egw::DatapathError refreshLease(egw::Millis lease) override {
    std::lock_guard lk(s_.mu);
    s_.refreshes.push_back(lease);
    return {};
  }
  egw::Result<std::vector<std::string>> reconcile() override {
    std::lock_guard lk(s_.mu);
    return std::exchange(s_.nextRepairs, {});
  }
  egw::Result<std::vector<egw::RuleCounter>> counters() override { return std::vector<egw::RuleCounter>{{"snat", 3, 300}}; }
  egw::HealthInputs health() override {
    std::lock_guard lk(s_.mu);
    egw::HealthInputs h;
    h.egressInterfaceUp = s_.interfaceUp;
    return h;
  }
  std::optional<egw::IpAddress> egressIp() override { return egw::IpAddress::parse("172.16.0.7"); }
  egw::DatapathError removeAll() override {
    std::lock_guard lk(s_.mu);
    s_.removed = true;
    return {};
  }

 private:
  FakeState& s_;
};

}  // namespace egwtest
