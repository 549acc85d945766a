#include "agent/core/ruleset.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

namespace egw {

namespace {

std::string hex(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// nft quotes strings with "..." and has no escapes: refuse anything that could break out.
bool safeToQuote(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > ' ' && c < 127 && c != '"' && c != '\\' && c != ';' && c != '#' && c != '{' && c != '}';
  });
}

std::string elements(const std::vector<Cidr>& cidrs) {
  if (cidrs.empty()) return {};
  std::string out = " elements = { ";
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    if (i) out += ", ";
    out += cidrs[i].prefix() == 32 ? cidrs[i].address().str() : cidrs[i].str();
  }
  out += " };";
  return out;
}

std::string intervalSet(const std::string& name, const std::vector<Cidr>& cidrs) {
  return "  set " + name + " { type ipv4_addr; flags interval;" + elements(cidrs) + " }\n";
}

std::string leaseSet(const std::string& iface, Millis lease) {
  std::string s = std::string("  set ") + ruleset::kLeaseSet + " { type ifname; flags timeout;";
  if (lease.count() > 0) s += " elements = { \"" + iface + "\" timeout " + std::to_string(lease.count()) + "ms };";
  return s + " }\n";
}

std::string markMatch(const Config& cfg) {
  return "meta mark & " + hex(cfg.datapath.fwmark) + " == " + hex(cfg.datapath.fwmark);
}

std::string policySelector(std::size_t i) {
  auto p = "p" + std::to_string(i);
  return "ip saddr @" + p + "_src ip daddr @" + p + "_dst ip daddr != @" + p + "_exc";
}

// Every chain and rule carry a comment naming it: counters are read back by comment, and a
// human reading `nft list table` sees why each rule is there.
std::string chain(const std::string& name, const std::string& hook, const std::vector<std::string>& rules) {
  std::string s = "  chain " + name + " {\n    " + hook + "; policy accept;\n";
  for (const auto& r : rules) s += "    " + r + "\n";
  return s + "  }\n";
}

std::string comment(const std::string& c) { return " comment \"" + c + "\""; }

}  // namespace

std::string roleName(DatapathRole r) {
  switch (r) {
    case DatapathRole::NoMaster: return "no-master";
    case DatapathRole::Follower: return "follower";
    case DatapathRole::Master: return "master";
  }
  return "?";
}

Status checkRenderable(const Config& cfg, const DesiredState& st) {
  const auto& dp = cfg.datapath;
  if (dp.table.empty() || !safeToQuote(dp.table)) return Status::failure("datapath.table: invalid table name '" + dp.table + "'");
  if (dp.fwmark == 0) return Status::failure("datapath.fwmark: must not be 0");
  if (cfg.policies.empty()) return Status::failure("policies: at least one policy is needed for the datapath");
  for (const auto& p : cfg.policies) {
    if (!safeToQuote(p.name)) return Status::failure("policies: invalid policy name '" + p.name + "'");
    for (const auto* list : {&p.sources, &p.destinations, &p.exclude})
      for (const auto& c : *list)
        if (!c.address().isV4()) return Status::failure("policy " + p.name + ": IPv6 prefix " + c.str() + " is not supported by the datapath");
  }
  if (st.role == DatapathRole::Follower && !st.masterAddress)
    return Status::failure("follower state without a master address");
  if (st.role == DatapathRole::Follower && !st.masterAddress->isV4())
    return Status::failure("master address " + st.masterAddress->str() + " is not IPv4");
  if (st.role == DatapathRole::Master) {
    if (!safeToQuote(cfg.node.egress.interface))
      return Status::failure("node.egress.interface: a master needs a valid egress interface, got '" + cfg.node.egress.interface + "'");
    if (cfg.mode == Mode::VirtualIp) {
      if (!cfg.virtualIp) return Status::failure("virtual_ip: required in virtual-ip mode");
    } else if (!st.egressIp || !st.egressIp->isV4()) {
      return Status::failure("master in primary-ip mode without an IPv4 egress IP");
    }
  }
  if (cfg.mode == Mode::VirtualIp && (!cfg.virtualIp || !safeToQuote(cfg.virtualIp->interface)))
    return Status::failure("virtual_ip: an address and a valid interface are required in virtual-ip mode");
  return {};
}

