#pragma once
// The operator's copy of the external service's allowlist: the source IPs/CIDRs the service
// accepts, imported from CSV (RFC 4180) or plain text (one IP or CIDR a line, '#' comments).
// Pure: no I/O except loadAllowlist(), which only reads the file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "egw/ip.h"
#include "egw/result.h"

namespace egw {

// What the allowlist probe says about one source IP (mirrors egressgw.v1.AllowlistVerdict).
enum class AllowlistVerdict : std::uint8_t {
  Unknown,     // never probed
  Ok,          // the external service accepted a TCP connect from the IP
  Unverified,  // the probe failed without a clear refusal (timeout, unreachable, local error)
  Rejected,    // the external service refused (TCP reset)
};
std::string_view verdictName(AllowlistVerdict v);  // "unknown" | "ok" | "unverified" | "rejected"

enum class AllowlistFormat : std::uint8_t { Auto, Csv, Text };
std::string_view formatName(AllowlistFormat f);  // "auto" | "csv" | "text"

// A remark about one line of the input: a skipped bad row or a warning (duplicate...).
struct LineNote {
  int line = 0;  // 1-based physical line where the row starts
  std::string message;
  std::string str() const { return "line " + std::to_string(line) + ": " + message; }
  bool operator==(const LineNote&) const = default;
};

struct AllowlistEntry {
  Cidr cidr;            // a host address is a /32 or /128
  int line = 0;         // where it was read
  std::string comment;  // text: the '#' comment after it; CSV: the row's other non-empty cells, ", "-joined
  bool isHost() const { return cidr.prefix() == cidr.address().bits(); }
  std::string str() const { return isHost() ? cidr.address().str() : cidr.str(); }  // "10.0.0.1", "10.0.0.0/24"
};

struct Allowlist {
  std::vector<AllowlistEntry> entries;  // in file order, each network once
  std::vector<LineNote> warnings;       // duplicates, entries inside another entry, no IP column named...
  std::vector<LineNote> skipped;        // bad rows left out (only with skipBadRows)
  AllowlistFormat format = AllowlistFormat::Text;  // the format actually read
  bool hasHeader = false;               // CSV: the first row was a header
  std::string ipColumn;                 // CSV with a header: the name of the column read

  bool contains(const IpAddress& ip) const { return find(ip) != nullptr; }
  // The most specific entry covering ip (a host entry before a /24 containing it), or nullptr.
  const AllowlistEntry* find(const IpAddress& ip) const;
};

struct AllowlistOptions {
  AllowlistFormat format = AllowlistFormat::Auto;
  // false: any bad row fails the whole import (nothing imported). true: bad rows are left out and
  // listed in Allowlist::skipped. Structural errors (an unterminated quote, a binary file) fail
  // either way, since the rows after them cannot be trusted.
  bool skipBadRows = false;
  std::string source;  // file name for messages: "allow.csv: line 7: ..."; empty: "line 7: ..."
};

// Auto format: CSV when the first content line has a ',' or '"' or is a bare column name
// ("ip", "address", "cidr"...); text otherwise.
// CSV: RFC 4180 (quoted fields, "" escapes, newlines inside quotes, CRLF or LF), a UTF-8 BOM is
// ignored, lines starting with '#' and empty lines are skipped. The first row is a header when
// none of its cells is or looks like an address; the IP column is the first one named ip,
// address, cidr (or ip_address, ip address, network, subnet, prefix), else the first column.
// Text: one IP or CIDR a line, optional "# comment" after it, blank lines and '#' lines skipped.
// Errors: one line per bad row, "<source>: line N: what is wrong", all of them, in file order.
Result<Allowlist> parseAllowlist(std::string_view text, const AllowlistOptions& options = {});

// The whole file ("-" is stdin); "cannot read PATH: <errno text>" on failure (a directory too).
Result<std::string> readAllowlistFile(const std::string& path);
// readAllowlistFile + parseAllowlist; options.source defaults to the path ("<stdin>" for "-").
Result<Allowlist> loadAllowlist(const std::string& path, AllowlistOptions options = {});

// RFC 4180 helpers, shared by the allowlist reader and every CSV writer (egressctl, console).
namespace csv {

// The field as written: quoted (with "" for ") only when it holds , " CR or LF, or starts or ends
// with a space (so a reader that trims keeps it).
std::string field(std::string_view f);
// One record: fields joined by ',' and terminated by CRLF.
std::string row(const std::vector<std::string>& fields);

struct Record {
  int line = 0;                     // physical line where the record starts
  std::vector<std::string> fields;  // unquoted
  std::string error;                // non-empty: the record's quoting is malformed (fields best effort)
};
// Splits text (BOM already removed) into records. Fails only on an unterminated quoted field,
// naming the line where it opened. An empty line is a record with one empty field.
Result<std::vector<Record>> parse(std::string_view text);

}  // namespace csv

}  // namespace egw
