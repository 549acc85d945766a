#include "agent/datapath/netlink.h"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <sys/socket.h>

#include <cstring>

namespace egw {

namespace {

std::string nlErr(int err) { return nl_geterror(err); }

// RAII for libnl's refcounted objects.
template <typename T, void (*Put)(T*)>
struct Ref {
  T* p = nullptr;
  Ref() = default;
  explicit Ref(T* x) : p(x) {}
  ~Ref() { if (p) Put(p); }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
};
void cachePut(nl_cache* c) { nl_cache_free(c); }
using CacheRef = Ref<nl_cache, cachePut>;
using AddrRef = Ref<nl_addr, nl_addr_put>;
using LinkRef = Ref<rtnl_link, rtnl_link_put>;
using RtAddrRef = Ref<rtnl_addr, rtnl_addr_put>;
using RuleRef = Ref<rtnl_rule, rtnl_rule_put>;
using RouteRef = Ref<rtnl_route, rtnl_route_put>;

nl_addr* toNl(const IpAddress& ip, int prefix) {
  nl_addr* a = nl_addr_build(ip.isV4() ? AF_INET : AF_INET6, ip.bytes().data(), ip.isV4() ? 4 : 16);
  if (a) nl_addr_set_prefixlen(a, prefix);
  return a;
}

std::optional<IpAddress> fromNl(nl_addr* a) {
  if (!a || nl_addr_get_family(a) != AF_INET || nl_addr_get_len(a) != 4) return std::nullopt;
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), nl_addr_get_binary_addr(a), 4);
  return IpAddress::fromBytes(IpAddress::Family::V4, b);
}

}  // namespace

Result<std::unique_ptr<Netlink>> Netlink::open() {
  nl_sock* s = nl_socket_alloc();
  if (!s) return Result<std::unique_ptr<Netlink>>::failure("netlink: cannot allocate a socket");
  if (int err = nl_connect(s, NETLINK_ROUTE); err < 0) {
    nl_socket_free(s);
    return Result<std::unique_ptr<Netlink>>::failure("netlink: connect: " + nlErr(err));
  }
  return std::unique_ptr<Netlink>(new Netlink(s));
}

Netlink::~Netlink() { nl_socket_free(sock_); }

Result<LinkInfo> Netlink::link(const std::string& name) {
  LinkRef l;
  if (int err = rtnl_link_get_kernel(sock_, 0, name.c_str(), &l.p); err < 0)
    return Result<LinkInfo>::failure("interface " + name + " not found: " + nlErr(err));
  LinkInfo info;
  info.index = rtnl_link_get_ifindex(l.p);
  auto flags = rtnl_link_get_flags(l.p);
  info.up = flags & IFF_UP;
  info.lowerUp = flags & IFF_LOWER_UP;
  if (nl_addr* a = rtnl_link_get_addr(l.p); a && nl_addr_get_len(a) == 6)
    std::memcpy(info.mac.data(), nl_addr_get_binary_addr(a), 6);
  return info;
}

Result<std::optional<Cidr>> Netlink::primaryIpv4(int ifindex) {
  CacheRef cache;
  if (int err = rtnl_addr_alloc_cache(sock_, &cache.p); err < 0)
    return Result<std::optional<Cidr>>::failure("netlink: dump addresses: " + nlErr(err));
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
    if (rtnl_addr_get_flags(a) & IFA_F_SECONDARY) continue;
    if (auto ip = fromNl(rtnl_addr_get_local(a))) return std::optional<Cidr>(Cidr(*ip, rtnl_addr_get_prefixlen(a)));
  }
  return std::optional<Cidr>();
}

Result<bool> Netlink::hasIpv4(int ifindex, const IpAddress& ip) {
  CacheRef cache;
  if (int err = rtnl_addr_alloc_cache(sock_, &cache.p); err < 0)
    return Result<bool>::failure("netlink: dump addresses: " + nlErr(err));
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) == ifindex && fromNl(rtnl_addr_get_local(a)) == ip) return true;
  }
  return false;
}

Status Netlink::addAddress(int ifindex, const Cidr& addr) {
  RtAddrRef a(rtnl_addr_alloc());
  AddrRef local(toNl(addr.address(), addr.prefix()));
  rtnl_addr_set_ifindex(a.p, ifindex);
  rtnl_addr_set_family(a.p, AF_INET);
  rtnl_addr_set_local(a.p, local.p);
  rtnl_addr_set_prefixlen(a.p, addr.prefix());
  int err = rtnl_addr_add(sock_, a.p, 0);
  if (err < 0 && err != -NLE_EXIST) return Status::failure("add address " + addr.str() + ": " + nlErr(err));
  return {};
}

Status Netlink::deleteAddress(int ifindex, const Cidr& addr) {
  RtAddrRef a(rtnl_addr_alloc());
  AddrRef local(toNl(addr.address(), addr.prefix()));
  rtnl_addr_set_ifindex(a.p, ifindex);
  rtnl_addr_set_family(a.p, AF_INET);
  rtnl_addr_set_local(a.p, local.p);
  rtnl_addr_set_prefixlen(a.p, addr.prefix());
  int err = rtnl_addr_delete(sock_, a.p, 0);
  if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV)
    return Status::failure("delete address " + addr.str() + ": " + nlErr(err));
  return {};
}