std::size_t expectedRuleCount(const Config& cfg, const DesiredState& st) {
  std::size_t n = 2 * cfg.policies.size();
  if (st.role == DatapathRole::Master) n += 4;  // fence, egress-only, snat, source guard
  if (st.role == DatapathRole::Follower && !cfg.node.egress.interface.empty()) n += 1;  // follower guard
  if (st.role != DatapathRole::Master && !cfg.node.egress.interface.empty()) n += 2 * cfg.policies.size();  // notrack
  if (st.role == DatapathRole::NoMaster && cfg.datapath.noMaster == NoMaster::Drop) n += 2;
  return n;
}

namespace {

struct Chain {
  std::string name;
  std::string hook;                // "type filter hook prerouting priority mangle"
  std::vector<std::string> rules;  // empty: declared, but nothing for this role
};

// One of our tables. Its sets and chains depend on the config alone; only the rules in the
// chains and the lease element depend on the role (see renderRoleChange).
struct Table {
  std::string family;  // inet | arp
  std::string sets;    // the policy sets' declarations with their elements (inet only)
  std::string leaseIface;
  Millis lease{0};     // the lease element's timeout; 0: the set is empty
  std::vector<Chain> chains;
};

// withSets: render the policy sets' declarations and elements (a role change leaves them alone;
// with 100k CIDRs they are most of the rendering).
std::vector<Table> model(const Config& cfg, const DesiredState& st, bool withSets) {
  const auto mark = markMatch(cfg);
  const auto& egressIf = cfg.node.egress.interface;
  const bool master = st.role == DatapathRole::Master;
  const bool egressNode = !egressIf.empty();
  std::vector<Table> tables;

  Table inet;
  inet.family = "inet";
  for (std::size_t i = 0; withSets && i < cfg.policies.size(); ++i) {
    const auto& p = cfg.policies[i];
    auto n = "p" + std::to_string(i);
    inet.sets += "  # policy " + p.name + "\n";
    inet.sets += intervalSet(n + "_src", p.sources);
    inet.sets += intervalSet(n + "_dst", p.destinations);
    inet.sets += intervalSet(n + "_exc", p.exclude);
  }
  // The lease element lives only on the master; elsewhere the set is empty so a stale refresh
  // can never open anything.
  inet.leaseIface = egressNode ? egressIf : std::string("-");
  inet.lease = master ? st.lease : Millis{0};

  // Marking runs on every packet (not only on new connections), so established flows keep
  // being policy-routed and fenced after a switch. The mark is OR-ed in to leave other bits alone.
  Chain pre{"mark_prerouting", "type filter hook prerouting priority mangle", {}};
  Chain out{"mark_output", "type route hook output priority mangle", {}};
  const auto setMark = "meta mark set meta mark | " + hex(cfg.datapath.fwmark);
  for (std::size_t i = 0; i < cfg.policies.size(); ++i) {
    pre.rules.push_back(policySelector(i) + " counter " + setMark + comment("mark-prerouting:" + cfg.policies[i].name));
    out.rules.push_back(policySelector(i) + " counter " + setMark + comment("mark-output:" + cfg.policies[i].name));
  }
  inet.chains.push_back(std::move(pre));
  inet.chains.push_back(std::move(out));

  if (egressNode) {
    // A candidate that is not master keeps no conntrack state for selected flows. Otherwise a
    // flow it forwarded to the old master (or dropped) gets an entry without a NAT binding, and
    // when this node becomes master the NAT rule is never consulted for that flow again: its
    // packets would leave unSNATed. Untracked here, they start fresh under the master ruleset.
    Chain rawPre{"notrack_prerouting", "type filter hook prerouting priority raw", {}};
    Chain rawOut{"notrack_output", "type filter hook output priority raw", {}};
    if (!master)
      for (std::size_t i = 0; i < cfg.policies.size(); ++i) {
        rawPre.rules.push_back(policySelector(i) + " counter notrack" + comment("notrack-prerouting:" + cfg.policies[i].name));
        rawOut.rules.push_back(policySelector(i) + " counter notrack" + comment("notrack-output:" + cfg.policies[i].name));
      }
    inet.chains.push_back(std::move(rawPre));
    inet.chains.push_back(std::move(rawOut));

    Chain fence{"egress_fence", "type filter hook postrouting priority filter", {}};
    Chain snat{"egress_snat", "type nat hook postrouting priority srcnat", {}};
    Chain guard{"egress_source_guard", "type filter hook postrouting priority 101", {}};
    if (master) {
      // Fencing: selected traffic may leave the egress interface only while the lease element
      // exists. This chain sees every packet, so established flows stop too when it expires.
      fence.rules.push_back("oifname \"" + egressIf + "\" " + mark + " oifname != @" + ruleset::kLeaseSet +
                            " counter drop" + comment(ruleset::kFenceComment));
      // On the master selected traffic leaves by the egress interface or not at all. Without
      // this, a flow's first packet routed elsewhere (the route to the old master is switched
      // just after this ruleset) would confirm a conntrack entry without a NAT binding, and the
      // source guard would then drop that flow for as long as it keeps sending.
      fence.rules.push_back(mark + " oifname != \"" + egressIf + "\" counter drop" + comment(ruleset::kEgressOnlyComment));
      // Identical on every candidate in virtual-ip mode (the VIP), so a flow moved to a new
      // master keeps its source address and conntrack picks it up mid-stream.
      const auto to = cfg.mode == Mode::VirtualIp ? cfg.virtualIp->address.address().str() : st.egressIp->str();
      snat.rules.push_back("oifname \"" + egressIf + "\" " + mark + " counter snat ip to " + to + comment(ruleset::kSnatComment));
      // After NAT: whatever selected traffic still carries another source (a flow whose conntrack
      // entry predates this ruleset) never leaves with an address the allowlist may not hold.
      guard.rules.push_back("oifname \"" + egressIf + "\" " + mark + " ip saddr != " + to + " counter drop" +
                            comment(ruleset::kSourceGuardComment));
    }
    inet.chains.push_back(std::move(fence));
    inet.chains.push_back(std::move(snat));
    inet.chains.push_back(std::move(guard));

    // A follower hands selected traffic only to the master. Selected traffic that would leave
    // the egress interface towards any other next hop (the master's old route while the
    // datapath switches, a main-table route) would leave without SNAT: drop it.
    Chain fg{"follower_guard", "type filter hook postrouting priority filter", {}};
    if (st.role == DatapathRole::Follower)
      fg.rules.push_back("oifname \"" + egressIf + "\" " + mark + " rt ip nexthop != " + st.masterAddress->str() +
                         " counter drop" + comment(ruleset::kFollowerGuardComment));
    inet.chains.push_back(std::move(fg));
  }

  if (cfg.datapath.noMaster == NoMaster::Drop) {
    // Fail closed: without a master the selected traffic must not leave with an address that
    // may not be on the allowlist.
    Chain fwd{"no_master_forward", "type filter hook forward priority filter", {}};
    Chain outp{"no_master_output", "type filter hook output priority filter", {}};
    if (st.role == DatapathRole::NoMaster) {
      fwd.rules.push_back(mark + " counter drop" + comment(ruleset::kNoMasterForwardComment));
      outp.rules.push_back(mark + " counter drop" + comment(ruleset::kNoMasterOutputComment));
    }
    inet.chains.push_back(std::move(fwd));
    inet.chains.push_back(std::move(outp));
  }
  tables.push_back(std::move(inet));

  if (cfg.mode == Mode::VirtualIp) {
    // The kernel's own ARP answers for the VIP are fenced by the same lease: a frozen master
    // stops claiming the address when its lease ends. (Gratuitous ARP from AF_PACKET bypasses
    // this hook; the agent only sends it while it holds a lease.)
    Table arp;
    arp.family = "arp";
    arp.leaseIface = cfg.virtualIp->interface;
    arp.lease = master ? st.lease : Millis{0};
    arp.chains.push_back({"arp_fence", "type filter hook output priority filter",
                          {"arp saddr ip " + cfg.virtualIp->address.address().str() + " oifname != @" +
                           ruleset::kLeaseSet + " counter drop" + comment(ruleset::kArpFenceComment)}});
    tables.push_back(std::move(arp));
  }
  return tables;
}

std::string header(const Config& cfg, const DesiredState& st, const char* what) {
  return "# egress-gateway datapath" + std::string(what) + ": node " + cfg.node.name + ", role " + roleName(st.role) +
         ", mode " + modeName(cfg.mode) + "\n";
}

}  // namespace

