// egress-agent: the headless daemon on every node.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "egw/log.h"
#include "agent/node/agent.h"
#include "agent/node/sd_notify.h"

#include "egw/config.h"
#include "egw/node_identity.h"
#include "egw/version.h"

namespace {

// systemd (Type=notify): a failed notification is logged, never fatal.
void notify(const std::string& state) {
  if (auto r = egw::sdNotify(state); !r) egw::log::get("agent")->warn("sd_notify: {}", r.error());
}

int check(const std::string& path, const egw::IdentitySources& src) {
  egw::IdentityOrigins from;
  auto cfg = egw::loadAgentConfig(path, src, &from);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return 2;
  }
  std::cout << path << ": ok (node " << cfg->node.name << ", " << (cfg->isVoter() ? "voter" : "not a voter") << ", "
            << (cfg->node.candidate ? "candidate" : "observer") << ", " << cfg->voters.size() << " voters, "
            << egw::modeName(cfg->mode) << ", " << cfg->policies.size() << " policies, lease "
            << egw::formatDuration(cfg->election.lease()) << ")\n";
  // Where the identity came from: one shared config runs every worker (docs/membership.md).
  std::cout << "  node.name     " << cfg->node.name << "  (from " << from.name << ")\n"
            << "  node.address  " << cfg->node.address.str() << "  (from " << from.address << ")\n"
            << "  listen        peer " << cfg->listen.peer.str() << ", api " << cfg->listen.api.str()
            << (cfg->listen.metrics ? ", metrics " + cfg->listen.metrics->str() : std::string()) << "\n"
            << "  state_dir     " << cfg->stateDir << "  (from " << from.stateDir << ")\n";
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
  std::string configPath, nodeName, address, stateDir;
  bool checkOnly = false, noDatapath = false, version = false;
  app.add_option("-c,--config", configPath, "agent.yaml to run with (see resources/examples/agent.yaml)");
  app.add_option("--node-name", nodeName,
                 "this node's name; default node.name, else $NODE_NAME, else the host name (one config for every worker)");
  app.add_option("--address", address,
                 "this node's cluster address; default node.address, else the source address of the route to the first voter");
  app.add_option("--state-dir", stateDir, "state_dir to use instead of the config's (several agents on one host)");
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
  const auto sources = egw::hostSources(nodeName, address, stateDir);
  if (checkOnly) return check(configPath, sources);
  egw::IdentityOrigins from;
  auto cfg = egw::loadAgentConfig(configPath, sources, &from);
  if (!cfg) {
    std::cerr << cfg.error() << "\n";
    return 2;
  }
  egw::log::setup(cfg->log.level, cfg->log.format);
  auto log = egw::log::get("agent");
  if (from.name != "config" || from.address != "config")
    log->info("{}: node.name from {}, node.address {} from {}", cfg->node.name, from.name, cfg->node.address.str(),
              from.address);

  // Signals are taken synchronously by this thread only: block them before any thread starts.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  egw::Agent agent(*cfg, egw::AgentOptions{noDatapath});
  if (auto st = agent.start(); !st) {
    log->critical("{}: cannot start: {}", cfg->node.name, st.error());
    agent.shutdown();
    return 1;
  }
  // Ready once start() returned: the config is loaded, state_dir locked, the peer, API and
  // metrics listeners are bound, the datapath worker and the loop run. Whether the datapath
  // matches the role and a master is known is /readyz's business (it changes at runtime).
  notify("READY=1\nSTATUS=" + cfg->node.name + ": running, peer " + cfg->listen.peer.str() + ", api " +
         cfg->listen.api.str());
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGHUP) {
      notify("RELOADING=1");
      auto next = egw::loadAgentConfig(configPath, sources);
      if (!next) {
        log->error("{}: reload refused, the config is invalid:\n{}", cfg->node.name, next.error());
        notify("READY=1\nSTATUS=reload refused: the config is invalid (see the log)");
        continue;
      }
      auto summary = agent.reload(*next);
      log->info("{}: reload: {}", cfg->node.name, summary);
      notify("READY=1\nSTATUS=reload: " + summary);
      continue;
    }
    log->info("{}: {} received, stopping", cfg->node.name, sig == SIGTERM ? "SIGTERM" : "SIGINT");
    notify("STOPPING=1");
    agent.shutdown();
    return 0;
  }
}
