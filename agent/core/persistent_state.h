#pragma once
// What an agent keeps on disk between runs: term and vote (election::HardState) and the node's
// candidacy. The store (agent/store/state_store.*) writes it; the driver decides with it.
#include <string>

#include "agent/core/election.h"

namespace egw {

enum class CandidacyState { None, Pending, Enabled, Disabled };
const char* candidacyName(CandidacyState c);

struct PersistentState {
  election::HardState hard;
  CandidacyState candidacy = CandidacyState::None;
};

struct LoadedState {
  PersistentState state;
  bool existed = false;   // a state file was found (the node ran before)
  bool corrupt = false;   // it could not be read: the vote of some term is unknown
  std::string problem;    // why it is corrupt, with the path
};

}  // namespace egw
