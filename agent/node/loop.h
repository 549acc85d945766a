#pragma once
// The real Clock and Executor of the driver: a monotonic clock, and one loop thread that runs
// posted tasks in order and ticks the driver at its next deadline.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "agent/core/ports.h"

namespace egw {

class SteadyClock final : public ports::Clock {
 public:
  ports::Time now() const override;
  std::int64_t wallMs() const override;
  std::chrono::steady_clock::time_point at(ports::Time t) const { return epoch_ + std::chrono::milliseconds(t); }

 private:
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

class EventLoop final : public ports::Executor {
 public:
  using Time = ports::Time;
  explicit EventLoop(const SteadyClock& clock) : clock_(clock) {}
  ~EventLoop() override;

  bool post(std::function<void()> task) override;
  // Starts the thread: it sleeps until the earliest of nextDeadline() and a posted task, runs
  // the tasks, then onTick(now) when the deadline has passed.
  void start(std::function<Time()> nextDeadline, std::function<void(Time)> onTick);
  // Runs what was posted before, then ends the thread; later posts return false. Idempotent.
  void stop();
  bool running() const { return thread_.joinable(); }
  // now() when the loop last ran (for /livez).
  Time lastRanAt() const { return ranAt_.load(std::memory_order_relaxed); }

 private:
  void run(std::function<Time()> nextDeadline, std::function<void(Time)> onTick);

  const SteadyClock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool drained_ = false;  // under mu_: the loop ran its last tasks
  std::atomic<bool> stop_{false};
  std::atomic<Time> ranAt_{0};
  std::thread thread_;
};

}  // namespace egw
