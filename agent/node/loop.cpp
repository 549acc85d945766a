#include "agent/node/loop.h"

#include <algorithm>

namespace egw {

ports::Time SteadyClock::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - epoch_).count();
}

std::int64_t SteadyClock::wallMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

EventLoop::~EventLoop() { stop(); }

bool EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (drained_) return false;  // the loop has ended: nobody would run it
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void EventLoop::start(std::function<Time()> nextDeadline, std::function<void(Time)> onTick) {
  thread_ = std::thread([this, nextDeadline = std::move(nextDeadline), onTick = std::move(onTick)] {
    run(nextDeadline, onTick);
  });
}

void EventLoop::run(std::function<Time()> nextDeadline, std::function<void(Time)> onTick) {
  while (!stop_.load()) {
    std::deque<std::function<void()>> batch;
    {
      std::unique_lock lock(mu_);
      // At least 1 ms: a deadline already past is served after this wait, never in a spin.
      const auto wake = clock_.at(std::max(nextDeadline(), clock_.now() + 1));
      cv_.wait_until(lock, wake, [&] { return !tasks_.empty() || stop_.load(); });
      batch.swap(tasks_);
    }
    for (auto& t : batch) t();
    const auto t = clock_.now();
    ranAt_.store(t, std::memory_order_relaxed);
    if (t >= nextDeadline()) onTick(t);
  }
  // Run what was posted before stop (e.g. the shutdown steps).
  std::deque<std::function<void()>> rest;
  {
    std::lock_guard lock(mu_);
    rest.swap(tasks_);
    drained_ = true;
  }
  for (auto& t : rest) t();
}

void EventLoop::stop() {
  if (!thread_.joinable()) {
    std::lock_guard lock(mu_);
    drained_ = true;
    return;
  }
  stop_ = true;
  cv_.notify_all();
  thread_.join();
}

}  // namespace egw
