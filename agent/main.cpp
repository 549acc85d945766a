// egress-agent: the headless daemon on every node.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "egw/config.h"
#include "egw/version.h"

namespace {

int check(const std::string& path) {
  auto cfg = egw::loadConfig(path);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return 2;
  }
  std::cout << path << ": ok (node " << cfg->node.name << ", " << (cfg->isVoter() ? "voter" : "not a voter") << ", "
            << (cfg->node.candidate ? "candidate" : "observer") << ", " << cfg->voters.size() << " voters, "
            << egw::modeName(cfg->mode) << ", " << cfg->policies.size() << " policies, lease "
            << egw::formatDuration(cfg->election.lease()) << ")\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"egress-agent: elects one egress master among its peers and programs the node's datapath\n"
               "(nftables marking/SNAT, policy routing, virtual IP) to send selected traffic through it."};
  app.footer(
      "Exit codes: 0 clean stop or valid config, 1 runtime failure, 2 invalid config or usage.\n"
      "Signals: SIGTERM hands mastership over to the best healthy candidate, then exits;\n"
      "         SIGHUP reloads priority and candidacy from the config and refuses other changes.\n"
      "Example: egress-agent --config /etc/egress-gateway/agent.yaml --check");
  std::string configPath;
  bool checkOnly = false, noDatapath = false, version = false;
  app.add_option("-c,--config", configPath, "agent.yaml to run with (see resources/examples/agent.yaml)");
  app.add_flag("--check", checkOnly, "validate the config, print every problem as FILE:LINE: key: what, and exit (0 ok, 2 invalid)");
  app.add_flag("--no-datapath", noDatapath, "run the election and API without touching the kernel (no root needed)");
  app.add_flag("-V,--version", version, "print the version and protocol version");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (version) {
    std::printf("egress-agent %s (protocol %u)\n", egw::kVersion, egw::kProtocolVersion);
    return 0;
  }
  if (configPath.empty()) {
    std::cerr << "egress-agent: --config FILE is required (try --help)\n";
    return 2;
  }
  if (checkOnly) return check(configPath);
  (void)noDatapath;
  std::cerr << "egress-agent: running is not built yet\n";
  return 1;
}
