#pragma once
// The vocabulary (egw/vocabulary.h) on the wire: the one place that maps egressgw.v1.Role to
// egw::Role and back, and reads an Event's kind, for the agent, the console and egressctl.
//
// Header-only and inline, in proto/include: the proto target exports this directory and passes
// `common` on to its users (INTERFACE), so whoever can include the generated headers can include
// this, while the generated code itself still compiles without common's settings. A library of its
// own would be a third target for three functions.
#include <optional>

#include "egressgw/v1/peer.pb.h"
#include "egw/vocabulary.h"

namespace egw {

// nullopt: ROLE_UNSPECIFIED, or a role from a newer agent than this build (show "unknown").
inline std::optional<Role> roleFromProto(egressgw::v1::Role r) {
  switch (r) {
    case egressgw::v1::OBSERVER: return Role::Observer;
    case egressgw::v1::FOLLOWER: return Role::Follower;
    case egressgw::v1::PRE_CANDIDATE: return Role::PreCandidate;
    case egressgw::v1::CANDIDATE: return Role::Candidate;
    case egressgw::v1::MASTER: return Role::Master;
    default: return std::nullopt;
  }
}

inline egressgw::v1::Role roleToProto(Role r) {
  switch (r) {
    case Role::Observer: return egressgw::v1::OBSERVER;
    case Role::Follower: return egressgw::v1::FOLLOWER;
    case Role::PreCandidate: return egressgw::v1::PRE_CANDIDATE;
    case Role::Candidate: return egressgw::v1::CANDIDATE;
    case Role::Master: return egressgw::v1::MASTER;
  }
  return egressgw::v1::ROLE_UNSPECIFIED;
}

// The kind of an event as this build knows it; nullopt: show e.kind() as it is.
inline std::optional<EventKind> eventKindOf(const egressgw::v1::Event& e) { return parseEventKind(e.kind()); }

}  // namespace egw
