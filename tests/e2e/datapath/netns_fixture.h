#pragma once
// A throwaway topology of network namespaces for datapath tests, torn down on destruction and at
// exit (also when a test fails half-way). Names are unique per process: egwt-dp<instance>-<pid>-<role>
// (<instance>: EGW_TB_INSTANCE, see support/testbed.h).
//
//   client (10.244.1.2) --pod0-- A (node under test) --cl0-- B (another egress node)
//                                |eg0 172.16.0.7            |eg0 172.16.0.8
//                                +------- br0 (ns "p") -----+------ server (172.16.0.1,
//                                                                   198.51.100.10)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "support/netns.h"
#include "support/testbed.h"

namespace egwtest {

inline std::string nsPrefix() { return "egwt-dp" + testbedInstance().toStdString() + "-" + std::to_string(::getpid()); }
inline std::string ns(const char* role) { return nsPrefix() + "-" + role; }

inline void deleteAll() {
  for (auto r : {"a", "b", "c", "s", "p"}) sh("ip netns del " + ns(r) + " 2>/dev/null");
}

inline Cmd in(const char* role, const std::string& cmd) { return sh("ip netns exec " + ns(role) + " " + cmd); }

// Builds the topology; returns the failed command's output, or empty on success.
inline std::string build() {
  deleteAll();
  std::atexit(deleteAll);
  const std::string A = ns("a"), B = ns("b"), C = ns("c"), S = ns("s"), P = ns("p");
  const char* script[] = {
      "ip netns add {A}", "ip netns add {B}", "ip netns add {C}", "ip netns add {S}", "ip netns add {P}",
      "ip -n {P} link add br0 type bridge", "ip -n {P} link set br0 up",
      "ip -n {A} link add eg0 type veth peer name pa netns {P}",
      "ip -n {B} link add eg0 type veth peer name pb netns {P}",
      "ip -n {S} link add eth0 type veth peer name ps netns {P}",
      "ip -n {P} link set pa master br0 up", "ip -n {P} link set pb master br0 up", "ip -n {P} link set ps master br0 up",
      "ip -n {A} link add cl0 type veth peer name cl0 netns {B}",
      "ip -n {C} link add eth0 type veth peer name pod0 netns {A}",
      "ip -n {A} addr add 172.16.0.7/24 dev eg0", "ip -n {A} addr add 10.0.0.11/24 dev cl0",
      "ip -n {A} addr add 10.244.1.1/24 dev pod0",
      "ip -n {B} addr add 172.16.0.8/24 dev eg0", "ip -n {B} addr add 10.0.0.12/24 dev cl0",
      "ip -n {C} addr add 10.244.1.2/24 dev eth0",
      "ip -n {S} addr add 172.16.0.1/24 dev eth0", "ip -n {S} addr add 198.51.100.10/32 dev eth0",
      "ip -n {A} link set lo up", "ip -n {A} link set eg0 up", "ip -n {A} link set cl0 up", "ip -n {A} link set pod0 up",
      "ip -n {B} link set lo up", "ip -n {B} link set eg0 up", "ip -n {B} link set cl0 up",
      "ip -n {C} link set lo up", "ip -n {C} link set eth0 up", "ip -n {S} link set lo up", "ip -n {S} link set eth0 up",
      "ip -n {A} route add default via 172.16.0.1 dev eg0", "ip -n {B} route add default via 172.16.0.1 dev eg0",
      "ip -n {B} route add 10.244.1.0/24 via 10.0.0.11", "ip -n {C} route add default via 10.244.1.1",
      "ip netns exec {A} sysctl -qw net.ipv4.ip_forward=1", "ip netns exec {B} sysctl -qw net.ipv4.ip_forward=1",
      "ip netns exec {A} sysctl -qw net.ipv4.conf.all.rp_filter=0", "ip netns exec {B} sysctl -qw net.ipv4.conf.all.rp_filter=0",
      "ip netns exec {A} sysctl -qw net.ipv4.conf.eg0.rp_filter=0", "ip netns exec {B} sysctl -qw net.ipv4.conf.eg0.rp_filter=0",
  };
  for (std::string c : script) {
    for (auto [k, v] : {std::pair{"{A}", A}, {"{B}", B}, {"{C}", C}, {"{S}", S}, {"{P}", P}})
      for (auto pos = c.find(k); pos != std::string::npos; pos = c.find(k)) c.replace(pos, 3, v);
    auto r = sh(c);
    if (r.rc != 0) return c + ": " + r.out;
  }
  return {};
}

// A UDP socket bound in a namespace.
inline int udpSocketIn(const std::string& name, const char* bindIp, int port) {
  int fd = -1;
  runIn(name, [&] {
    fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, bindIp, &a.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      fd = -1;
    }
  });
  return fd;
}

inline void sendTo(int fd, const char* ip, int port, const std::string& payload) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, ip, &a.sin_addr);
  (void)::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
}

// The source address of the next datagram, or nullopt when none arrives within timeoutMs.
inline std::optional<std::string> receiveFrom(int fd, int timeoutMs) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeoutMs) != 1) return std::nullopt;
  char buf[2048];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  if (::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len) < 0) return std::nullopt;
  char ip[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
  return std::string(ip);
}

inline void drain(int fd) {
  while (receiveFrom(fd, 0)) {
  }
}

}  // namespace egwtest
