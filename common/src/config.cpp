#include "egw/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace egw {

Millis ElectionConfig::driftMargin() const {
  // Clocks may run 5% apart (a voter's timer fast, the master's slow): 10% of the election
  // timeout, at least one heartbeat interval so a late renewal cannot overrun it.
  auto m = Millis(std::max<std::int64_t>(electionTimeout.count() / 10, heartbeatInterval.count()));
  return m;
}

Millis ElectionConfig::lease() const { return electionTimeout - driftMargin(); }

bool Config::isVoter() const {
  return std::any_of(voters.begin(), voters.end(), [&](const VoterConfig& v) { return v.name == node.name; });
}

std::string modeName(Mode m) { return m == Mode::PrimaryIp ? "primary-ip" : "virtual-ip"; }

std::optional<Millis> parseDuration(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0 || i == text.size()) return std::nullopt;
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc{} || ptr != text.data() + i || !std::isfinite(value)) return std::nullopt;
  auto unit = text.substr(i);
  double ms;
  if (unit == "ms") ms = value;
  else if (unit == "s") ms = value * 1000;
  else if (unit == "m") ms = value * 60'000;
  else if (unit == "h") ms = value * 3'600'000;
  else return std::nullopt;
  if (ms > 86'400'000.0 * 365) return std::nullopt;
  if (ms != std::floor(ms)) return std::nullopt;  // sub-millisecond precision is not supported
  return Millis(static_cast<std::int64_t>(ms));
}

std::string formatDuration(Millis d) {
  auto ms = d.count();
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

// Keys and quoted values may hold line breaks and other control characters ("a\nb" in YAML);
// escaped, every error stays one "FILE:LINE: ..." line. Found by tests/fuzz/fuzz_config.
std::string oneLine(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch < 0x20 || ch == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    } else {
      out += static_cast<char>(ch);
    }
  }
  return out;
}

// Walks the YAML tree keeping the key path, collecting every error with its line.
class Reader {
 public:
  Reader(std::string file, std::vector<std::string>& errors) : file_(std::move(file)), errors_(errors) {}

  void error(const YAML::Node& at, const std::string& path, const std::string& what) {
    int line = 1;
    if (at.IsDefined() && at.Mark().line >= 0) line = at.Mark().line + 1;
    errors_.push_back(file_ + ":" + std::to_string(line) + ": " + oneLine(path) + ": " + oneLine(what));
  }

