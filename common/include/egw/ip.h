#pragma once
// IP addresses and CIDR prefixes, IPv4 and IPv6, as plain values.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace egw {

class IpAddress {
 public:
  enum class Family : std::uint8_t { V4, V6 };
  IpAddress() = default;
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint32_t hostOrder);
  static IpAddress fromBytes(Family f, const std::array<std::uint8_t, 16>& b);

  Family family() const { return family_; }
  bool isV4() const { return family_ == Family::V4; }
  int bits() const { return isV4() ? 32 : 128; }
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }  // v4 uses the first 4
  std::uint32_t v4HostOrder() const;
  std::string str() const;
  bool isUnspecified() const;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

class Cidr {
 public:
  Cidr() = default;
  Cidr(IpAddress addr, int prefix);
  // Accepts "a.b.c.d/n", "x::/n" and a bare address (a host prefix). Rejects host bits set
  // unless allowHostBits (interface addresses such as a VIP "172.16.0.100/24" keep them).
  static std::optional<Cidr> parse(std::string_view text, bool allowHostBits = false);

  const IpAddress& address() const { return addr_; }
  int prefix() const { return prefix_; }
  Cidr network() const;  // host bits cleared
  bool contains(const IpAddress& ip) const;
  bool overlaps(const Cidr& other) const;
  std::string str() const;
  auto operator<=>(const Cidr&) const = default;

 private:
  IpAddress addr_;
  int prefix_ = 0;
};

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
  // "host:port" or "[v6]:port"; port 1..65535 (0 allowed only when allowZeroPort, for tests).
  static std::optional<Endpoint> parse(std::string_view text, bool allowZeroPort = false);
  std::string str() const;
  bool isLoopback() const;
  bool operator==(const Endpoint&) const = default;
};

}  // namespace egw
