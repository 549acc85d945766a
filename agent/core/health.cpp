#include "agent/core/health.h"

namespace egw {

HealthVerdict evaluateHealth(const HealthInputs& in, const std::string& egressInterface) {
  HealthVerdict v;
  if (!in.egressInterfaceUp) v.problems.push_back("egress interface " + egressInterface + " is down");
  if (!in.egressIpPresent) v.problems.push_back("egress IP is not present on " + egressInterface);
  if (!in.datapathApplied)
    v.problems.push_back("datapath not applied" + (in.lastApplyError.empty() ? std::string() : ": " + in.lastApplyError));
  if (in.allowlistRejected) v.problems.push_back("allowlist probe: the external service rejects this egress IP");
  for (const auto& p : in.hostProblems) v.problems.push_back(p);
  v.healthy = v.problems.empty();
  return v;
}

}  // namespace egw
