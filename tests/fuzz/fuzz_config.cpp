// Fuzz target: the agent config loader (egw::parseConfig) on arbitrary text.
// Invariants: never crashes or throws; the same text gives the same verdict; every error line is
// "FILE:LINE: ..." ; an accepted config satisfies what the agent relies on without re-checking
// (a valid node name, an odd voter set of at most 7 distinct names, heartbeat >= 5ms,
// election_timeout >= 3 x heartbeat, 0 < lease < election_timeout, priority 0..1000), and its
// durations survive formatDuration -> parseDuration.
#include <cctype>
#include <cstdint>
#include <set>
#include <string>

#include "egw/config.h"
#include "fuzz_check.h"

namespace {

bool validName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char ch : s)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'))
      return false;
  return s.front() != '-' && s.back() != '-';
}

void checkDuration(egw::Millis d, const char* what) {
  const auto back = egw::parseDuration(egw::formatDuration(d));
  EGW_FUZZ_CHECK(back && *back == d, std::string(what) + " does not survive formatDuration: " + egw::formatDuration(d));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto r = egw::parseConfig(text, "fuzz.yaml");
  const auto again = egw::parseConfig(text, "fuzz.yaml");
  EGW_FUZZ_CHECK(r.ok() == again.ok(), "parseConfig is not deterministic");
  if (!r.ok()) {
    EGW_FUZZ_CHECK(r.error() == again.error(), "different errors for the same text");
    EGW_FUZZ_CHECK(!r.error().empty(), "failure without an error message");
    std::size_t start = 0;
    while (start <= r.error().size()) {
      const auto end = r.error().find('\n', start);
      const std::string line = r.error().substr(start, end == std::string::npos ? std::string::npos : end - start);
      std::size_t i = sizeof("fuzz.yaml:") - 1;
      EGW_FUZZ_CHECK(line.rfind("fuzz.yaml:", 0) == 0, "error line without the file name: " + line);
      std::size_t digits = 0;
      while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i, ++digits;
      EGW_FUZZ_CHECK(digits > 0 && i < line.size() && line[i] == ':', "error line without a line number: " + line);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return 0;
  }
  const egw::Config& c = *r;
  EGW_FUZZ_CHECK(validName(c.node.name), "accepted node name '" + c.node.name + "'");
  EGW_FUZZ_CHECK(c.node.priority >= 0 && c.node.priority <= 1000, "priority " + std::to_string(c.node.priority));
  EGW_FUZZ_CHECK(c.voters.size() % 2 == 1 && c.voters.size() <= 7, "voters: " + std::to_string(c.voters.size()));
  std::set<std::string> names;
  for (const auto& v : c.voters) {
    EGW_FUZZ_CHECK(validName(v.name), "accepted voter name '" + v.name + "'");
    EGW_FUZZ_CHECK(names.insert(v.name).second, "duplicate voter " + v.name);
  }
  const auto& e = c.election;
  EGW_FUZZ_CHECK(e.heartbeatInterval.count() >= 5, "heartbeat " + egw::formatDuration(e.heartbeatInterval));
  EGW_FUZZ_CHECK(e.electionTimeout >= 3 * e.heartbeatInterval, "election_timeout < 3 x heartbeat");
  EGW_FUZZ_CHECK(e.lease().count() > 0 && e.lease() < e.electionTimeout, "lease " + egw::formatDuration(e.lease()));
  checkDuration(e.heartbeatInterval, "heartbeat_interval");
  checkDuration(e.electionTimeout, "election_timeout");
  checkDuration(c.probe.interval, "allowlist.probe.interval");
  checkDuration(c.probe.timeout, "allowlist.probe.timeout");
  EGW_FUZZ_CHECK(!c.stateDir.empty(), "empty state_dir accepted");
  return 0;
}