namespace {
rtnl_rule* makeRule(const FwmarkRule& r) {
  rtnl_rule* rule = rtnl_rule_alloc();
  rtnl_rule_set_family(rule, AF_INET);
  rtnl_rule_set_prio(rule, r.priority);
  rtnl_rule_set_mark(rule, r.mark);
  rtnl_rule_set_mask(rule, r.mask);
  rtnl_rule_set_table(rule, r.table);
  rtnl_rule_set_action(rule, FR_ACT_TO_TBL);
  return rule;
}
}  // namespace

Result<bool> Netlink::hasRule(const FwmarkRule& r) {
  CacheRef cache;
  if (int err = rtnl_rule_alloc_cache(sock_, AF_INET, &cache.p); err < 0)
    return Result<bool>::failure("netlink: dump rules: " + nlErr(err));
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* x = reinterpret_cast<rtnl_rule*>(o);
    if (rtnl_rule_get_mark(x) == r.mark && rtnl_rule_get_mask(x) == r.mask && rtnl_rule_get_table(x) == r.table &&
        rtnl_rule_get_prio(x) == r.priority)
      return true;
  }
  return false;
}

Status Netlink::addRule(const FwmarkRule& r) {
  auto has = hasRule(r);
  if (!has.ok()) return Status::failure(has.error());
  if (*has) return {};
  RuleRef rule(makeRule(r));
  if (int err = rtnl_rule_add(sock_, rule.p, NLM_F_CREATE); err < 0 && err != -NLE_EXIST)
    return Status::failure("add ip rule fwmark " + std::to_string(r.mark) + " lookup " + std::to_string(r.table) + ": " + nlErr(err));
  return {};
}

Status Netlink::deleteRule(const FwmarkRule& r) {
  RuleRef rule(makeRule(r));
  for (int i = 0; i < 16; ++i) {  // bounded: someone may have added copies
    int err = rtnl_rule_delete(sock_, rule.p, 0);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR) return {};
    if (err < 0) return Status::failure("delete ip rule lookup " + std::to_string(r.table) + ": " + nlErr(err));
  }
  return {};
}

Result<std::optional<Netlink::DefaultRoute>> Netlink::defaultRoute(std::uint32_t table, int oifFilter) {
  using R = Result<std::optional<DefaultRoute>>;
  CacheRef cache;
  if (int err = rtnl_route_alloc_cache(sock_, AF_INET, 0, &cache.p); err < 0)
    return R::failure("netlink: dump routes: " + nlErr(err));
  for (nl_object* o = nl_cache_get_first(cache.p); o; o = nl_cache_get_next(o)) {
    auto* rt = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(rt) != table || rtnl_route_get_type(rt) != RTN_UNICAST) continue;
    nl_addr* dst = rtnl_route_get_dst(rt);
    if (dst && nl_addr_get_prefixlen(dst) != 0) continue;
    if (rtnl_route_get_nnexthops(rt) < 1) continue;
    rtnl_nexthop* nh = rtnl_route_nexthop_n(rt, 0);
    DefaultRoute d;
    d.ifindex = rtnl_route_nh_get_ifindex(nh);
    d.gateway = fromNl(rtnl_route_nh_get_gateway(nh));
    if (oifFilter && d.ifindex != oifFilter) continue;
    return std::optional<DefaultRoute>(d);
  }
  return std::optional<DefaultRoute>();
}

namespace {
// For a delete, protocol and scope stay unset so any default route of the table matches.
rtnl_route* makeDefault(std::uint32_t table, bool forAdd) {
  rtnl_route* rt = rtnl_route_alloc();
  rtnl_route_set_family(rt, AF_INET);
  rtnl_route_set_table(rt, table);
  rtnl_route_set_type(rt, RTN_UNICAST);
  if (forAdd) {
    rtnl_route_set_protocol(rt, RTPROT_STATIC);
    rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
  } else {
    rtnl_route_set_scope(rt, RT_SCOPE_NOWHERE);
  }
  AddrRef any(toNl(IpAddress::v4(0), 0));
  rtnl_route_set_dst(rt, any.p);
  return rt;
}
}  // namespace

Status Netlink::replaceDefaultRoute(std::uint32_t table, const IpAddress& gateway, int ifindex) {
  RouteRef rt(makeDefault(table, true));
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  AddrRef gw(toNl(gateway, 32));
  rtnl_route_nh_set_gateway(nh, gw.p);
  if (ifindex > 0) rtnl_route_nh_set_ifindex(nh, ifindex);
  rtnl_route_add_nexthop(rt.p, nh);  // the route owns nh now
  if (int err = rtnl_route_add(sock_, rt.p, NLM_F_REPLACE); err < 0)
    return Status::failure("replace default route via " + gateway.str() + " in table " + std::to_string(table) + ": " + nlErr(err));
  return {};
}

Status Netlink::deleteDefaultRoute(std::uint32_t table) {
  for (int i = 0; i < 16; ++i) {
    RouteRef rt(makeDefault(table, false));
    int err = rtnl_route_delete(sock_, rt.p, 0);
    if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NOADDR || err == -NLE_FAILURE) return {};
    if (err < 0) return Status::failure("delete default route in table " + std::to_string(table) + ": " + nlErr(err));
  }
  return {};
}

}  // namespace egw
