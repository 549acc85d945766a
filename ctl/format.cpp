#include "ctl/format.h"

#include <ctime>
#include <sstream>

#include "egw/allowlist.h"
#include "egw/log.h"
#include "egw/vocabulary.h"
#include "egw/wire_vocabulary.h"

namespace egw::ctl {

namespace v1 = egressgw::v1;

namespace {
// Appended, not `"\"" + ...`: that form trips GCC 12's -Wrestrict false positive at -O3 (GCC PR 105651).
std::string q(const std::string& s) {
  std::string out = "\"";
  out += log::jsonEscape(s);
  out += '"';
  return out;
}
const char* b(bool v) { return v ? "true" : "false"; }
}  // namespace

std::string roleName(v1::Role r) {
  const auto role = egw::roleFromProto(r);
  return role ? std::string(egw::roleName(*role)) : "unknown";
}

std::string candidacyName(v1::Candidacy c) {
  switch (c) {
    case v1::CANDIDACY_NONE: return "none";
    case v1::CANDIDACY_PENDING: return "pending";
    case v1::CANDIDACY_ENABLED: return "enabled";
    case v1::CANDIDACY_DISABLED: return "disabled";
    default: return "unknown";
  }
}

std::string verdictName(v1::AllowlistVerdict v) {
  switch (v) {
    case v1::ALLOWLIST_OK: return "ok";
    case v1::ALLOWLIST_UNVERIFIED: return "unverified";
    case v1::ALLOWLIST_REJECTED: return "rejected";
    default: return "unknown";
  }
}

std::string isoTime(std::int64_t ms) {
  if (ms <= 0) return "";
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

std::string statusJson(const v1::ClusterState& s) {
  std::ostringstream o;
  o << "{\"master\": " << (s.master().empty() ? std::string("null") : q(s.master())) << ", \"term\": " << s.term()
    << ", \"nodes\": [";
  for (int i = 0; i < s.nodes_size(); ++i) {
    const auto& n = s.nodes(i);
    if (i) o << ", ";
    o << "{\"name\": " << q(n.name()) << ", \"address\": " << q(n.address()) << ", \"egress_ip\": " << q(n.egress_ip())
      << ", \"role\": " << q(roleName(n.role())) << ", \"candidate\": " << b(n.candidacy() == v1::CANDIDACY_ENABLED)
      << ", \"healthy\": " << b(n.healthy()) << ", \"allowlist\": " << q(verdictName(n.allowlist()))
      << ", \"candidacy\": " << q(candidacyName(n.candidacy())) << ", \"voter\": " << b(n.voter())
      << ", \"priority\": " << n.priority() << ", \"datapath_ready\": " << b(n.datapath_ready())
      << ", \"allowlist_detail\": " << q(n.allowlist_detail()) << ", \"health_problems\": [";
    for (int k = 0; k < n.health_problems_size(); ++k) o << (k ? ", " : "") << q(n.health_problems(k));
    o << "], \"version\": " << q(n.version()) << "}";
  }
  o << "], \"served_by\": " << q(s.served_by()) << ", \"mode\": " << q(s.mode())
    << ", \"virtual_ip\": " << (s.virtual_ip().empty() ? std::string("null") : q(s.virtual_ip()))
    << ", \"master_since\": " << (s.master_since_ms() > 0 ? q(isoTime(s.master_since_ms())) : std::string("null"))
    << ", \"lease_ms\": " << s.lease_ms() << ", \"lease_refresh_ms\": " << s.lease_refresh_ms()
    << ", \"drift_margin_ms\": " << s.drift_margin_ms() << ", \"last_failover_gap_ms\": " << s.last_failover_gap_ms()
    << ", \"protocol\": " << s.protocol() << ", \"partial\": " << b(s.partial()) << ", \"voters\": [";
  for (int i = 0; i < s.voters_size(); ++i) o << (i ? ", " : "") << q(s.voters(i));
  o << "]}\n";
  return o.str();
}

std::string statusTable(const v1::ClusterState& s) {
  std::ostringstream o;
  o << "master: " << (s.master().empty() ? std::string("(none)") : s.master()) << "  term: " << s.term();
  if (s.master_since_ms() > 0) o << "  since: " << isoTime(s.master_since_ms());
  if (s.last_failover_gap_ms() > 0) o << "  last failover gap: " << s.last_failover_gap_ms() << " ms";
  o << "  (served by " << s.served_by() << ")\n";
  if (s.partial()) o << egw::partialViewNotice(s.served_by(), {s.voters().begin(), s.voters().end()}) << '\n';
  if (s.lease_ms() > 0)
    o << "lease: " << s.lease_ms() << " ms, refreshed every " << s.lease_refresh_ms() << " ms, drift margin "
      << s.drift_margin_ms() << " ms (the kernel fences a master whose lease was not renewed)\n";
  std::vector<std::vector<std::string>> rows{{"NAME", "ADDRESS", "EGRESS IP", "ROLE", "CANDIDACY", "HEALTHY", "ALLOWLIST"}};
  for (const auto& n : s.nodes()) {
    std::string health = n.healthy() ? "yes" : "no";
    if (!n.healthy() && n.health_problems_size() > 0) health += " (" + n.health_problems(0) + ")";
    rows.push_back({n.name(), n.address(), n.egress_ip().empty() ? "-" : n.egress_ip(), roleName(n.role()),
                    candidacyName(n.candidacy()), health, verdictName(n.allowlist())});
  }
  std::vector<std::size_t> w(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(w[i] - r[i].size() + 2, ' ');
    }
    o << line << '\n';
  }
  return o.str();
}

std::string eventJson(const v1::Event& e, std::uint64_t cursor) {
  std::ostringstream o;
  o << "{\"cursor\": " << cursor << ", \"origin\": " << q(e.origin()) << ", \"seq\": " << e.seq()
    << ", \"time\": " << q(isoTime(e.time_ms())) << ", \"time_ms\": " << e.time_ms() << ", \"kind\": " << q(e.kind())
    << ", \"node\": " << q(e.node()) << ", \"term\": " << e.term() << ", \"message\": " << q(e.message())
    << ", \"gap_ms\": " << e.gap_ms() << "}";
  return o.str();
}

std::string eventLine(const v1::Event& e, std::uint64_t cursor) {
  std::ostringstream o;
  o << isoTime(e.time_ms()) << "  #" << cursor << "  " << e.kind() << "  " << (e.node().empty() ? "-" : e.node())
    << "  term " << e.term();
  const auto kind = egw::eventKindOf(e);
  if (e.gap_ms() >= 0 && (kind == EventKind::DatapathSwitched || kind == EventKind::MasterElected))
    o << "  gap " << e.gap_ms() << " ms";
  if (!e.message().empty()) o << "  " << e.message();
  o << "  [" << e.origin() << "/" << e.seq() << "]";
  return o.str();
}

std::vector<AllowlistRow> allowlistRows(const v1::ClusterState& s, const std::map<std::string, std::int64_t>& firstSeen) {
  std::vector<AllowlistRow> rows;
  auto seen = [&](const std::string& ip) {
    for (const auto& r : rows)
      if (r.ip == ip) return true;
    return false;
  };
  for (const auto& n : s.nodes()) {
    auto c = n.candidacy();
    if (c != v1::CANDIDACY_PENDING && c != v1::CANDIDACY_ENABLED && c != v1::CANDIDACY_DISABLED) continue;
    if (n.egress_ip().empty() || seen(n.egress_ip())) continue;
    auto fs = firstSeen.find(n.name());
    rows.push_back({n.egress_ip(), n.name(), n.name() == s.master() ? "master" : "standby", candidacyName(c),
                    fs == firstSeen.end() ? std::string() : isoTime(fs->second)});
  }
  if (s.mode() == "virtual-ip" && !s.virtual_ip().empty()) {
    std::string vip = s.virtual_ip().substr(0, s.virtual_ip().find('/'));
    if (!seen(vip)) rows.push_back({vip, s.master(), "vip", s.master().empty() ? "idle" : "active", ""});
  }
  return rows;
}

std::string csvField(const std::string& f) { return egw::csv::field(f); }

std::string allowlistCsv(const std::vector<AllowlistRow>& rows) {
  std::string out = egw::csv::row({"ip", "node", "role", "state", "first_seen"});
  for (const auto& r : rows) out += egw::csv::row({r.ip, r.node, r.role, r.state, r.firstSeen});
  return out;
}

std::string allowlistTxt(const std::vector<AllowlistRow>& rows, const std::string& servedBy) {
  std::string out = "# egress gateway source IPs (every egress node and the VIP), from " + servedBy + "\n";
  for (const auto& r : rows) out += "# " + r.ip + ": " + r.node + " " + r.role + " " + r.state + "\n";
  for (const auto& r : rows) out += r.ip + "\n";
  return out;
}

std::string allowlistJson(const std::vector<AllowlistRow>& rows) {
  std::string out = "[";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    out += (i ? ",\n " : "") + std::string("{\"ip\": ") + q(r.ip) + ", \"node\": " + q(r.node) + ", \"role\": " +
           q(r.role) + ", \"state\": " + q(r.state) + ", \"first_seen\": " + (r.firstSeen.empty() ? "null" : q(r.firstSeen)) + "}";
  }
  return out + "]\n";
}

