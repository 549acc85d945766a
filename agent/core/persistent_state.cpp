#include "agent/core/persistent_state.h"

namespace egw {

const char* candidacyName(CandidacyState c) {
  switch (c) {
    case CandidacyState::None: return "none";
    case CandidacyState::Pending: return "pending";
    case CandidacyState::Enabled: return "enabled";
    case CandidacyState::Disabled: return "disabled";
  }
  return "none";
}

}  // namespace egw
