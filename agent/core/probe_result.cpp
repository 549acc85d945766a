#include "agent/core/probe_result.h"

namespace egw {

std::string_view outcomeName(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::Accepted: return "accepted";
    case ProbeOutcome::Refused: return "refused";
    case ProbeOutcome::Timeout: return "timeout";
    case ProbeOutcome::Unreachable: return "unreachable";
    case ProbeOutcome::LocalError: break;
  }
  return "local_error";
}

}  // namespace egw
