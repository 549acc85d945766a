#pragma once
#include <cstdint>

namespace egw {
// Bumped on any incompatible change of peer.proto or cluster.proto semantics. Agents refuse
// peers, and the console refuses agents, that speak another protocol version.
inline constexpr std::uint32_t kProtocolVersion = 2;
inline constexpr const char* kVersion = EGW_VERSION;
}  // namespace egw
