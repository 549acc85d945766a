#pragma once
// The datapath's own thread (FRR zebra's dataplane pattern): the election thread only queues
// what it wants and never waits for the kernel; results come back through a listener.
//
// Contract:
//  - submit() and refreshLease() never block on the kernel; the latest submitted state wins
//    (intermediate states are skipped), and a refresh only happens while the latest state is
//    Master.
//  - The listener is called on the worker thread, one event at a time; it must not call stop().
//    After stop() returns no further listener calls happen.
//  - Every `reconcileInterval` the worker compares the kernel with the applied state and
//    repairs it (DriftRepaired), re-reads health (HealthChanged when it differs) and counters.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/datapath/datapath.h"

namespace egw {

struct DatapathEvent {
  enum class Kind { Applied, LeaseRefreshFailed, DriftRepaired, ReconcileFailed, HealthChanged };
  Kind kind = Kind::Applied;
  DatapathError error;                    // kind None: success
  std::chrono::microseconds duration{0};  // Applied: the whole apply (nft + routes + VIP)
  DesiredState state;                     // Applied: the state that was applied (or failed)
  std::vector<std::string> repaired;      // DriftRepaired: one line per repair
  HealthInputs health;                    // HealthChanged: the new health
};

class DatapathWorker {
 public:
  using Listener = std::function<void(const DatapathEvent&)>;
  struct Options {
    Millis reconcileInterval{250};
    std::string node;  // prefixes the log lines
  };

  // Starts the thread. The worker reads health once before its first event.
  DatapathWorker(std::unique_ptr<Datapath> datapath, Listener listener, Options options);
  DatapathWorker(std::unique_ptr<Datapath> datapath, Listener listener)
      : DatapathWorker(std::move(datapath), std::move(listener), Options{}) {}
  ~DatapathWorker();  // stop(false) if still running
  DatapathWorker(const DatapathWorker&) = delete;
  DatapathWorker& operator=(const DatapathWorker&) = delete;

  void submit(DesiredState state);
  void refreshLease(Millis lease);

  // Snapshots, safe from any thread.
  HealthInputs health() const;
  std::vector<RuleCounter> counters() const;
  std::optional<IpAddress> egressIp() const;
  std::optional<DesiredState> applied() const;  // the last state applied successfully

  // Blocks until the thread ended; with removeAll the worker removes our tables, rule, routes
  // and VIP first. Idempotent.
  void stop(bool removeAll);

 private:
  void run();
  void notify(const DatapathEvent& e);
  void tick();

  std::unique_ptr<Datapath> dp_;
  Listener listener_;
  Options opt_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<DesiredState> pending_;
  std::chrono::steady_clock::time_point pendingAt_{};  // when pending_ was submitted
  // Absolute: a refresh that waited in the queue (a busy worker, or the whole process stopped
  // between submit and apply) must not extend the lease past what the election granted.
  std::optional<std::chrono::steady_clock::time_point> pendingLease_;
  DatapathRole latestRole_ = DatapathRole::NoMaster;
  bool stopping_ = false;
  bool removeAll_ = false;
  HealthInputs health_;
  std::vector<RuleCounter> counters_;
  std::optional<IpAddress> egressIp_;
  std::optional<DesiredState> applied_;

  std::thread thread_;
};

}  // namespace egw