  // Checks that `n` is a mapping whose keys are all in `allowed` and appear once.
  bool mapping(const YAML::Node& n, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!n.IsMap()) {
      error(n, path.empty() ? std::string("(document)") : path, "expected a mapping");
      return false;
    }
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const auto key = kv.first.Scalar();
      const auto full = path.empty() ? key : path + "." + key;
      if (!seen.insert(key).second) error(kv.first, full, "duplicate key");
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
        error(kv.first, full, "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  std::optional<std::string> scalar(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      error(n, path, "expected a scalar value");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> string(const YAML::Node& parent, const std::string& path, std::string_view key,
                                    bool required) {
    auto n = parent[std::string(key)];
    auto full = join(path, key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) error(parent, full, "required key is missing");
      return std::nullopt;
    }
    return scalar(n, full);
  }

  std::optional<bool> boolean(const YAML::Node& parent, const std::string& path, std::string_view key) {
    auto n = parent[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    auto full = join(path, key);
    auto s = scalar(n, full);
    if (!s) return std::nullopt;
    if (*s == "true") return true;
    if (*s == "false") return false;
    error(n, full, "expected true or false, got '" + *s + "'");
    return std::nullopt;
  }

  std::optional<std::int64_t> integer(const YAML::Node& parent, const std::string& path, std::string_view key,
                                      std::int64_t lo, std::int64_t hi) {
    auto n = parent[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    auto full = join(path, key);
    auto s = scalar(n, full);
    if (!s) return std::nullopt;
    std::int64_t v = 0;
    const char* b = s->data();
    const char* e = s->data() + s->size();
    int base = 10;
    if (s->size() > 2 && (*s)[0] == '0' && ((*s)[1] == 'x' || (*s)[1] == 'X')) {
      b += 2;
      base = 16;
    }
    auto [ptr, ec] = std::from_chars(b, e, v, base);
    if (ec != std::errc{} || ptr != e || b == e) {
      error(n, full, "expected an integer, got '" + *s + "'");
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      error(n, full, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + *s);
      return std::nullopt;
    }
    return v;
  }

  std::optional<Millis> duration(const YAML::Node& parent, const std::string& path, std::string_view key) {
    auto n = parent[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    auto full = join(path, key);
    auto s = scalar(n, full);
    if (!s) return std::nullopt;
    auto d = parseDuration(*s);
    if (!d) {
      error(n, full, "expected a duration such as 100ms, 2s or 1m, got '" + *s + "'");
      return std::nullopt;
    }
    if (d->count() <= 0) {
      error(n, full, "must be greater than zero");
      return std::nullopt;
    }
    return d;
  }

  std::optional<IpAddress> ip(const YAML::Node& parent, const std::string& path, std::string_view key,
                              bool required) {
    auto s = string(parent, path, key, required);
    if (!s) return std::nullopt;
    auto a = IpAddress::parse(*s);
    if (!a) error(parent[std::string(key)], join(path, key), "not an IP address: '" + *s + "'");
    return a;
  }

  // `nodeAddress`: ":PORT" is allowed and means the node's address (an Endpoint with no host).
  std::optional<Endpoint> endpoint(const YAML::Node& parent, const std::string& path, std::string_view key,
                                   bool required, bool nodeAddress = false) {
    auto s = string(parent, path, key, required);
    if (!s) return std::nullopt;
    if (nodeAddress && s->size() > 1 && s->front() == ':') {
      if (auto e = Endpoint::parse("0.0.0.0" + *s)) return Endpoint{"", e->port};
    }
    auto e = Endpoint::parse(*s);
    if (!e)
      error(parent[std::string(key)], join(path, key),
            std::string("expected HOST:PORT") + (nodeAddress ? " (or :PORT for the node's address)" : "") +
                " with a port from 1 to 65535, got '" + *s + "'");
    return e;
  }

  std::vector<Cidr> cidrs(const YAML::Node& parent, const std::string& path, std::string_view key, bool required) {
    std::vector<Cidr> out;
    auto n = parent[std::string(key)];
    auto full = join(path, key);
    if (!n.IsDefined() || n.IsNull()) {
      if (required) error(parent, full, "required key is missing");
      return out;
    }
    if (!n.IsSequence()) {
      error(n, full, "expected a list of CIDRs");
      return out;
    }
    std::size_t i = 0;
    for (const auto& item : n) {
      auto itemPath = full + "[" + std::to_string(i++) + "]";
      auto s = scalar(item, itemPath);
      if (!s) continue;
      auto c = Cidr::parse(*s);
      if (!c) {
        auto loose = Cidr::parse(*s, true);
        error(item, itemPath,
              loose ? "host bits set in '" + *s + "' (did you mean " + loose->network().str() + "?)"
                    : "not a CIDR: '" + *s + "'");
        continue;
      }
      if (!c->address().isV4()) {
        error(item, itemPath, "IPv6 prefixes are not supported by the datapath yet: '" + *s + "'");
        continue;
      }
      out.push_back(*c);
    }
    // Overlaps make the ruleset ambiguous to read and an interval set refuses them: report them.
    std::vector<std::pair<Cidr, std::size_t>> sorted;
    for (std::size_t k = 0; k < out.size(); ++k) sorted.emplace_back(out[k], k);
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
      return a.first.address().v4HostOrder() < b.first.address().v4HostOrder() ||
             (a.first.address() == b.first.address() && a.first.prefix() < b.first.prefix());
    });
    std::uint64_t maxEnd = 0;
    std::optional<Cidr> maxCidr;
    for (const auto& [c, idx] : sorted) {
      std::uint64_t start = c.address().v4HostOrder();
      std::uint64_t end = start + (std::uint64_t{1} << (32 - c.prefix()));
      if (maxCidr && start < maxEnd) {
        auto it = n[idx];
        error(it, full + "[" + std::to_string(idx) + "]", c.str() + " overlaps " + maxCidr->str());
      }
      if (end > maxEnd) {
        maxEnd = end;
        maxCidr = c;
      }
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<std::string>& errors_;
};

const std::regex kNameRe("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$");

}  // namespace

bool validName(const std::string& s) { return std::regex_match(s, kNameRe); }

namespace {

void readNode(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["node"];
  if (!n.IsDefined()) {
    r.error(root, "node", "required key is missing");
    return;
  }
  // node.name and node.address may be left to the command line and the host (one config for
  // every worker, egw/node_identity.h); `node: {}` is then all there is.
  if (!r.mapping(n, "node", {"name", "address", "egress", "candidate", "priority"})) return;
  if (auto s = r.string(n, "node", "name", false)) {
    if (!validName(*s)) r.error(n["name"], "node.name", "must be 1-63 characters of [a-z0-9-], starting and ending alphanumeric; got '" + *s + "'");
    c.node.name = *s;
  }
  if (auto a = r.ip(n, "node", "address", false)) {
    if (a->isUnspecified()) r.error(n["address"], "node.address", "must be the node's cluster address, not " + a->str());
    c.node.address = *a;
  }
  if (auto b = r.boolean(n, "node", "candidate")) c.node.candidate = *b;
  if (auto p = r.integer(n, "node", "priority", 0, 1000)) c.node.priority = static_cast<int>(*p);
  auto e = n["egress"];
  if (e.IsDefined() && !e.IsNull()) {
    if (r.mapping(e, "node.egress", {"interface", "ip", "gateway"})) {
      if (auto s = r.string(e, "node.egress", "interface", false)) {
        if (s->empty() || s->size() > 15 || s->find('/') != std::string::npos || s->find(' ') != std::string::npos)
          r.error(e["interface"], "node.egress.interface", "not a valid interface name: '" + *s + "'");
        c.node.egress.interface = *s;
      }
      if (auto a = r.ip(e, "node.egress", "ip", false)) {
        if (!a->isV4()) r.error(e["ip"], "node.egress.ip", "must be an IPv4 address");
        c.node.egress.ip = *a;
      }
      if (auto a = r.ip(e, "node.egress", "gateway", false)) c.node.egress.gateway = *a;
    }
  }
  if (c.node.candidate && c.node.egress.interface.empty())
    r.error(e.IsDefined() ? e : n, "node.egress.interface", "required for a candidate (node.candidate: true)");
}

void readListen(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["listen"];
  if (!n.IsDefined()) {
    r.error(root, "listen", "required key is missing");
    return;
  }
  if (!r.mapping(n, "listen", {"peer", "api", "metrics"})) return;
  if (auto e = r.endpoint(n, "listen", "peer", true, true)) c.listen.peer = *e;
  if (auto e = r.endpoint(n, "listen", "api", true, true)) c.listen.api = *e;
  if (auto e = r.endpoint(n, "listen", "metrics", false, true)) c.listen.metrics = *e;
}

void readVoters(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["voters"];
  if (!n.IsDefined() || n.IsNull()) {
    r.error(root, "voters", "required key is missing");
    return;
  }
  if (!n.IsSequence()) {
    r.error(n, "voters", "expected a list of {name, address}");
    return;
  }
  std::map<std::string, std::size_t> names, addrs;
  std::size_t i = 0;
  for (const auto& v : n) {
    auto path = "voters[" + std::to_string(i) + "]";
    VoterConfig vc;
    if (r.mapping(v, path, {"name", "address"})) {
      if (auto s = r.string(v, path, "name", true)) {
        if (!validName(*s)) r.error(v["name"], path + ".name", "must be 1-63 characters of [a-z0-9-]; got '" + *s + "'");
        if (auto [it, fresh] = names.emplace(*s, i); !fresh)
          r.error(v["name"], path + ".name", "duplicate voter name '" + *s + "' (also voters[" + std::to_string(it->second) + "])");
        vc.name = *s;
      }
      if (auto e = r.endpoint(v, path, "address", true)) {
        if (auto [it, fresh] = addrs.emplace(e->str(), i); !fresh)
          r.error(v["address"], path + ".address", "duplicate voter address " + e->str() + " (also voters[" + std::to_string(it->second) + "])");
        vc.address = *e;
      }
    }
    c.voters.push_back(vc);
    ++i;
  }
  if (c.voters.empty()) r.error(n, "voters", "at least one voter is required (3 or 5 for fault tolerance)");
  else if (c.voters.size() % 2 == 0)
    r.error(n, "voters", "the number of voters must be odd (1, 3, 5 or 7), got " + std::to_string(c.voters.size()) +
                             ": an even count adds no fault tolerance and can split evenly");
  else if (c.voters.size() > 7)
    r.error(n, "voters", "at most 7 voters, got " + std::to_string(c.voters.size()));
}

void readElection(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["election"];
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.mapping(n, "election", {"heartbeat_interval", "election_timeout", "preempt"})) return;
  if (auto d = r.duration(n, "election", "heartbeat_interval")) c.election.heartbeatInterval = *d;
  if (auto d = r.duration(n, "election", "election_timeout")) c.election.electionTimeout = *d;
  if (auto b = r.boolean(n, "election", "preempt")) c.election.preempt = *b;
  if (c.election.electionTimeout < 3 * c.election.heartbeatInterval)
    r.error(n["election_timeout"].IsDefined() ? n["election_timeout"] : n, "election.election_timeout",
            "must be at least 3 × heartbeat_interval (" + formatDuration(3 * c.election.heartbeatInterval) +
                "), got " + formatDuration(c.election.electionTimeout));
  if (c.election.heartbeatInterval < Millis(5))
    r.error(n["heartbeat_interval"], "election.heartbeat_interval", "must be at least 5ms");
}

void readPolicies(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["policies"];
  if (!n.IsDefined() || n.IsNull()) return;
  if (!n.IsSequence()) {
    r.error(n, "policies", "expected a list of policies");
    return;
  }
  std::set<std::string> names;
  std::size_t i = 0;
  for (const auto& p : n) {
    auto path = "policies[" + std::to_string(i++) + "]";
    if (!r.mapping(p, path, {"name", "sources", "destinations", "exclude"})) continue;
    PolicyConfig pc;
    if (auto s = r.string(p, path, "name", true)) {
      if (!validName(*s)) r.error(p["name"], path + ".name", "must be 1-63 characters of [a-z0-9-]; got '" + *s + "'");
      if (!names.insert(*s).second) r.error(p["name"], path + ".name", "duplicate policy name '" + *s + "'");
      pc.name = *s;
    }
    pc.sources = r.cidrs(p, path, "sources", true);
    pc.destinations = r.cidrs(p, path, "destinations", true);
    pc.exclude = r.cidrs(p, path, "exclude", false);
    if (p["sources"].IsDefined() && p["sources"].IsSequence() && p["sources"].size() == 0) r.error(p["sources"], path + ".sources", "must not be empty");
    if (p["destinations"].IsDefined() && p["destinations"].IsSequence() && p["destinations"].size() == 0)
      r.error(p["destinations"], path + ".destinations", "must not be empty");
    c.policies.push_back(std::move(pc));
  }
}

void readDatapath(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["datapath"];
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.mapping(n, "datapath", {"table", "fwmark", "route_table", "no_master", "manage_sysctls"})) return;
  if (auto s = r.string(n, "datapath", "table", false)) {
    static const std::regex re("^[A-Za-z_][A-Za-z0-9_]{0,31}$");
    if (!std::regex_match(*s, re)) r.error(n["table"], "datapath.table", "must be an identifier [A-Za-z_][A-Za-z0-9_]*, at most 32 characters; got '" + *s + "'");
    c.datapath.table = *s;
  }
  if (auto v = r.integer(n, "datapath", "fwmark", 1, 0xFFFFFFFF)) c.datapath.fwmark = static_cast<std::uint32_t>(*v);
  if (auto v = r.integer(n, "datapath", "route_table", 1, 0xFFFFFFFE)) {
    if (*v == 253 || *v == 254 || *v == 255)
      r.error(n["route_table"], "datapath.route_table", "tables 253 (default), 254 (main) and 255 (local) are reserved");
    c.datapath.routeTable = static_cast<std::uint32_t>(*v);
  }
  if (auto s = r.string(n, "datapath", "no_master", false)) {
    if (*s == "drop") c.datapath.noMaster = NoMaster::Drop;
    else if (*s == "pass") c.datapath.noMaster = NoMaster::Pass;
    else r.error(n["no_master"], "datapath.no_master", "expected drop or pass, got '" + *s + "'");
  }
  if (auto b = r.boolean(n, "datapath", "manage_sysctls")) c.datapath.manageSysctls = *b;
}