egw::DriftInput driftInput(const v1::ClusterState& s) {
  egw::DriftInput in;
  for (const auto& n : s.nodes()) {
    egw::DriftNode d;
    d.name = n.name();
    d.egressIp = n.egress_ip();
    switch (n.candidacy()) {
      case v1::CANDIDACY_PENDING: d.candidacy = egw::NodeCandidacy::Pending; break;
      case v1::CANDIDACY_ENABLED: d.candidacy = egw::NodeCandidacy::Enabled; break;
      case v1::CANDIDACY_DISABLED: d.candidacy = egw::NodeCandidacy::Disabled; break;
      default: d.candidacy = egw::NodeCandidacy::None; break;
    }
    d.master = !s.master().empty() && n.name() == s.master();
    switch (n.allowlist()) {
      case v1::ALLOWLIST_OK: d.verdict = egw::AllowlistVerdict::Ok; break;
      case v1::ALLOWLIST_UNVERIFIED: d.verdict = egw::AllowlistVerdict::Unverified; break;
      case v1::ALLOWLIST_REJECTED: d.verdict = egw::AllowlistVerdict::Rejected; break;
      default: d.verdict = egw::AllowlistVerdict::Unknown; break;
    }
    d.verdictDetail = n.allowlist_detail();
    in.nodes.push_back(std::move(d));
  }
  if (s.mode() == "virtual-ip" && !s.virtual_ip().empty()) in.vip = s.virtual_ip();
  return in;
}

