#include "egw/node_identity.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace egw {

namespace {

Result<IpAddress> kernelRouteSource(const IpAddress& to) {
  // connect() on a UDP socket picks the route and the source address; nothing is sent.
  const bool v4 = to.isV4();
  int fd = ::socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Result<IpAddress>::failure(std::string("socket: ") + std::strerror(errno));
  sockaddr_storage ss{};
  socklen_t len;
  if (v4) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(9);
    std::memcpy(&a->sin_addr, to.bytes().data(), 4);
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(9);
    std::memcpy(&a->sin6_addr, to.bytes().data(), 16);
    len = sizeof(sockaddr_in6);
  }
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int e = errno;
    ::close(fd);
    return Result<IpAddress>::failure(std::strerror(e));
  }
  sockaddr_storage local{};
  socklen_t llen = sizeof local;
  const int rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
  const int e = errno;
  ::close(fd);
  if (rc != 0) return Result<IpAddress>::failure(std::string("getsockname: ") + std::strerror(e));
  std::array<std::uint8_t, 16> b{};
  if (v4) {
    std::memcpy(b.data(), &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, 4);
    return IpAddress::fromBytes(IpAddress::Family::V4, b);
  }
  std::memcpy(b.data(), &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, 16);
  return IpAddress::fromBytes(IpAddress::Family::V6, b);
}

}  // namespace

IdentitySources hostSources(std::string nodeNameFlag, std::string addressFlag, std::string stateDirFlag) {
  IdentitySources s;
  s.nodeNameFlag = std::move(nodeNameFlag);
  s.addressFlag = std::move(addressFlag);
  s.stateDirFlag = std::move(stateDirFlag);
  if (const char* env = std::getenv("NODE_NAME")) s.envNodeName = env;
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) {
    s.hostName = host;
    if (auto dot = s.hostName.find('.'); dot != std::string::npos) s.hostName.resize(dot);
  }
  s.routeSource = kernelRouteSource;
  return s;
}

Result<Config> resolveIdentity(Config c, const IdentitySources& src, IdentityOrigins* origins) {
  std::vector<std::string> errors;
  const std::string& file = c.sourcePath;
  auto fail = [&](const std::string& key, const std::string& what) { errors.push_back(file + ": " + key + ": " + what); };
  IdentityOrigins o;

  // node.name
  if (!src.nodeNameFlag.empty()) {
    c.node.name = src.nodeNameFlag;
    o.name = "--node-name";
  } else if (!c.node.name.empty()) {
    o.name = "config";
  } else if (!src.envNodeName.empty()) {
    c.node.name = src.envNodeName;
    o.name = "$NODE_NAME";
  } else if (!src.hostName.empty()) {
    c.node.name = src.hostName;
    o.name = "the host name";
  } else {
    fail("node.name", "not in the file, and neither --node-name, $NODE_NAME nor the host name gives one");
  }
  if (!c.node.name.empty() && o.name != "config" && !validName(c.node.name))
    fail("node.name", "'" + c.node.name.substr(0, 80) + "' from " + o.name +
                          " must be 1-63 characters of [a-z0-9-], starting and ending alphanumeric" +
                          (o.name == "--node-name" ? "" : " (set --node-name)"));

  // state_dir
  if (!src.stateDirFlag.empty()) {
    c.stateDir = src.stateDirFlag;
    o.stateDir = "--state-dir";
  } else {
    o.stateDir = "config or default";
  }

  // node.address
  if (!src.addressFlag.empty()) {
    auto a = IpAddress::parse(src.addressFlag);
    if (!a || a->isUnspecified())
      fail("node.address", "--address '" + src.addressFlag.substr(0, 80) + "' is not a node's IP address");
    else
      c.node.address = *a;
    o.address = "--address";
  } else if (!c.node.address.isUnspecified()) {
    o.address = "config";
  } else {
    // The address this node reaches the voters from is the one they can reach it at.
    const VoterConfig* voter = nullptr;
    for (const auto& v : c.voters)
      if (v.name != c.node.name) {
        voter = &v;
        break;
      }
    auto to = voter ? IpAddress::parse(voter->address.host) : std::nullopt;
    if (!voter) {
      fail("node.address", "not in the file and no --address, and there is no other voter to find a route to");
    } else if (!to) {
      fail("node.address", "not in the file and no --address, and voter " + voter->name + "'s address " +
                               voter->address.host + " is not an IP address to find a route to");
    } else if (!src.routeSource) {
      fail("node.address", "not in the file and no --address");
    } else if (auto a = src.routeSource(*to); !a) {
      fail("node.address", "not in the file and no --address, and there is no route to voter " + voter->name + " (" +
                               to->str() + "): " + a.error());
    } else {
      c.node.address = *a;
      o.address = "the route to voter " + voter->name + " (" + to->str() + ")";
    }
  }

  // Listen addresses written ":PORT" are the node's address, which may be reached from outside.
  auto place = [&](Endpoint& e, const char* key) {
    if (!e.host.empty() || c.node.address.isUnspecified()) return;
    e.host = c.node.address.str();
    if (!c.tls && !c.insecure && !e.isLoopback())
      fail(key, "\":" + std::to_string(e.port) + "\" is " + e.str() + " (node.address from " + o.address +
                    "), which is not loopback, without tls: configure tls or set insecure: true");
  };
  place(c.listen.peer, "listen.peer");
  place(c.listen.api, "listen.api");
  if (c.listen.metrics) place(*c.listen.metrics, "listen.metrics");

  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return Result<Config>::failure(all);
  }
  if (origins) *origins = o;
  return c;
}

Result<Config> loadAgentConfig(const std::string& path, const IdentitySources& src, IdentityOrigins* origins) {
  auto c = loadConfig(path);
  if (!c) return c;
  return resolveIdentity(std::move(*c), src, origins);
}

}  // namespace egw
