#pragma once
// One allowlist probe's result (agent/probe/allowlist_prober.* takes them; the driver and
// agent/core/allowlist_policy.* judge them). Plain data.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "egw/allowlist.h"

namespace egw {

enum class ProbeOutcome : std::uint8_t {
  Accepted,     // TCP handshake completed
  Refused,      // RST: ECONNREFUSED
  Timeout,      // no answer within the timeout (SYN dropped somewhere)
  Unreachable,  // ICMP unreachable/prohibited, no route, or a local firewall said no
  LocalError,   // could not even send: source not on an interface, family mismatch, DNS, socket()
};
std::string_view outcomeName(ProbeOutcome o);  // "accepted" | "refused" | "timeout" | "unreachable" | "local_error"

struct ProbeResult {
  AllowlistVerdict verdict = AllowlistVerdict::Unknown;
  ProbeOutcome outcome = ProbeOutcome::LocalError;
  std::string detail;                 // one sentence naming target and source
  std::chrono::milliseconds elapsed{0};
  int consecutiveTimeouts = 0;        // Timeout outcomes in a row, this one included (0 after any other)
  std::uint64_t seq = 0;              // 1 for the prober's first probe, +1 each probe
};

}  // namespace egw
