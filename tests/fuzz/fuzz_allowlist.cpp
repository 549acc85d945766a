// Fuzz target: the allowlist reader (egw::parseAllowlist, CSV and text) and the RFC 4180 helpers.
// The first byte picks the options (format, skipBadRows), the rest is the file.
// Invariants: never crashes; an accepted allowlist lists each network once, every entry is found
// by its own address, and the entries written back as text and as CSV read back identically;
// csv::row -> csv::parse returns exactly the fields written (fields taken from the input).
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "egw/allowlist.h"
#include "fuzz_check.h"
#include "fuzz_input.h"

namespace {

std::vector<std::string> networks(const egw::Allowlist& a) {
  std::vector<std::string> v;
  for (const auto& e : a.entries) v.push_back(e.cidr.str());
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x + ' ';
  return s;
}

void checkAccepted(const egw::Allowlist& a) {
  EGW_FUZZ_CHECK(a.format != egw::AllowlistFormat::Auto, "format not resolved");
  std::set<egw::Cidr> seen;
  for (const auto& e : a.entries) {
    EGW_FUZZ_CHECK(seen.insert(e.cidr).second, "network listed twice: " + e.cidr.str());
    EGW_FUZZ_CHECK(e.line >= 1, "entry without a line: " + e.cidr.str());
    EGW_FUZZ_CHECK(e.cidr.network() == e.cidr, "entry with host bits: " + e.cidr.str());
    EGW_FUZZ_CHECK(a.find(e.cidr.address()) != nullptr, "entry not found by its address: " + e.cidr.str());
  }
  // Written back as text, one network a line: the same networks in the same order.
  std::string text;
  for (const auto& e : a.entries) text += e.str() + "\n";
  egw::AllowlistOptions to;
  to.format = egw::AllowlistFormat::Text;
  const auto t = egw::parseAllowlist(text, to);
  EGW_FUZZ_CHECK(t.ok(), "own text output rejected: " + (t.ok() ? std::string() : t.error()));
  EGW_FUZZ_CHECK(networks(*t) == networks(a), "text round trip: " + join(networks(*t)) + "vs " + join(networks(a)));
  // And as CSV with a header.
  std::string csv = egw::csv::row({"ip", "note"});
  for (const auto& e : a.entries) csv += egw::csv::row({e.str(), e.comment});
  egw::AllowlistOptions co;
  co.format = egw::AllowlistFormat::Csv;
  const auto c = egw::parseAllowlist(csv, co);
  EGW_FUZZ_CHECK(c.ok(), "own CSV output rejected: " + (c.ok() ? std::string() : c.error()));
  EGW_FUZZ_CHECK(networks(*c) == networks(a), "CSV round trip: " + join(networks(*c)) + "vs " + join(networks(a)));
}

// Rows of fields cut from the input at 0x00 (field) and 0x01 (row) bytes.
void checkCsvRoundTrip(std::string_view bytes) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  for (char ch : bytes) {
    if (ch == '\0') rows.back().emplace_back();
    else if (ch == '\1') rows.emplace_back(1);
    else rows.back().back() += ch;
  }
  std::string text;
  for (const auto& r : rows) text += egw::csv::row(r);
  const auto parsed = egw::csv::parse(text);
  EGW_FUZZ_CHECK(parsed.ok(), "csv::parse rejects csv::row output: " + (parsed.ok() ? std::string() : parsed.error()));
  EGW_FUZZ_CHECK(parsed->size() == rows.size(),
                 "csv round trip: " + std::to_string(rows.size()) + " rows written, " + std::to_string(parsed->size()) + " read");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EGW_FUZZ_CHECK((*parsed)[i].error.empty(), "csv round trip: row " + std::to_string(i) + ": " + (*parsed)[i].error);
    EGW_FUZZ_CHECK((*parsed)[i].fields == rows[i], "csv round trip: row " + std::to_string(i) + " differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  egw::fuzz::Input in(data, size);
  const std::uint8_t opts = in.byte();
  const std::string_view text = in.rest();
  egw::AllowlistOptions o;
  o.format = static_cast<egw::AllowlistFormat>(opts % 3);
  o.skipBadRows = (opts >> 2) & 1;
  if ((opts >> 3) & 1) o.source = "fuzz.csv";
  const auto r = egw::parseAllowlist(text, o);
  if (r.ok()) {
    checkAccepted(*r);
  } else {
    EGW_FUZZ_CHECK(!r.error().empty(), "failure without an error message");
  }
  (void)egw::csv::parse(text);
  checkCsvRoundTrip(text);
  return 0;
}
