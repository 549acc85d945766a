#pragma once
// The allowlist probe: every interval, a TCP connect to allowlist.probe.target FROM the node's
// egress IP (bound source), so the external service sees exactly the address it would see from
// SNATed traffic. See docs/allowlist.md for how to read the verdicts.
//
// Outcome -> verdict:
//   connected                         -> Ok
//   TCP reset (ECONNREFUSED)          -> Rejected   (the service actively refuses this source)
//   no answer within the timeout      -> Unverified "no answer within 2s ..." (ambiguous: a firewall
//                                        that silently drops non-allowlisted sources looks exactly
//                                        like a dead service; consecutiveTimeouts lets the caller
//                                        compare with other candidates' probes)
//   unreachable (EHOSTUNREACH, ...)   -> Unverified
//   local error (source not on any interface, bad target...) -> Unverified, detail says what
#include <atomic>
#include <chrono>
#include <memory>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/ports.h"
#include "agent/core/probe_result.h"
#include "egw/allowlist.h"
#include "egw/config.h"
#include "egw/ip.h"

namespace egw {


class AllowlistProber final : public ports::Prober {
 public:
  struct Options {
    Endpoint target;                          // host is an IP literal or a name (resolved each probe)
    IpAddress source;                         // the node's egress IP; bound before connect
    std::chrono::milliseconds interval{10000};
    std::chrono::milliseconds timeout{2000};
    std::string device;                       // optional SO_BINDTODEVICE (e.g. the egress interface)
  };
  // Called on the prober's thread after every periodic probe and every probeNow(), serialized.
  // It must not call stop() or probeNow() (they wait for that thread).
  using Callback = std::function<void(const ProbeResult&)>;

  // nullopt when the config has no probe target (probing disabled: the verdict stays Unknown).
  static std::optional<Options> fromConfig(const ProbeConfig& probe, const IpAddress& source, std::string device = {});

  AllowlistProber(Options options, Callback callback);
  ~AllowlistProber() override;  // stop()
  AllowlistProber(const AllowlistProber&) = delete;
  AllowlistProber& operator=(const AllowlistProber&) = delete;

  // Starts the thread; the first probe runs at once, then one every interval. The thread (and
  // so every socket it opens) lives in the network namespace of the thread calling start().
  void start() override;
  // Wakes the thread (an in-flight connect is abandoned at once) and joins it. Idempotent.
  // After stop() returns, no further callbacks.
  void stop() override;

  // One probe now, for the ProbeAllowlist RPC: runs on the prober's thread (also delivered to the
  // callback, and resets the interval) and returns its result; blocks at most about the timeout.
  // Before start() or after stop(), it runs on the calling thread and does not call the callback.
  ProbeResult probeNow();
  // probeNow() on a helper thread of its own, `done` called there; stop() joins the helpers
  // after the prober's thread, so a pending one is answered at once.
  void probeAsync(Done done) override;

  // Changes the source address for the next probes (the egress IP may change at runtime).
  void setSource(const IpAddress& source);

  ProbeResult last() const;        // the latest result (verdict Unknown, seq 0 before the first)
  int consecutiveTimeouts() const;

  // One TCP connect from options.source to options.target on the calling thread, bounded by
  // options.timeout; wakeFd (optional) readable abandons it. No state, no callback.
  static ProbeResult probeOnce(const Options& options, int wakeFd = -1);

 private:
  void run();
  ProbeResult record(ProbeResult r);  // numbers it and counts timeouts; under mu_

  Callback callback_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Options options_;
  ProbeResult last_;
  int consecutiveTimeouts_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t wanted_ = 0;  // probeNow tickets issued
  std::uint64_t served_ = 0;  // highest ticket a finished probe answered
  bool stopping_ = false;
  bool running_ = false;
  int wakeFd_ = -1;           // eventfd: wakes the thread out of a pending connect
  std::thread thread_;
  struct Helper {
    std::shared_ptr<std::atomic<bool>> finished;
    std::thread thread;
  };
  std::mutex helpersMu_;
  std::vector<Helper> helpers_;  // probeAsync; finished ones are joined on the next call
};

}  // namespace egw
