#include "agent/core/readiness.h"

#include <algorithm>

namespace egw {

namespace {

std::string termText(const ReadinessInputs& in) { return "term " + std::to_string(in.term); }

}  // namespace

std::int64_t livenessStallMs(std::int64_t electionTimeoutMs) {
  return std::max<std::int64_t>(10'000, 20 * electionTimeoutMs);
}

ProbeVerdict evaluateLiveness(std::int64_t loopAgeMs, std::int64_t electionTimeoutMs) {
  const auto limit = livenessStallMs(electionTimeoutMs);
  if (loopAgeMs > limit)
    return {false, "loop thread stalled: last ran " + std::to_string(loopAgeMs) + " ms ago (limit " +
                       std::to_string(limit) + " ms)"};
  return {true, "live: loop thread ran " + std::to_string(loopAgeMs) + " ms ago"};
}

ProbeVerdict evaluateReadiness(const ReadinessInputs& in) {
  // The loop publishes the inputs at least every status-report interval; older ones are stale.
  const auto stale = std::max<std::int64_t>(1000, 3 * in.electionTimeoutMs);
  if (in.loopAgeMs > stale)
    return {false, "loop thread has not run for " + std::to_string(in.loopAgeMs) + " ms"};

  std::string view;
  if (in.role == Role::Master) {
    if (!in.leaseValid)
      return {false, "master without a valid lease (" + termText(in) + "): SNAT is fenced"};
    view = "master, " + termText(in);
  } else if (!in.master.empty()) {
    view = "following " + in.master + ", " + termText(in);
  } else {
    return {false, std::string("no master known (") + std::string(roleName(in.role)) + ", " + termText(in) +
                       "): election in progress or no voter majority reachable"};
  }

  if (!in.datapathEnabled) return {true, "ready: " + view + " (datapath disabled: --no-datapath)"};
  if (!in.datapathInSync) {
    std::string why = in.datapathProblem.empty() ? "switch to the current role pending" : in.datapathProblem;
    return {false, "datapath not programmed for the current role (" + view + "): " + why};
  }
  return {true, "ready: " + view + ", datapath applied"};
}

}  // namespace egw
