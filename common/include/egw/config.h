#pragma once
// agent.yaml: every key of DESIGN.md, validated as a whole. Loading never stops at the first
// problem: every error is collected as "FILE:LINE: key.path: what is wrong".
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "egw/ip.h"
#include "egw/result.h"

namespace egw {

using Millis = std::chrono::milliseconds;

enum class Mode { PrimaryIp, VirtualIp };
enum class NoMaster { Drop, Pass };
enum class LogFormat { Text, Json };

struct EgressConfig {
  std::string interface;               // required for candidates
  std::optional<IpAddress> ip;         // default: the interface's primary IPv4
  std::optional<IpAddress> gateway;    // next hop on the public side; default: the interface's default route
  bool operator==(const EgressConfig&) const = default;
};

struct NodeConfig {
  std::string name;                    // empty until resolved (egw/node_identity.h)
  IpAddress address;                   // unspecified (0.0.0.0) until resolved
  EgressConfig egress;
  bool candidate = false;
  int priority = 100;
  bool operator==(const NodeConfig&) const = default;
};

// An endpoint written ":PORT" has no host until resolveIdentity gives it the node's address.
struct ListenConfig {
  Endpoint peer;
  Endpoint api;
  std::optional<Endpoint> metrics;     // absent: no metrics listener
  bool operator==(const ListenConfig&) const = default;
};

struct VoterConfig {
  std::string name;
  Endpoint address;
  bool operator==(const VoterConfig&) const = default;
};

struct ElectionConfig {
  Millis heartbeatInterval{100};
  Millis electionTimeout{300};
  bool preempt = false;
  // Derived timing (docs/architecture.md "Timing"): the lease must end before any voter's
  // election timeout can, even with clocks running 5% apart.
  Millis driftMargin() const;
  Millis lease() const;                // electionTimeout - driftMargin
  Millis leaseRefresh() const { return heartbeatInterval; }
  bool operator==(const ElectionConfig&) const = default;
};

struct VirtualIpConfig {
  Cidr address;                        // host address with its prefix, e.g. 172.16.0.100/24
  std::string interface;
  bool operator==(const VirtualIpConfig&) const = default;
};

struct PolicyConfig {
  std::string name;
  std::vector<Cidr> sources;
  std::vector<Cidr> destinations;
  std::vector<Cidr> exclude;
  bool operator==(const PolicyConfig&) const = default;
};

struct DatapathConfig {
  std::string table = "egress_gateway";
  std::uint32_t fwmark = 0x4000;
  std::uint32_t routeTable = 4000;
  NoMaster noMaster = NoMaster::Drop;
  bool manageSysctls = false;          // fix ip_forward/rp_filter instead of only reporting them
  bool operator==(const DatapathConfig&) const = default;
};

struct ProbeConfig {
  std::optional<Endpoint> target;      // absent: no probing (verdict stays unknown)
  Millis interval{10000};
  Millis timeout{2000};
  bool operator==(const ProbeConfig&) const = default;
};

struct TlsConfig {
  std::string ca, cert, key;           // resolved relative to the config file's directory
  bool operator==(const TlsConfig&) const = default;
};

struct LogConfig {
  std::string level = "info";
  LogFormat format = LogFormat::Text;
  bool operator==(const LogConfig&) const = default;
};

struct Config {
  std::string sourcePath;
  NodeConfig node;
  ListenConfig listen;
  std::vector<VoterConfig> voters;
  ElectionConfig election;
  Mode mode = Mode::PrimaryIp;
  std::optional<VirtualIpConfig> virtualIp;
  std::vector<PolicyConfig> policies;
  DatapathConfig datapath;
  ProbeConfig probe;
  std::optional<TlsConfig> tls;
  bool insecure = false;               // allow non-loopback listeners without TLS
  std::string stateDir = "/var/lib/egress-gateway";
  LogConfig log;

  bool isVoter() const;
  // Every field, for the reload diff (agent/core/reload_plan.*): a key that differs and cannot be
  // applied live is refused by name, never silently ignored.
  bool operator==(const Config&) const = default;
};

struct ConfigErrors {
  std::vector<std::string> lines;      // each "FILE:LINE: key.path: message"
};

// Parses and validates. On failure every problem found is listed.
Result<Config> loadConfig(const std::string& path);
Result<Config> parseConfig(const std::string& text, const std::string& sourceName);

// A node, voter or policy name: 1-63 characters of [a-z0-9-], starting and ending alphanumeric.
bool validName(const std::string& s);

// "100ms", "2s", "1m", "1.5s" -> milliseconds.
std::optional<Millis> parseDuration(std::string_view text);
std::string formatDuration(Millis d);
std::string modeName(Mode m);

}  // namespace egw
