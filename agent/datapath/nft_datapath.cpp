#include "agent/datapath/nft_datapath.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <nftables/libnftables.h>

#include <linux/netfilter.h>
#include <linux/rtnetlink.h>

#include <cstdio>
#include <fstream>

#include "egw/log.h"
#include "agent/datapath/garp.h"

namespace egw {

namespace {

using Clock = std::chrono::steady_clock;

DatapathError fail(DatapathErrorKind k, std::string msg) { return {k, std::move(msg)}; }
DatapathError ok() { return {}; }

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Each get rewinds libnftables' buffer, so read it exactly once per command.
std::string buffer(const char* b) { return trim(b ? b : ""); }

// Per-rule counters out of `nft -j list table`: rules are identified by their comment.
Result<std::vector<RuleCounter>> parseRuleCounters(const std::string& json) {
  using R = Result<std::vector<RuleCounter>>;
  google::protobuf::Struct doc;
  if (auto st = google::protobuf::util::JsonStringToMessage(json, &doc); !st.ok())
    return R::failure("nft JSON: " + std::string(st.message()));
  std::vector<RuleCounter> out;
  auto top = doc.fields().find("nftables");
  if (top == doc.fields().end()) return R::failure("nft JSON: no \"nftables\" array");
  for (const auto& item : top->second.list_value().values()) {
    const auto& fields = item.struct_value().fields();
    auto it = fields.find("rule");
    if (it == fields.end()) continue;
    const auto& rule = it->second.struct_value().fields();
    RuleCounter c;
    if (auto cm = rule.find("comment"); cm != rule.end()) c.rule = cm->second.string_value();
    if (auto ex = rule.find("expr"); ex != rule.end()) {
      for (const auto& e : ex->second.list_value().values()) {
        const auto& f = e.struct_value().fields();
        auto ct = f.find("counter");
        if (ct == f.end()) continue;
        const auto& cf = ct->second.struct_value().fields();
        if (auto p = cf.find("packets"); p != cf.end()) c.packets = static_cast<std::uint64_t>(p->second.number_value());
        if (auto b = cf.find("bytes"); b != cf.end()) c.bytes = static_cast<std::uint64_t>(b->second.number_value());
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::optional<int> readSysctl(const std::string& path) {
  std::ifstream in(path);
  int v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

bool writeSysctl(const std::string& path, int v) {
  std::ofstream out(path);
  out << v << "\n";
  return static_cast<bool>(out.flush());
}

// Whether this node ever holds the VIP, or must remove a leftover one: candidates and nodes with
// an egress interface. Every node carries the same virtual_ip block (DESIGN: one set of keys), so
// an observer's names an interface it usually does not have; it neither needs nor touches it.
bool handlesVip(const Config& cfg) {
  return cfg.mode == Mode::VirtualIp && cfg.virtualIp && (cfg.node.candidate || !cfg.node.egress.interface.empty());
}

}  // namespace

Result<std::unique_ptr<NftDatapath>> NftDatapath::create(const Config& cfg) {
  using R = Result<std::unique_ptr<NftDatapath>>;
  if (cfg.policies.empty()) return R::failure("datapath: no policies configured");
  DesiredState probe;  // checks names and families with a role that needs nothing else
  if (auto st = checkRenderable(cfg, probe); !st.ok()) return R::failure("datapath: " + st.error());
  auto nl = Netlink::open();
  if (!nl.ok()) return R::failure(nl.error());
  if (cfg.node.candidate || !cfg.node.egress.interface.empty()) {
    auto link = (*nl)->link(cfg.node.egress.interface);
    if (!link.ok()) return R::failure("datapath: node.egress.interface: " + link.error());
    if (cfg.node.egress.ip) {
      auto has = (*nl)->hasIpv4(link->index, *cfg.node.egress.ip);
      if (!has.ok()) return R::failure(has.error());
      if (!*has)
        return R::failure("datapath: node.egress.ip: " + cfg.node.egress.ip->str() + " is not an address of " +
                          cfg.node.egress.interface);
    }
  }
  if (cfg.mode == Mode::VirtualIp && !cfg.virtualIp) return R::failure("datapath: virtual_ip is required in virtual-ip mode");
  if (handlesVip(cfg)) {
    auto link = (*nl)->link(cfg.virtualIp->interface);
    if (!link.ok()) return R::failure("datapath: virtual_ip.interface: " + link.error());
  }
  auto lease = NftLeaseSocket::open();
  if (!lease.ok()) return R::failure(lease.error());
  nft_ctx* nft = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!nft) return R::failure("datapath: nft_ctx_new failed");
  nft_ctx_buffer_output(nft);
  nft_ctx_buffer_error(nft);
  return std::unique_ptr<NftDatapath>(new NftDatapath(cfg, nft, std::move(*nl), std::move(*lease)));
}

NftDatapath::NftDatapath(Config cfg, nft_ctx* nft, std::unique_ptr<Netlink> nl, std::unique_ptr<NftLeaseSocket> lease)
    : cfg_(std::move(cfg)), nft_(nft), nl_(std::move(nl)), lease_(std::move(lease)) {}

NftDatapath::~NftDatapath() { nft_ctx_free(nft_); }

DatapathError NftDatapath::runScript(const std::string& script) {
  nft_ctx_output_set_flags(nft_, 0);
  int rc = nft_run_cmd_from_buffer(nft_, script.c_str());
  // Reading a buffer also rewinds it, so the next call starts clean.
  std::string err = buffer(nft_ctx_get_error_buffer(nft_));
  (void)nft_ctx_get_output_buffer(nft_);
  if (rc != 0) return fail(DatapathErrorKind::Kernel, "nft: " + (err.empty() ? std::string("transaction failed") : err));
  return ok();
}

Result<std::string> NftDatapath::listTableJson(const std::string& family, bool terse) {
  nft_ctx_output_set_flags(nft_, NFT_CTX_OUTPUT_JSON | (terse ? NFT_CTX_OUTPUT_TERSE : 0));
  auto cmd = "list table " + family + " " + cfg_.datapath.table;
  int rc = nft_run_cmd_from_buffer(nft_, cmd.c_str());
  nft_ctx_output_set_flags(nft_, 0);
  std::string out = buffer(nft_ctx_get_output_buffer(nft_));
  std::string err = buffer(nft_ctx_get_error_buffer(nft_));
  if (rc != 0) return Result<std::string>::failure("nft " + cmd + ": " + err);
  return out;
}

Millis NftDatapath::remainingLease() const {
  auto left = std::chrono::duration_cast<Millis>(leaseEnd_ - Clock::now());
  return left.count() > 0 ? left : Millis{0};
}

FwmarkRule NftDatapath::ourRule() const {
  return {cfg_.datapath.fwmark, cfg_.datapath.fwmark, cfg_.datapath.routeTable, kRulePriority};
}

std::optional<IpAddress> NftDatapath::egressIp() {
  if (cfg_.node.egress.ip) return cfg_.node.egress.ip;
  if (cfg_.node.egress.interface.empty()) return std::nullopt;
  auto link = nl_->link(cfg_.node.egress.interface);
  if (!link.ok()) return std::nullopt;
  auto p = nl_->primaryIpv4(link->index);
  if (!p.ok() || !*p) return std::nullopt;
  // The VIP is never the egress IP, even when it is the only address left.
  if (cfg_.virtualIp && (*p)->address() == cfg_.virtualIp->address.address()) return std::nullopt;
  return (*p)->address();
}

Result<NftDatapath::Resolved> NftDatapath::resolve(const DesiredState& state) {
  using R = Result<Resolved>;
  Resolved r;
  r.state = state;
  if (state.role == DatapathRole::Master) {
    auto link = nl_->link(cfg_.node.egress.interface);
    if (!link.ok()) return R::failure(link.error());
    if (!r.state.egressIp) r.state.egressIp = egressIp();
    if (!r.state.egressIp) return R::failure("no IPv4 address on egress interface " + cfg_.node.egress.interface);
    auto has = nl_->hasIpv4(link->index, *r.state.egressIp);
    if (!has.ok()) return R::failure(has.error());
    if (!*has) return R::failure("egress IP " + r.state.egressIp->str() + " is not on " + cfg_.node.egress.interface);
    r.routeIfindex = link->index;
    if (cfg_.node.egress.gateway) {
      r.gateway = cfg_.node.egress.gateway;
    } else {
      auto def = nl_->defaultRoute(RT_TABLE_MAIN, link->index);
      if (!def.ok()) return R::failure(def.error());
      if (!*def || !(*def)->gateway)
        return R::failure("no gateway for the master: set node.egress.gateway or add a default route via " +
                          cfg_.node.egress.interface);
      r.gateway = (*def)->gateway;
    }
  } else if (state.role == DatapathRole::Follower) {
    r.gateway = state.masterAddress;
  }
  if (auto st = checkRenderable(cfg_, r.state); !st.ok()) return R::failure(st.error());
  return r;
}

DatapathError NftDatapath::apply(const DesiredState& state) {
  wanted_ = state;
  if (state.role == DatapathRole::Master) {
    if (state.lease.count() > 0) leaseEnd_ = Clock::now() + state.lease;
  } else {
    leaseEnd_ = {};
  }
  return applyWanted();
}

// Never touches leaseEnd_: a retry must not extend a lease the election did not renew.
DatapathError NftDatapath::applyWanted() {
  auto r = resolve(*wanted_);
  DatapathError e;
  if (!r.ok()) {
    e = fail(DatapathErrorKind::InvalidInput, r.error());
  } else {
    e = applyResolved(*r);
  }
  // Log a failure once, not on every retry of the same failure.
  if (e.kind != DatapathErrorKind::None && (lastApplyOk_ || e.message != lastApplyError_))
    log::get("datapath")->error("{}: apply {} failed: {}", cfg_.node.name, roleName(wanted_->role), e.message);
  lastApplyOk_ = e.kind == DatapathErrorKind::None;
  lastApplyError_ = e.message;
  return e;
}

DatapathError NftDatapath::applyResolved(const Resolved& r) {
  auto st = r.state;
  st.lease = st.role == DatapathRole::Master ? remainingLease() : Millis{0};
  // Order: nft first (the fail-closed drop and the fence are in there), then routes, then the
  // VIP. A failed nft transaction changes nothing, so we stop before touching routes.
  // A follower switching masters renders the same table (only the route differs): skip the
  // transaction, which is most of an apply with big sets. Reconcile clears lastRuleset_ when
  // the kernel no longer matches, so a skipped apply can never hide drift for long.
  // A role change flushes and refills the chains of the table in place (atomic for packets);
  // the whole table is (re)created only when its contents in the kernel are unknown: the first
  // apply, after a failure, after reconcile found drift.
  auto text = renderRuleset(cfg_, st);
  if (text != lastRuleset_) {
    const auto script = lastRuleset_.empty() ? text : renderRoleChange(cfg_, st);
    if (auto e = runScript(script); e.kind != DatapathErrorKind::None) {
      lastRuleset_.clear();
      return e;
    }
    lastRuleset_ = std::move(text);
  }
  bool wasMaster = applied_ && applied_->state.role == DatapathRole::Master;
  applied_ = r;
  if (auto s = applyRouting(r); !s.ok()) return fail(DatapathErrorKind::Kernel, s.error());
  if (auto s = applyVip(r, !wasMaster); !s.ok()) return fail(DatapathErrorKind::Kernel, s.error());
  return ok();
}

Status NftDatapath::applyRouting(const Resolved& r) {
  if (auto s = nl_->addRule(ourRule()); !s.ok()) return s;
  if (r.gateway) return nl_->replaceDefaultRoute(cfg_.datapath.routeTable, *r.gateway, r.routeIfindex);
  return nl_->deleteDefaultRoute(cfg_.datapath.routeTable);
}

Status NftDatapath::applyVip(const Resolved& r, bool announce) {
  if (!handlesVip(cfg_)) return {};
  const auto& vip = cfg_.virtualIp->address;
  auto link = nl_->link(cfg_.virtualIp->interface);
  if (!link.ok()) return Status::failure(link.error());
  if (r.state.role != DatapathRole::Master) return nl_->deleteAddress(link->index, vip);
  auto had = nl_->hasIpv4(link->index, vip.address());
  if (!had.ok()) return Status::failure(had.error());
  if (auto s = nl_->addAddress(link->index, vip); !s.ok()) return s;
  if (!announce && *had) return {};
  if (remainingLease().count() <= 0) return {};  // no lease, no claim on the VIP
  return sendGratuitousArp(link->index, link->mac, vip.address(), kGarpPairs);
}

DatapathError NftDatapath::refreshLease(Millis lease) {
  leaseEnd_ = Clock::now() + (lease.count() > 0 ? lease : Millis{0});
  std::vector<NftLeaseSocket::Target> targets{
      {NFPROTO_INET, cfg_.datapath.table, ruleset::kLeaseSet, cfg_.node.egress.interface}};
  if (cfg_.mode == Mode::VirtualIp && cfg_.virtualIp)
    targets.push_back({NFPROTO_ARP, cfg_.datapath.table, ruleset::kLeaseSet, cfg_.virtualIp->interface});
  bool notFound = false;
  auto st = lease_->refresh(targets, lease, &notFound);
  if (!st.ok()) return fail(notFound ? DatapathErrorKind::NotFound : DatapathErrorKind::Kernel, st.error());
  return ok();
}

Result<std::vector<std::string>> NftDatapath::reconcile() {
  using R = Result<std::vector<std::string>>;
  std::vector<std::string> repaired;
  // A failed apply is retried first: its cause (an address, a route, a busy kernel) may be gone.
  // The retry never extends the lease (applyWanted renders the remaining lease).
  if (wanted_ && !lastApplyOk_) {
    auto e = applyWanted();
    if (e.kind != DatapathErrorKind::None) return repaired;  // still failing; health says why
    repaired.push_back("applied " + roleName(wanted_->role) + " after an earlier failure");
    return repaired;
  }
  if (!applied_) return repaired;
  const auto& t = cfg_.datapath.table;
  bool reapply = false;
  auto json = listTableJson("inet", true);
  if (!json.ok()) {
    repaired.push_back("table inet " + t + " was missing");
    reapply = true;
  } else {
    auto parsed = parseRuleCounters(*json);
    std::size_t rules = parsed.ok() ? parsed->size() : 0;
    auto want = expectedRuleCount(cfg_, applied_->state);
    if (rules != want) {
      repaired.push_back("table inet " + t + " had " + std::to_string(rules) + " of " + std::to_string(want) + " rules");
      reapply = true;
    }
  }
  if (cfg_.mode == Mode::VirtualIp) {
    auto arp = listTableJson("arp", true);
    auto parsed = arp.ok() ? parseRuleCounters(*arp) : Result<std::vector<RuleCounter>>::failure(arp.error());
    if (!parsed.ok() || parsed->empty()) {
      repaired.push_back("table arp " + t + " was missing or flushed");
      reapply = true;
    }
  }
  if (reapply) {
    lastRuleset_.clear();
    auto e = applyResolved(*applied_);
    lastApplyOk_ = e.kind == DatapathErrorKind::None;
    lastApplyError_ = e.message;
    if (!lastApplyOk_) return R::failure("reconcile: " + e.message);
    return repaired;
  }
  auto rule = nl_->hasRule(ourRule());
  if (!rule.ok()) return R::failure(rule.error());
  if (!*rule) {
    char mark[16];
    std::snprintf(mark, sizeof mark, "0x%x", cfg_.datapath.fwmark);
    repaired.push_back(std::string("ip rule fwmark ") + mark + " lookup " + std::to_string(cfg_.datapath.routeTable) +
                       " was missing");
  }
  auto route = nl_->defaultRoute(cfg_.datapath.routeTable);
  if (!route.ok()) return R::failure(route.error());
  bool routeOk = applied_->gateway ? (*route && (*route)->gateway == applied_->gateway) : !*route;
  if (!routeOk) repaired.push_back("default route in table " + std::to_string(cfg_.datapath.routeTable) + " differed");
  if (!*rule || !routeOk) {
    if (auto s = applyRouting(*applied_); !s.ok()) return R::failure("reconcile: " + s.error());
  }
  if (handlesVip(cfg_)) {
    auto link = nl_->link(cfg_.virtualIp->interface);
    if (link.ok()) {
      auto has = nl_->hasIpv4(link->index, cfg_.virtualIp->address.address());
      bool master = applied_->state.role == DatapathRole::Master;
      if (has.ok() && *has != master) {
        repaired.push_back(std::string("VIP ") + cfg_.virtualIp->address.str() + (master ? " was missing" : " was present on a non-master"));
        if (auto s = applyVip(*applied_, true); !s.ok()) return R::failure("reconcile: " + s.error());
      }
    }
  }
  return repaired;
}

Result<std::vector<RuleCounter>> NftDatapath::counters() {
  using R = Result<std::vector<RuleCounter>>;
  std::vector<RuleCounter> out;
  std::vector<std::string> families{"inet"};
  if (cfg_.mode == Mode::VirtualIp) families.push_back("arp");
  for (const auto& family : families) {
    auto json = listTableJson(family, true);
    if (!json.ok()) return R::failure(json.error());
    auto rules = parseRuleCounters(*json);
    if (!rules.ok()) return R::failure(rules.error());
    out.insert(out.end(), rules->begin(), rules->end());
  }
  return out;
}

std::vector<std::string> NftDatapath::hostProblems() {
  std::vector<std::string> problems;
  const std::string base = "/proc/sys/net/ipv4/";
  const bool fix = cfg_.datapath.manageSysctls;
  if (readSysctl(base + "ip_forward").value_or(0) != 1) {
    if (!(fix && writeSysctl(base + "ip_forward", 1)))
      problems.push_back("net.ipv4.ip_forward is not 1: this node cannot forward the selected traffic");
  }
  // The effective rp_filter of an interface is max(all, iface); strict (1) drops traffic whose
  // reverse path is our policy route. Loose (2) or off (0) is fine.
  std::vector<std::string> ifaces;
  if (!cfg_.node.egress.interface.empty()) ifaces.push_back(cfg_.node.egress.interface);
  if (handlesVip(cfg_) && cfg_.virtualIp->interface != cfg_.node.egress.interface) ifaces.push_back(cfg_.virtualIp->interface);
  auto all = readSysctl(base + "conf/all/rp_filter").value_or(0);
  if (all == 1) {
    if (!(fix && writeSysctl(base + "conf/all/rp_filter", 2)))
      problems.push_back("net.ipv4.conf.all.rp_filter is 1 (strict): set it to 2 (loose) or 0");
  }
  for (const auto& i : ifaces) {
    auto v = readSysctl(base + "conf/" + i + "/rp_filter");
    if (v && *v == 1 && !(fix && writeSysctl(base + "conf/" + i + "/rp_filter", 2)))
      problems.push_back("net.ipv4.conf." + i + ".rp_filter is 1 (strict): set it to 2 (loose) or 0");
  }
  return problems;
}

HealthInputs NftDatapath::health() {
  HealthInputs h;
  h.datapathApplied = lastApplyOk_ && applied_.has_value();
  h.lastApplyError = lastApplyError_;
  if (!applied_ && lastApplyOk_) h.lastApplyError = "not applied yet";
  if (!cfg_.node.egress.interface.empty()) {
    auto link = nl_->link(cfg_.node.egress.interface);
    h.egressInterfaceUp = link.ok() && link->up && link->lowerUp;
    auto ip = egressIp();
    h.egressIpPresent = false;
    if (link.ok() && ip) {
      auto has = nl_->hasIpv4(link->index, *ip);
      h.egressIpPresent = has.ok() && *has;
    }
  }
  h.hostProblems = hostProblems();
  return h;
}

DatapathError NftDatapath::removeAll() {
  DatapathError first;
  auto note = [&](DatapathError e) {
    if (e.kind != DatapathErrorKind::None && first.kind == DatapathErrorKind::None) first = std::move(e);
  };
  note(runScript(renderRemoveAll(cfg_)));
  if (auto s = nl_->deleteRule(ourRule()); !s.ok()) note(fail(DatapathErrorKind::Kernel, s.error()));
  if (auto s = nl_->deleteDefaultRoute(cfg_.datapath.routeTable); !s.ok()) note(fail(DatapathErrorKind::Kernel, s.error()));
  if (handlesVip(cfg_)) {
    if (auto link = nl_->link(cfg_.virtualIp->interface); link.ok())
      if (auto s = nl_->deleteAddress(link->index, cfg_.virtualIp->address); !s.ok()) note(fail(DatapathErrorKind::Kernel, s.error()));
  }
  applied_.reset();
  wanted_.reset();
  lastRuleset_.clear();
  leaseEnd_ = {};
  return first;
}

}  // namespace egw
