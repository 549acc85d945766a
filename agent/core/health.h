#pragma once
// Health of a candidate: the inputs that decide whether it may stand for election.
#include <string>
#include <vector>

namespace egw {

struct HealthInputs {
  bool egressInterfaceUp = true;
  bool egressIpPresent = true;
  bool datapathApplied = true;
  bool allowlistRejected = false;
  std::vector<std::string> hostProblems;  // sysctls etc., each a full sentence
  std::string lastApplyError;
};

struct HealthVerdict {
  bool healthy = true;
  std::vector<std::string> problems;
};

// Pure: turns the inputs into a verdict with one readable reason per problem.
HealthVerdict evaluateHealth(const HealthInputs& in, const std::string& egressInterface);

}  // namespace egw
