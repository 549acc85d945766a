#pragma once
// Per-client limits of the Cluster API, as plain data structures: time comes in as an argument,
// so they are tested without sockets or clocks. Not thread-safe; the owner locks.
//
// TokenBuckets: a rate limit per key (SetCandidacy/Handover/ProbeAllowlist per client identity).
// StreamCounter: a cap on concurrent streams per key and in total (Watch).
#include <chrono>
#include <cstddef>
#include <map>
#include <string>

namespace egw {

class TokenBuckets {
 public:
  using Time = std::chrono::steady_clock::time_point;
  // `perSecond` tokens refill per second up to `burst`; a key never seen starts full. At most
  // `maxKeys` buckets are kept: beyond that, full buckets (clients that have been quiet) are
  // forgotten, which changes nothing since they would start full again.
  TokenBuckets(double perSecond, double burst, std::size_t maxKeys = 4096);
  // Takes one token for `key` at `now`; false when the bucket is empty.
  bool take(const std::string& key, Time now);
  // Seconds until `key` has a token again at `now` (0 when it has one).
  double waitSeconds(const std::string& key, Time now) const;
  std::size_t keys() const { return buckets_.size(); }
  double perSecond() const { return perSecond_; }

 private:
  struct Bucket {
    double tokens;
    Time last;
  };
  double level(const Bucket& b, Time now) const;

  double perSecond_, burst_;
  std::size_t maxKeys_;
  std::map<std::string, Bucket> buckets_;
};

class StreamCounter {
 public:
  enum class Refusal { None, PerKey, Total };
  StreamCounter(std::size_t perKey, std::size_t total) : perKey_(perKey), total_(total) {}
  // Counts one more stream for `key`, or says which cap refuses it (then nothing is counted).
  Refusal acquire(const std::string& key);
  // Exactly once per successful acquire.
  void release(const std::string& key);
  std::size_t count(const std::string& key) const;
  std::size_t total() const { return count_; }
  std::size_t perKeyLimit() const { return perKey_; }
  std::size_t totalLimit() const { return total_; }

 private:
  std::size_t perKey_, total_, count_ = 0;
  std::map<std::string, std::size_t> byKey_;
};

}  // namespace egw
