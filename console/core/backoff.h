#pragma once
// Reconnect policy: exponential backoff with a cap, rotating through the endpoints. Pure, so it is
// tested without sockets or clocks.
#include <QtCore/QStringList>

#include <algorithm>
#include <cstdint>

namespace egw::console {

struct BackoffPolicy {
  int initialMs = 250;
  int maxMs = 10'000;
  double multiplier = 2.0;

  // Delay before reconnect attempt `failures` (1 = after the first failure).
  int delayMs(int failures) const {
    double d = initialMs;
    for (int i = 1; i < failures && d < maxMs; ++i) d *= multiplier;
    return static_cast<int>(std::min<double>(d, maxMs));
  }
};

// Which endpoint to try and how long to wait. A failure moves on to the next endpoint, so a dead
// agent is skipped at once; the delay grows with consecutive failures and resets on a snapshot.
class ReconnectSchedule {
 public:
  ReconnectSchedule(QStringList endpoints, BackoffPolicy policy)
      : endpoints_(std::move(endpoints)), policy_(policy) {}

  const QStringList& endpoints() const { return endpoints_; }
  QString current() const { return endpoints_.isEmpty() ? QString() : endpoints_.at(index_); }
  int failures() const { return failures_; }

  // Records a failure of the current endpoint; returns the delay before trying the next one.
  int fail() {
    ++failures_;
    if (!endpoints_.isEmpty()) index_ = (index_ + 1) % endpoints_.size();
    return policy_.delayMs(failures_);
  }
  void succeeded() { failures_ = 0; }

 private:
  QStringList endpoints_;
  BackoffPolicy policy_;
  qsizetype index_ = 0;
  int failures_ = 0;
};

}  // namespace egw::console