std::string driftTable(const egw::DriftReport& r) {
  std::vector<std::vector<std::string>> rows{{"IP", "NODE", "STATE", "REASON"}};
  for (const auto& d : r.rows)
    rows.push_back({d.ip.empty() ? "-" : d.ip, d.node.empty() ? "-" : d.node, std::string(egw::driftStateName(d.state)), d.reason});
  std::vector<std::size_t> w(4, 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < 3; ++i) w[i] = std::max(w[i], row[i].size());
  std::string out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < 3; ++i) out += row[i] + std::string(w[i] - row[i].size() + 2, ' ');
    out += row[3] + "\n";
  }
  return out + r.summary() + "\n";
}

std::string driftJson(const egw::DriftReport& r, const egw::Allowlist& list, const std::string& file) {
  std::ostringstream o;
  auto notes = [&](const std::vector<egw::LineNote>& v) {
    o << "[";
    for (std::size_t i = 0; i < v.size(); ++i)
      o << (i ? ", " : "") << "{\"line\": " << v[i].line << ", \"message\": " << q(v[i].message) << "}";
    o << "]";
  };
  o << "{\"clean\": " << b(r.clean()) << ", \"summary\": " << q(r.summary()) << ", \"allowlist\": {\"file\": " << q(file)
    << ", \"format\": " << q(std::string(egw::formatName(list.format))) << ", \"entries\": " << list.entries.size()
    << ", \"warnings\": ";
  notes(list.warnings);
  o << ", \"skipped\": ";
  notes(list.skipped);
  o << "}, \"rows\": [";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& d = r.rows[i];
    o << (i ? ",\n " : "") << "{\"ip\": " << q(d.ip) << ", \"node\": " << (d.node.empty() ? std::string("null") : q(d.node))
      << ", \"state\": " << q(std::string(egw::driftStateName(d.state))) << ", \"reason\": " << q(d.reason)
      << ", \"line\": " << (d.line > 0 ? std::to_string(d.line) : std::string("null")) << "}";
  }
  o << "]}\n";
  return o.str();
}

}  // namespace egw::ctl
