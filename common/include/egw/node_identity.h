#pragma once
// Who this agent is when the config does not say: one shared config for every worker
// (docs/membership.md "One config for every worker"). node.name, node.address and state_dir may
// come from the command line or the host instead of the file; listen addresses written ":PORT"
// mean the node's address. Every value keeps where it came from, for `--check` and the start log.
//
//   node.name     --node-name, else node.name, else $NODE_NAME, else the host name
//   node.address  --address, else node.address, else the source address of the route to the
//                 first voter other than this node
//   state_dir     --state-dir, else state_dir, else /var/lib/egress-gateway
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "egw/config.h"
#include "egw/result.h"

namespace egw {

// What the command line and the host say. The real host is hostSources(); tests fill it in.
struct IdentitySources {
  std::string nodeNameFlag;   // --node-name
  std::string addressFlag;    // --address
  std::string stateDirFlag;   // --state-dir
  std::string envNodeName;    // $NODE_NAME
  std::string hostName;       // gethostname(), up to the first dot
  // The source address the kernel picks for packets to `to`, or why there is none.
  std::function<Result<IpAddress>(const IpAddress& to)> routeSource;
};

// The real host: the flags given, $NODE_NAME, gethostname(), and a connected UDP socket's local
// address for the route source (no packet is sent).
IdentitySources hostSources(std::string nodeNameFlag, std::string addressFlag, std::string stateDirFlag);

// Where each value came from, e.g. "config", "--node-name", "$NODE_NAME", "the host name",
// "the route to voter egress-1 (10.0.0.11)".
struct IdentityOrigins {
  std::string name, address, stateDir;
};

// Fills what the file left open and the listen addresses written ":PORT". Fails with every
// problem, each naming the config file, the key and the source of the value, e.g.
// "worker.yaml: node.name: 'Worker_1' from $NODE_NAME must be 1-63 characters of [a-z0-9-]...".
Result<Config> resolveIdentity(Config c, const IdentitySources& src, IdentityOrigins* origins = nullptr);

// loadConfig + resolveIdentity: what the agent runs with.
Result<Config> loadAgentConfig(const std::string& path, const IdentitySources& src, IdentityOrigins* origins = nullptr);

}  // namespace egw
