#include "egw/allowlist.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

#include <map>

#include "read_all.h"

namespace egw {

std::string_view verdictName(AllowlistVerdict v) {
  switch (v) {
    case AllowlistVerdict::Ok: return "ok";
    case AllowlistVerdict::Unverified: return "unverified";
    case AllowlistVerdict::Rejected: return "rejected";
    case AllowlistVerdict::Unknown: break;
  }
  return "unknown";
}

std::string_view formatName(AllowlistFormat f) {
  switch (f) {
    case AllowlistFormat::Csv: return "csv";
    case AllowlistFormat::Text: return "text";
    case AllowlistFormat::Auto: break;
  }
  return "auto";
}

const AllowlistEntry* Allowlist::find(const IpAddress& ip) const {
  const AllowlistEntry* best = nullptr;
  for (const auto& e : entries)
    if (e.cidr.contains(ip) && (!best || e.cidr.prefix() > best->cidr.prefix())) best = &e;
  return best;
}

// ---------------------------------------------------------------------------------------------
namespace csv {

std::string field(std::string_view f) {
  bool quote = f.find_first_of(",\"\r\n") != std::string_view::npos ||
               (!f.empty() && (f.front() == ' ' || f.back() == ' '));
  if (!quote) return std::string(f);
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string row(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += field(fields[i]);
  }
  return out + "\r\n";
}

Result<std::vector<Record>> parse(std::string_view t) {
  std::vector<Record> out;
  std::size_t i = 0;
  int line = 1;
  const std::size_t n = t.size();
  while (i < n) {
    Record r;
    r.line = line;
    bool endOfRecord = false;
    while (!endOfRecord) {
      std::string cur;
      const std::size_t fieldNo = r.fields.size() + 1;
      if (i < n && t[i] == '"') {
        const int opened = line;
        ++i;
        for (;;) {
          if (i >= n)
            return Error{"line " + std::to_string(opened) + ": unterminated quoted field (the quote opened here never closes)"};
          char c = t[i];
          if (c == '"') {
            if (i + 1 < n && t[i + 1] == '"') {
              cur += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          cur += c;
          ++i;
        }
        if (i < n && t[i] != ',' && t[i] != '\r' && t[i] != '\n') {
          if (r.error.empty())
            r.error = "text after the closing quote of field " + std::to_string(fieldNo) + " (double a quote inside a quoted field: \"\")";
          while (i < n && t[i] != ',' && t[i] != '\r' && t[i] != '\n') cur += t[i++];
        }
      } else {
        while (i < n && t[i] != ',' && t[i] != '\r' && t[i] != '\n') {
          if (t[i] == '"' && r.error.empty())
            r.error = "a quote inside unquoted field " + std::to_string(fieldNo) +
                      " (quote the whole field and double the quote: \"\")";
          cur += t[i++];
        }
      }
      r.fields.push_back(std::move(cur));
      if (i < n && t[i] == ',') {
        ++i;
        continue;
      }
      // End of line or of input.
      if (i < n && t[i] == '\r') ++i;
      if (i < n && t[i] == '\n') ++i;
      ++line;
      endOfRecord = true;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace csv

// ---------------------------------------------------------------------------------------------
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A value for a message: quoted, shortened, control characters made visible.
std::string shown(std::string_view s) {
  std::string out = "'";
  for (std::size_t i = 0; i < s.size() && i < 60; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20) out += '?';
    else out += static_cast<char>(c);
  }
  if (s.size() > 60) out += "...";
  return out + "'";
}

bool isIpColumnName(std::string_view cell) {
  static const char* const kNames[] = {"ip",     "address", "cidr",   "ip_address", "ip address", "ipaddress",
                                       "network", "subnet", "prefix", "source_ip",  "source ip"};
  const std::string l = lower(trim(cell));
  return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return l == n; });
}

// Looks like someone meant an address ("10.0.0.300", "2001:db8::g"): then a first row holding it
// is a bad data row, not a header.
bool looksLikeAddress(std::string_view cell) {
  cell = trim(cell);
  if (cell.empty()) return false;
  bool digit = false, sep = false;
  for (char c : cell) {
    if (std::isdigit(static_cast<unsigned char>(c))) digit = true;
    else if (c == '.' || c == ':') sep = true;
    else if (!std::isxdigit(static_cast<unsigned char>(c)) && c != '/') return false;
  }
  return digit && sep;
}

struct Parsed {
  std::optional<Cidr> cidr;
  std::string error;
};

Parsed parseCell(std::string_view cell) {
  if (cell.empty()) return {std::nullopt, "empty address"};
  if (auto c = Cidr::parse(cell)) return {c, {}};
  if (auto c = Cidr::parse(cell, true))
    return {std::nullopt, shown(cell) + " has host bits set (the network is " + c->network().str() + ")"};
  return {std::nullopt, shown(cell) + " is not an IP address or CIDR"};
}

AllowlistFormat detect(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    std::string_view content = t.substr(0, t.find('#'));
    if (content.find(',') != std::string_view::npos || content.find('"') != std::string_view::npos) return AllowlistFormat::Csv;
    return isIpColumnName(content) ? AllowlistFormat::Csv : AllowlistFormat::Text;
  }
  return AllowlistFormat::Text;
}

class Builder {
 public:
  explicit Builder(Allowlist& a) : a_(a) {}

  void add(Cidr c, int line, std::string comment) {
    auto text = [](const Cidr& x) { return AllowlistEntry{x, 0, {}}.str(); };
    if (auto it = seen_.find(c); it != seen_.end()) {
      a_.warnings.push_back({line, shown(text(c)) + " duplicates line " + std::to_string(it->second) + " (kept once)"});
      return;
    }
    for (int p = c.prefix() - 1; p >= 0; --p) {
      if (auto it = seen_.find(Cidr(c.address(), p).network()); it != seen_.end()) {
        a_.warnings.push_back({line, shown(text(c)) + " is already covered by " + text(it->first) + " (line " +
                                         std::to_string(it->second) + ")"});
        break;
      }
    }
    seen_.emplace(c, line);
    a_.entries.push_back({c, line, std::move(comment)});
  }
  void bad(int line, std::string message) { bad_.push_back({line, std::move(message)}); }
  std::vector<LineNote>& badRows() { return bad_; }

 private:
  Allowlist& a_;
  std::map<Cidr, int> seen_;
  std::vector<LineNote> bad_;
};

void readText(std::string_view text, Builder& b) {
  std::size_t pos = 0;
  int line = 0;
  while (pos < text.size()) {
    ++line;
    std::size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view content = raw, comment;
    if (auto hash = raw.find('#'); hash != std::string_view::npos) {
      content = raw.substr(0, hash);
      comment = trim(raw.substr(hash + 1));
    }
    content = trim(content);
    if (content.empty()) continue;
    if (content.find_first_of(" \t,;") != std::string_view::npos) {
      b.bad(line, "expected one IP address or CIDR per line, got " + shown(content));
      continue;
    }
    auto p = parseCell(content);
    if (!p.cidr) b.bad(line, p.error);
    else b.add(*p.cidr, line, std::string(comment));
  }
}

Status readCsv(std::string_view text, Allowlist& a, Builder& b) {
  auto records = csv::parse(text);
  if (!records.ok()) return Status::failure(records.error());
  std::size_t ipCol = 0;
  std::string ipName = "ip";
  bool first = true;
  for (const auto& r : *records) {
    const bool blank = std::all_of(r.fields.begin(), r.fields.end(), [](const std::string& f) { return trim(f).empty(); });
    if (blank || (!r.fields.empty() && !trim(r.fields[0]).empty() && trim(r.fields[0]).front() == '#')) continue;
    if (first) {
      first = false;
      const bool header = r.error.empty() && std::none_of(r.fields.begin(), r.fields.end(), [](const std::string& f) {
        return Cidr::parse(trim(f), true).has_value() || looksLikeAddress(f);
      });
      if (header) {
        a.hasHeader = true;
        auto named = std::find_if(r.fields.begin(), r.fields.end(), [](const std::string& f) { return isIpColumnName(f); });
        if (named != r.fields.end()) {
          ipCol = static_cast<std::size_t>(named - r.fields.begin());
        } else {
          a.warnings.push_back({r.line, "no column is named ip, address or cidr; reading the first column, " +
                                            shown(trim(r.fields[0]))});
        }
        ipName = std::string(trim(r.fields[ipCol]));
        a.ipColumn = ipName;
        continue;
      }
    }
    if (!r.error.empty()) {
      b.bad(r.line, r.error);
      continue;
    }
    if (r.fields.size() <= ipCol) {
      b.bad(r.line, "missing column " + shown(ipName) + " (the row has " + std::to_string(r.fields.size()) +
                        (r.fields.size() == 1 ? " field" : " fields") + ", the address is field " + std::to_string(ipCol + 1) + ")");
      continue;
    }
    std::string_view cell = trim(r.fields[ipCol]);
    if (cell.empty()) {
      b.bad(r.line, "empty " + shown(ipName) + " field");
      continue;
    }
    auto p = parseCell(cell);
    if (!p.cidr) {
      b.bad(r.line, p.error);
      continue;
    }
    std::string comment;
    for (std::size_t k = 0; k < r.fields.size(); ++k) {
      std::string_view f = trim(r.fields[k]);
      if (k == ipCol || f.empty()) continue;
      if (!comment.empty()) comment += ", ";
      comment += f;
    }
    b.add(*p.cidr, r.line, std::move(comment));
  }
  return {};
}

}  // namespace

Result<Allowlist> parseAllowlist(std::string_view text, const AllowlistOptions& options) {
  const std::string where = options.source.empty() ? std::string() : options.source + ": ";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n'));
    return Error{where + "line " + std::to_string(line) + ": not a text file (a NUL byte)"};
  }
  Allowlist a;
  a.format = options.format == AllowlistFormat::Auto ? detect(text) : options.format;
  Builder b(a);
  if (a.format == AllowlistFormat::Csv) {
    if (auto st = readCsv(text, a, b); !st.ok()) return Error{where + st.error()};
  } else {
    readText(text, b);
  }
  auto& bad = b.badRows();
  if (!bad.empty() && !options.skipBadRows) {
    std::string msg;
    for (const auto& n : bad) msg += (msg.empty() ? "" : "\n") + where + n.str();
    return Error{msg};
  }
  a.skipped = std::move(bad);
  return a;
}

Result<std::string> readAllowlistFile(const std::string& path) {
  const bool stdinPath = path == "-";
  int fd = stdinPath ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"cannot read " + path + ": " + std::strerror(errno)};
  int err = 0;
  std::string data = detail::readAll(fd, err);
  if (!stdinPath) ::close(fd);
  if (err) return Error{"cannot read " + (stdinPath ? std::string("standard input") : path) + ": " + std::strerror(err)};
  return data;
}

Result<Allowlist> loadAllowlist(const std::string& path, AllowlistOptions options) {
  auto data = readAllowlistFile(path);
  if (!data.ok()) return Error{data.error()};
  if (options.source.empty()) options.source = path == "-" ? "<stdin>" : path;
  return parseAllowlist(*data, options);
}

}  // namespace egw
