#pragma once
// The few rtnetlink operations the datapath needs, through libnl-route-3. One socket per
// instance; not thread-safe (owned by the datapath worker). Errors name the object and carry
// libnl's message; `notFound` is set for a missing interface so callers need not parse text.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "egw/ip.h"
#include "egw/result.h"

struct nl_sock;

namespace egw {

struct LinkInfo {
  int index = 0;
  bool up = false;       // administratively up
  bool lowerUp = false;  // carrier
  std::array<std::uint8_t, 6> mac{};
};

struct FwmarkRule {
  std::uint32_t mark = 0, mask = 0, table = 0, priority = 0;
};

class Netlink {
 public:
  static Result<std::unique_ptr<Netlink>> open();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  Result<LinkInfo> link(const std::string& name);
  // The interface's primary (non-secondary) IPv4 address, if any.
  Result<std::optional<Cidr>> primaryIpv4(int ifindex);
  Result<bool> hasIpv4(int ifindex, const IpAddress& ip);
  Status addAddress(int ifindex, const Cidr& addr);     // ok if already there
  Status deleteAddress(int ifindex, const Cidr& addr);  // ok if already gone

  Result<bool> hasRule(const FwmarkRule& r);
  Status addRule(const FwmarkRule& r);     // ok if already there
  Status deleteRule(const FwmarkRule& r);  // deletes every copy; ok if none

  struct DefaultRoute {
    std::optional<IpAddress> gateway;
    int ifindex = 0;
  };
  // The IPv4 default route of `table` (first one found), if any; with `oifFilter` only one out
  // of that interface.
  Result<std::optional<DefaultRoute>> defaultRoute(std::uint32_t table, int oifFilter = 0);
  Status replaceDefaultRoute(std::uint32_t table, const IpAddress& gateway, int ifindex);
  Status deleteDefaultRoute(std::uint32_t table);  // ok if none

 private:
  explicit Netlink(nl_sock* s) : sock_(s) {}
  nl_sock* sock_;
};

}  // namespace egw