std::string renderRuleset(const Config& cfg, const DesiredState& st) {
  const auto& t = cfg.datapath.table;
  std::string s = header(cfg, st, "");
  for (const auto& tb : model(cfg, st, true)) {
    // Create-then-delete makes the delete valid whether or not the table exists. The script is
    // one transaction, but the kernel does not switch a replaced table's hooks atomically:
    // packets crossing the commit can miss both tables. NftDatapath therefore uses this text only
    // to create the table (start, reload, repair) and renderRoleChange for role changes.
    s += "table " + tb.family + " " + t + " {}\n";
    s += "delete table " + tb.family + " " + t + "\n";
    s += "table " + tb.family + " " + t + " {\n";
    s += tb.sets;
    s += leaseSet(tb.leaseIface, tb.lease);
    for (const auto& c : tb.chains) s += chain(c.name, c.hook, c.rules);
    s += "}\n";
  }
  return s;
}

std::string renderRoleChange(const Config& cfg, const DesiredState& st) {
  const auto& t = cfg.datapath.table;
  std::string s = header(cfg, st, " role change");
  for (const auto& tb : model(cfg, st, false)) {
    const auto obj = tb.family + " " + t;
    s += "flush set " + obj + " " + ruleset::kLeaseSet + "\n";
    if (tb.lease.count() > 0)
      s += "add element " + obj + " " + ruleset::kLeaseSet + " { \"" + tb.leaseIface + "\" timeout " +
           std::to_string(tb.lease.count()) + "ms }\n";
    for (const auto& c : tb.chains) {
      s += "flush chain " + obj + " " + c.name + "\n";
      for (const auto& r : c.rules) s += "add rule " + obj + " " + c.name + " " + r + "\n";
    }
  }
  return s;
}

