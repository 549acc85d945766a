#include "agent/datapath/garp.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace egw {

std::array<std::uint8_t, 42> buildGratuitousArp(std::uint16_t op, const std::array<std::uint8_t, 6>& mac,
                                                const IpAddress& vip) {
  std::array<std::uint8_t, 42> f{};
  auto put16 = [&](std::size_t at, std::uint16_t v) {
    f[at] = static_cast<std::uint8_t>(v >> 8);
    f[at + 1] = static_cast<std::uint8_t>(v & 0xff);
  };
  std::memset(f.data(), 0xff, 6);                 // Ethernet destination: broadcast
  std::memcpy(f.data() + 6, mac.data(), 6);       // Ethernet source
  put16(12, ETH_P_ARP);
  put16(14, ARPHRD_ETHER);
  put16(16, ETH_P_IP);
  f[18] = 6;
  f[19] = 4;
  put16(20, op);
  std::memcpy(f.data() + 22, mac.data(), 6);      // sender MAC
  std::memcpy(f.data() + 28, vip.bytes().data(), 4);  // sender IP = VIP
  // Target MAC: zero in a request; in a reply the sender's own (RFC 5227 style announcements
  // are accepted either way; Linux treats sip == tip as gratuitous and overrides its locktime).
  if (op == ARPOP_REPLY) std::memcpy(f.data() + 32, mac.data(), 6);
  std::memcpy(f.data() + 38, vip.bytes().data(), 4);  // target IP = VIP
  return f;
}

Status sendGratuitousArp(int ifindex, const std::array<std::uint8_t, 6>& mac, const IpAddress& vip, int pairs) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) return Status::failure(std::string("gratuitous ARP: socket(AF_PACKET): ") + std::strerror(errno));
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_protocol = htons(ETH_P_ARP);
  to.sll_ifindex = ifindex;
  to.sll_halen = 6;
  std::memset(to.sll_addr, 0xff, 6);
  Status st;
  for (int i = 0; i < pairs && st.ok(); ++i) {
    for (std::uint16_t op : {std::uint16_t{ARPOP_REQUEST}, std::uint16_t{ARPOP_REPLY}}) {
      auto frame = buildGratuitousArp(op, mac, vip);
      if (::sendto(fd, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
        st = Status::failure("gratuitous ARP for " + vip.str() + " on ifindex " + std::to_string(ifindex) + ": " +
                             std::strerror(errno));
        break;
      }
    }
  }
  ::close(fd);
  return st;
}

}  // namespace egw
