#pragma once
// SIGHUP: what of a changed config an agent applies live, and what it refuses by key. Pure.
// Live: node.priority, node.candidate. Every other key that differs is refused ("needs a
// restart"), named; none is silently ignored. The config file on disk is then ahead of the
// running agent until it restarts, which the summary says.
#include <optional>
#include <string>
#include <vector>

#include "egw/config.h"

namespace egw {

struct ReloadPlan {
  std::optional<int> priority;    // set: apply this priority
  std::optional<bool> candidate;  // set: apply this candidacy (and reset the persisted state)
  std::vector<std::string> applied;  // one text per applied change, e.g. "priority 100 -> 150"
  std::vector<std::string> refused;  // one text per refused key, e.g. "policies (needs a restart)"
  // "applied: ...; refused: ..." or "nothing to apply".
  std::string summary() const;
};

ReloadPlan planReload(const Config& current, const Config& next);

}  // namespace egw
