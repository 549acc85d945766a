#pragma once
// Gratuitous ARP for the virtual IP: real ARP frames on an AF_PACKET socket, a request and a
// reply each with sender = target = VIP, so neighbours (and switches) update their caches at
// once instead of waiting for their entries to go stale.
#include <array>
#include <cstdint>
#include <string>

#include "egw/ip.h"
#include "egw/result.h"

namespace egw {

// Builds one ARP frame (Ethernet header included). op: 1 = request, 2 = reply.
std::array<std::uint8_t, 42> buildGratuitousArp(std::uint16_t op, const std::array<std::uint8_t, 6>& mac,
                                                const IpAddress& vip);

// Sends `pairs` request+reply pairs out of `ifindex`, back to back. Needs CAP_NET_RAW.
Status sendGratuitousArp(int ifindex, const std::array<std::uint8_t, 6>& mac, const IpAddress& vip, int pairs);

}  // namespace egw
