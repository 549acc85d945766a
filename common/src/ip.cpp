#include "egw/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace egw {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    in_addr v4{};
    if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
    a.family_ = Family::V4;
    std::memcpy(a.bytes_.data(), &v4, 4);
  } else {
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    a.family_ = Family::V6;
    std::memcpy(a.bytes_.data(), &v6, 16);
  }
  return a;
}

IpAddress IpAddress::v4(std::uint32_t h) {
  IpAddress a;
  a.bytes_[0] = static_cast<std::uint8_t>(h >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(h >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(h >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(h);
  return a;
}

std::uint32_t IpAddress::v4HostOrder() const {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(isV4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::isUnspecified() const {
  for (int i = 0; i < (isV4() ? 4 : 16); ++i)
    if (bytes_[static_cast<std::size_t>(i)] != 0) return false;
  return true;
}

Cidr::Cidr(IpAddress addr, int prefix) : addr_(addr), prefix_(prefix) {}

IpAddress IpAddress::fromBytes(Family f, const std::array<std::uint8_t, 16>& b) {
  IpAddress a;
  a.family_ = f;
  a.bytes_ = b;
  if (f == Family::V4)
    for (std::size_t i = 4; i < 16; ++i) a.bytes_[i] = 0;
  return a;
}

static IpAddress masked(const IpAddress& a, int prefix) {
  std::array<std::uint8_t, 16> b = a.bytes();
  for (int i = 0; i < a.bits() / 8; ++i) {
    const int bitStart = i * 8;
    auto& byte = b[static_cast<std::size_t>(i)];
    if (bitStart >= prefix) byte = 0;
    else if (bitStart + 8 > prefix) byte &= static_cast<std::uint8_t>(0xFF << (8 - (prefix - bitStart)));
  }
  return IpAddress::fromBytes(a.family(), b);
}

std::optional<Cidr> Cidr::parse(std::string_view text, bool allowHostBits) {
  auto slash = text.find('/');
  auto ip = IpAddress::parse(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int prefix = ip->bits();
  if (slash != std::string_view::npos) {
    auto p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (ec != std::errc{} || ptr != p.data() + p.size()) return std::nullopt;
    if (prefix < 0 || prefix > ip->bits()) return std::nullopt;
  }
  Cidr c(*ip, prefix);
  if (!allowHostBits && masked(*ip, prefix) != *ip) return std::nullopt;
  return c;
}

Cidr Cidr::network() const { return Cidr(masked(addr_, prefix_), prefix_); }

bool Cidr::contains(const IpAddress& ip) const {
  if (ip.family() != addr_.family()) return false;
  return masked(ip, prefix_) == masked(addr_, prefix_);
}

bool Cidr::overlaps(const Cidr& o) const {
  if (o.addr_.family() != addr_.family()) return false;
  const int p = std::min(prefix_, o.prefix_);
  return masked(addr_, p) == masked(o.addr_, p);
}

std::string Cidr::str() const { return addr_.str() + "/" + std::to_string(prefix_); }

std::optional<Endpoint> Endpoint::parse(std::string_view text, bool allowZeroPort) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;  // bare v6 needs []
  }
  if (host.empty() || port.empty() || port.size() > 5) return std::nullopt;
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_'))
      return std::nullopt;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || ptr != port.data() + port.size()) return std::nullopt;
  if (value > 65535 || (value == 0 && !allowZeroPort)) return std::nullopt;
  return Endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

std::string Endpoint::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

bool Endpoint::isLoopback() const {
  if (host == "localhost" || host == "::1") return true;
  auto ip = IpAddress::parse(host);
  return ip && ip->isV4() && ip->bytes()[0] == 127;
}

}  // namespace egw
