#include "agent/core/allowlist_policy.h"

namespace egw {

ProbeResult silentDropVerdict(ProbeResult r, const std::vector<std::string>& reachers) {
  if (r.outcome != ProbeOutcome::Timeout || r.consecutiveTimeouts < kSilentDropProbes || reachers.empty()) return r;
  std::string names;
  for (const auto& n : reachers) names += (names.empty() ? "" : ", ") + n;
  r.verdict = AllowlistVerdict::Rejected;
  r.detail = "no answer for " + std::to_string(r.consecutiveTimeouts) + " probes in a row while " + names +
             " reach the same target: the external service silently drops this source (" + r.detail + ")";
  return r;
}

bool rejectionCounts(AllowlistVerdict verdict, bool isMaster, bool verifiedAlternative) {
  return verdict == AllowlistVerdict::Rejected && (!isMaster || verifiedAlternative);
}

bool eligible(bool candidate, CandidacyState candidacy, bool healthy) {
  return candidate && candidacy == CandidacyState::Enabled && healthy;
}

CandidacyState initialCandidacy(bool candidate, bool voter) {
  if (!candidate) return CandidacyState::None;
  return voter ? CandidacyState::Enabled : CandidacyState::Pending;
}

}  // namespace egw