void readAllowlist(Reader& r, const YAML::Node& root, Config& c) {
  auto n = root["allowlist"];
  if (!n.IsDefined() || n.IsNull()) return;
  if (!r.mapping(n, "allowlist", {"probe"})) return;
  auto p = n["probe"];
  if (!p.IsDefined() || p.IsNull()) return;
  if (!r.mapping(p, "allowlist.probe", {"target", "interval", "timeout"})) return;
  if (auto e = r.endpoint(p, "allowlist.probe", "target", true)) c.probe.target = *e;
  if (auto d = r.duration(p, "allowlist.probe", "interval")) c.probe.interval = *d;
  if (auto d = r.duration(p, "allowlist.probe", "timeout")) c.probe.timeout = *d;
  if (c.probe.timeout >= c.probe.interval)
    r.error(p["timeout"].IsDefined() ? p["timeout"] : p, "allowlist.probe.timeout",
            "must be shorter than allowlist.probe.interval (" + formatDuration(c.probe.interval) + ")");
}

}  // namespace

namespace {
void readAll(Reader& r, const YAML::Node& root, Config& c, const std::string& sourceName);
}

Result<Config> parseConfig(const std::string& text, const std::string& sourceName) {
  std::vector<std::string> errors;
  Reader r(sourceName, errors);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Result<Config>::failure(sourceName + ":" + std::to_string(e.mark.line + 1) + ": (syntax): " + oneLine(e.msg));
  }
  Config c;
  c.sourcePath = sourceName;
  try {
    readAll(r, root, c, sourceName);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on an unexpected shape we did not guard against; never crash on input.
    errors.push_back(sourceName + ":" + std::to_string(e.mark.line + 1) + ": (document): " + oneLine(e.msg));
  }
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Result<Config>::failure(all);
  }
  return c;
}

