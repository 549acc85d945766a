#pragma once
// How an allowlist probe's result becomes this node's verdict and eligibility
// (docs/allowlist.md). Pure.
#include <string>
#include <vector>

#include "agent/core/persistent_state.h"
#include "agent/core/probe_result.h"

namespace egw {

// Probe timeouts in a row, while other candidates reach the target, that count as a silent refusal.
inline constexpr int kSilentDropProbes = 2;

// A firewall that silently drops sources not on its allowlist looks like a dead service to one
// probe. When other candidates (`reachers`) reach the same target at the same time, the service
// is alive and it is this source it ignores: the result becomes Rejected, with a detail that
// names them. Any other result is returned unchanged.
ProbeResult silentDropVerdict(ProbeResult r, const std::vector<std::string>& reachers);

// Does a Rejected verdict make this node ineligible? A candidate: yes. A master: only when a
// verified candidate can take the traffic, since stepping down with nobody to take over turns
// "the service refuses us" into "nothing leaves at all", and hides which node is refused.
bool rejectionCounts(AllowlistVerdict verdict, bool isMaster, bool verifiedAlternative);

// May this node stand for master?
bool eligible(bool candidate, CandidacyState candidacy, bool healthy);

// The candidacy a node starts with when none is persisted: voters come with the cluster's first
// config (enabled); a candidate that joins later carries no traffic until an operator checked
// that the external service accepts its IP and enabled it (pending).
CandidacyState initialCandidacy(bool candidate, bool voter);

}  // namespace egw