std::string renderLeaseRefresh(const Config& cfg, Millis lease) {
  const auto& t = cfg.datapath.table;
  auto one = [&](const std::string& family, const std::string& iface) {
    if (lease.count() <= 0)  // end the lease now: add (in case it is gone) and delete
      return "add element " + family + " " + t + " " + ruleset::kLeaseSet + " { \"" + iface + "\" timeout 1ms }\n" +
             "delete element " + family + " " + t + " " + ruleset::kLeaseSet + " { \"" + iface + "\" }\n";
    auto elem = "{ \"" + iface + "\" timeout " + std::to_string(lease.count()) + "ms }";
    return "add element " + family + " " + t + " " + ruleset::kLeaseSet + " " + elem + "\n" +
           "delete element " + family + " " + t + " " + ruleset::kLeaseSet + " { \"" + iface + "\" }\n" +
           "add element " + family + " " + t + " " + ruleset::kLeaseSet + " " + elem + "\n";
  };
  auto s = one("inet", cfg.node.egress.interface);
  if (cfg.mode == Mode::VirtualIp && cfg.virtualIp) s += one("arp", cfg.virtualIp->interface);
  return s;
}

std::string renderRemoveAll(const Config& cfg) {
  const auto& t = cfg.datapath.table;
  std::string s = "table inet " + t + " {}\ndelete table inet " + t + "\n";
  // Always remove a leftover arp table too (a previous run may have been in virtual-ip mode).
  s += "table arp " + t + " {}\ndelete table arp " + t + "\n";
  return s;
}

}  // namespace egw