namespace {
void readAll(Reader& r, const YAML::Node& root, Config& c, const std::string& sourceName) {
  if (!root.IsDefined() || root.IsNull()) {
    r.error(root, "(document)", "the file is empty");
    return;
  }
  if (r.mapping(root, "", {"node", "listen", "voters", "election", "mode", "virtual_ip", "policies", "datapath",
                           "allowlist", "tls", "insecure", "state_dir", "log"})) {
    readNode(r, root, c);
    readListen(r, root, c);
    readVoters(r, root, c);
    readElection(r, root, c);
    if (auto s = r.string(root, "", "mode", false)) {
      if (*s == "primary-ip") c.mode = Mode::PrimaryIp;
      else if (*s == "virtual-ip") c.mode = Mode::VirtualIp;
      else r.error(root["mode"], "mode", "expected primary-ip or virtual-ip, got '" + *s + "'");
    }
    auto vip = root["virtual_ip"];
    if (vip.IsDefined() && !vip.IsNull() && r.mapping(vip, "virtual_ip", {"address", "interface"})) {
      VirtualIpConfig v;
      bool good = true;
      if (auto s = r.string(vip, "virtual_ip", "address", true)) {
        auto cidr = Cidr::parse(*s, true);
        if (!cidr || !cidr->address().isV4() || cidr->prefix() == 0) {
          r.error(vip["address"], "virtual_ip.address", "expected an IPv4 address with prefix such as 172.16.0.100/24, got '" + *s + "'");
          good = false;
        } else {
          v.address = *cidr;
        }
      } else {
        good = false;
      }
      if (auto s = r.string(vip, "virtual_ip", "interface", false)) v.interface = *s;
      else v.interface = c.node.egress.interface;
      if (good) c.virtualIp = v;
    }
    if (c.mode == Mode::VirtualIp && !(vip.IsDefined() && !vip.IsNull()))
      r.error(root["mode"], "virtual_ip", "required when mode is virtual-ip");
    readPolicies(r, root, c);
    readDatapath(r, root, c);
    readAllowlist(r, root, c);
    auto tls = root["tls"];
    if (tls.IsDefined() && !tls.IsNull() && r.mapping(tls, "tls", {"ca", "cert", "key"})) {
      TlsConfig t;
      std::filesystem::path base = std::filesystem::path(sourceName).parent_path();
      auto resolve = [&](const std::string& p) {
        return std::filesystem::path(p).is_absolute() || base.empty() ? p : (base / p).string();
      };
      if (auto s = r.string(tls, "tls", "ca", true)) t.ca = resolve(*s);
      if (auto s = r.string(tls, "tls", "cert", true)) t.cert = resolve(*s);
      if (auto s = r.string(tls, "tls", "key", true)) t.key = resolve(*s);
      c.tls = t;
    }
    if (auto b = r.boolean(root, "", "insecure")) c.insecure = *b;
    if (auto s = r.string(root, "", "state_dir", false)) {
      if (s->empty()) r.error(root["state_dir"], "state_dir", "must not be empty");
      c.stateDir = *s;
    }
    auto log = root["log"];
    if (log.IsDefined() && !log.IsNull() && r.mapping(log, "log", {"level", "format"})) {
      if (auto s = r.string(log, "log", "level", false)) {
        static const std::set<std::string> levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
        if (!levels.count(*s)) r.error(log["level"], "log.level", "expected trace, debug, info, warn, error, critical or off, got '" + *s + "'");
        c.log.level = *s;
      }
      if (auto s = r.string(log, "log", "format", false)) {
        if (*s == "text") c.log.format = LogFormat::Text;
        else if (*s == "json") c.log.format = LogFormat::Json;
        else r.error(log["format"], "log.format", "expected text or json, got '" + *s + "'");
      }
    }
    // Without TLS an agent only listens on loopback unless told insecure: true.
    if (!c.tls && !c.insecure) {
      auto check = [&](const Endpoint& e, const char* key) {
        if (!e.host.empty() && !e.isLoopback())
          r.error(root["listen"][key].IsDefined() ? root["listen"][key] : root, std::string("listen.") + key,
                  "listens on " + e.str() + " without tls: configure tls or set insecure: true");
      };
      if (root["listen"].IsMap()) {
        check(c.listen.peer, "peer");
        check(c.listen.api, "api");
        if (c.listen.metrics) check(*c.listen.metrics, "metrics");
      }
    }
  }
}
}  // namespace

Result<Config> loadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Result<Config>::failure(path + ":0: (file): cannot read: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parseConfig(ss.str(), path);
}

}  // namespace egw
