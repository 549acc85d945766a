#include "agent/core/reload_plan.h"

namespace egw {

std::string ReloadPlan::summary() const {
  std::string out;
  for (const auto& a : applied) out += (out.empty() ? "applied: " : ", ") + a;
  if (applied.empty()) out = "nothing to apply";
  if (!refused.empty()) {
    out += "; refused: ";
    for (std::size_t i = 0; i < refused.size(); ++i) out += (i ? ", " : "") + refused[i];
  }
  return out;
}

ReloadPlan planReload(const Config& cur, const Config& next) {
  ReloadPlan p;
  if (next.node.priority != cur.node.priority) {
    p.priority = next.node.priority;
    p.applied.push_back("priority " + std::to_string(cur.node.priority) + " -> " + std::to_string(next.node.priority));
  }
  const bool egressChanged = next.node.egress != cur.node.egress;
  if (next.node.candidate != cur.node.candidate) {
    if (next.node.candidate && egressChanged) {
      p.refused.push_back("node.candidate (egress interface changed too: restart the agent)");
    } else {
      p.candidate = next.node.candidate;
      p.applied.push_back(std::string("candidate ") + (next.node.candidate ? "true" : "false"));
    }
  }
  auto refuse = [&](bool differs, const char* key) {
    if (differs) p.refused.push_back(std::string(key) + " (needs a restart)");
  };
  refuse(next.node.name != cur.node.name, "node.name");
  refuse(next.node.address != cur.node.address, "node.address");
  refuse(egressChanged && !(next.node.candidate && next.node.candidate != cur.node.candidate), "node.egress");
  refuse(next.listen != cur.listen, "listen");
  refuse(next.voters != cur.voters, "voters");
  refuse(next.election != cur.election, "election");
  refuse(next.mode != cur.mode, "mode");
  refuse(next.virtualIp != cur.virtualIp, "virtual_ip");
  refuse(next.policies != cur.policies, "policies");
  refuse(next.datapath != cur.datapath, "datapath");
  refuse(next.probe != cur.probe, "allowlist");
  refuse(next.tls != cur.tls, "tls");
  refuse(next.insecure != cur.insecure, "insecure");
  refuse(next.stateDir != cur.stateDir, "state_dir");
  refuse(next.log != cur.log, "log");
  return p;
}

}  // namespace egw
