#include "egw/drift.h"

#include <algorithm>
#include <map>

namespace egw {

std::string_view driftStateName(DriftState s) {
  switch (s) {
    case DriftState::Ok: return "ok";
    case DriftState::Missing: return "missing";
    case DriftState::Stale: return "stale";
    case DriftState::Unverified: return "unverified";
    case DriftState::Rejected: return "rejected";
  }
  return "unknown";
}

std::size_t DriftReport::count(DriftState s) const {
  return static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), [s](const DriftRow& r) { return r.state == s; }));
}

bool DriftReport::clean() const { return count(DriftState::Ok) == rows.size(); }

std::string DriftReport::summary() const {
  const std::string of = std::to_string(rows.size()) + (rows.size() == 1 ? " address" : " addresses");
  if (clean()) return "clean: " + of + " on the allowlist and accepted by the probe";
  std::string out;
  for (auto s : {DriftState::Missing, DriftState::Rejected, DriftState::Unverified, DriftState::Stale}) {
    if (auto n = count(s)) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(driftStateName(s));
  }
  return "drift: " + out + " (of " + of + ")";
}

namespace {

std::optional<IpAddress> parseIp(std::string_view text) { return IpAddress::parse(text.substr(0, text.find('/'))); }

std::string where(const AllowlistEntry& e) {
  std::string s = "line " + std::to_string(e.line);
  if (!e.isHost()) s += ", " + e.cidr.str();
  return s;
}

std::string listSays(const AllowlistEntry& e) { return e.comment.empty() ? "" : " (the list says: " + e.comment + ")"; }

std::string probeWords(const DriftNode& n) { return n.verdictDetail.empty() ? "" : ": " + n.verdictDetail; }

DriftRow nodeRow(const DriftNode& n, const IpAddress& ip, const Allowlist& list) {
  DriftRow r{ip.str(), n.name, DriftState::Ok, {}, 0};
  const AllowlistEntry* e = list.find(ip);
  if (e) {
    r.line = e->line;
    const std::string on = "on the list (" + where(*e) + ")";
    switch (n.verdict) {
      case AllowlistVerdict::Ok:
        r.reason = on + " and the probe from it is accepted";
        break;
      case AllowlistVerdict::Rejected:
        r.state = DriftState::Rejected;
        r.reason = on + ", but the external service refuses it" + probeWords(n);
        break;
      case AllowlistVerdict::Unverified:
        r.state = DriftState::Unverified;
        r.reason = on + ", but the probe failed" + probeWords(n);
        break;
      case AllowlistVerdict::Unknown:
        r.state = DriftState::Unverified;
        r.reason = on + "; not probed yet" + (n.verdictDetail.empty() ? "" : " (" + n.verdictDetail + ")");
        break;
    }
    return r;
  }
  r.state = DriftState::Missing;
  r.reason = n.master ? "not on the list, and " + n.name + " is the master: its traffic is refused now"
                      : "not on the list: traffic would be black-holed if " + n.name + " became master";
  if (n.candidacy == NodeCandidacy::Pending) r.reason += " (candidacy pending)";
  if (n.candidacy == NodeCandidacy::Disabled) r.reason += " (candidacy disabled)";
  if (n.verdict == AllowlistVerdict::Ok) r.reason += "; the probe is accepted, so the file may be out of date";
  if (n.verdict == AllowlistVerdict::Rejected) r.reason += "; the probe confirms the refusal";
  return r;
}

}  // namespace

DriftReport computeDrift(const Allowlist& list, const DriftInput& cluster) {
  DriftReport rep;
  std::map<IpAddress, std::size_t> rowOf;  // one row per address
  std::vector<IpAddress> expected;         // egress IPs and the VIP: what keeps an entry from being stale
  std::map<IpAddress, std::string> others; // addresses of nodes that are not egress nodes

  for (const auto& n : cluster.nodes) {
    auto ip = parseIp(n.egressIp);
    if (n.candidacy == NodeCandidacy::None) {
      if (ip) others.emplace(*ip, n.name);
      continue;
    }
    if (n.egressIp.empty() || !ip) {
      rep.rows.push_back({n.egressIp, n.name, DriftState::Unverified,
                          n.egressIp.empty() ? n.name + " reports no egress IP (egress interface down or without an address?)"
                                             : n.name + " reports egress IP '" + n.egressIp + "', which is not an address",
                          0});
      continue;
    }
    expected.push_back(*ip);
    if (auto it = rowOf.find(*ip); it != rowOf.end()) {
      auto& row = rep.rows[it->second];
      row.node += ", " + n.name;
      row.reason += "; also the egress IP of " + n.name;
      continue;
    }
    rowOf.emplace(*ip, rep.rows.size());
    rep.rows.push_back(nodeRow(n, *ip, list));
  }

  if (cluster.vip && !cluster.vip->empty()) {
    auto ip = parseIp(*cluster.vip);
    if (!ip) {
      rep.rows.push_back({*cluster.vip, "vip", DriftState::Unverified, "the virtual IP '" + *cluster.vip + "' is not an address", 0});
    } else if (!rowOf.count(*ip)) {
      expected.push_back(*ip);
      DriftRow r{ip->str(), "vip", DriftState::Ok, {}, 0};
      if (const auto* e = list.find(*ip)) {
        r.line = e->line;
        r.reason = "the virtual IP, on the list (" + where(*e) + "); it moves with the master and is not probed separately";
      } else {
        r.state = DriftState::Missing;
        r.reason = "the virtual IP is not on the list: every master's traffic leaves with it and is black-holed";
      }
      rep.rows.push_back(std::move(r));
    }
  }

  for (const auto& e : list.entries) {
    bool covers = std::any_of(expected.begin(), expected.end(), [&](const IpAddress& ip) { return e.cidr.contains(ip); });
    if (covers) continue;
    DriftRow r{e.str(), "", DriftState::Stale, {}, e.line};
    auto other = e.isHost() ? others.find(e.cidr.address()) : others.end();
    if (other != others.end())
      r.reason = "on the list (line " + std::to_string(e.line) + "), but " + other->second + " is not an egress node";
    else if (e.isHost())
      r.reason = "on the list (line " + std::to_string(e.line) + ") but no node's egress IP any more: someone else may get this address";
    else
      r.reason = "on the list (line " + std::to_string(e.line) + ") but covers no node's egress IP";
    r.reason += listSays(e);
    rep.rows.push_back(std::move(r));
  }
  return rep;
}

}  // namespace egw
