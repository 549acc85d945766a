#include "agent/security/limiter.h"

#include <algorithm>
#include <cassert>

namespace egw {

TokenBuckets::TokenBuckets(double perSecond, double burst, std::size_t maxKeys)
    : perSecond_(perSecond), burst_(std::max(1.0, burst)), maxKeys_(maxKeys) {}

double TokenBuckets::level(const Bucket& b, Time now) const {
  const double elapsed = now > b.last ? std::chrono::duration<double>(now - b.last).count() : 0.0;
  return std::min(burst_, b.tokens + elapsed * perSecond_);
}

bool TokenBuckets::take(const std::string& key, Time now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxKeys_) {
      for (auto b = buckets_.begin(); b != buckets_.end();)
        b = level(b->second, now) >= burst_ ? buckets_.erase(b) : std::next(b);
    }
    it = buckets_.emplace(key, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = level(b, now);
  b.last = std::max(b.last, now);
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

double TokenBuckets::waitSeconds(const std::string& key, Time now) const {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) return 0;
  const double have = level(it->second, now);
  if (have >= 1.0) return 0;
  return perSecond_ > 0 ? (1.0 - have) / perSecond_ : -1;
}

StreamCounter::Refusal StreamCounter::acquire(const std::string& key) {
  auto& n = byKey_[key];
  if (n >= perKey_) {
    if (n == 0) byKey_.erase(key);
    return Refusal::PerKey;
  }
  if (count_ >= total_) {
    if (n == 0) byKey_.erase(key);
    return Refusal::Total;
  }
  ++n;
  ++count_;
  return Refusal::None;
}

void StreamCounter::release(const std::string& key) {
  auto it = byKey_.find(key);
  assert(it != byKey_.end() && it->second > 0 && count_ > 0);
  if (it == byKey_.end()) return;
  --count_;
  if (--it->second == 0) byKey_.erase(it);
}

std::size_t StreamCounter::count(const std::string& key) const {
  auto it = byKey_.find(key);
  return it == byKey_.end() ? 0 : it->second;
}

}  // namespace egw
