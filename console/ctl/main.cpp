// egressctl: the cluster's state and actions for scripts and terminals.
#include <CLI/CLI.hpp>

#include <iostream>

#include "egw/version.h"

int main(int argc, char** argv) {
  CLI::App app{"egressctl: status, events, allowlist export and drift, candidacy and handover of an egress gateway cluster"};
  std::vector<std::string> endpoints;
  app.add_option("--endpoint", endpoints, "agent API endpoint HOST:PORT; repeat to fail over between agents")
      ->default_str("127.0.0.1:7401");
  app.set_version_flag("-V,--version", std::string("egressctl ") + egw::kVersion);
  app.require_subcommand(1);
  app.add_subcommand("status", "show the master, term and every node");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  std::cerr << "egressctl: not connected yet\n";
  return 1;
}
