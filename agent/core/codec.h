#pragma once
// The peer protocol's wire form (egressgw.v1.ElectionMessage, NodeStatus enums) to and from the
// election's own types. Pure.
#include <optional>
#include <string>

#include "agent/core/election.h"
#include "agent/core/persistent_state.h"
#include "egressgw/v1/peer.pb.h"
#include "egw/allowlist.h"

namespace egw::codec {

egressgw::v1::MessageType toProto(election::MsgType t);
std::optional<election::MsgType> fromProto(egressgw::v1::MessageType t);
// A follower that is neither a voter nor a candidate is shown as an observer.
egressgw::v1::Role toProto(Role r, bool observer);
egressgw::v1::Candidacy toProto(CandidacyState c);
egressgw::v1::AllowlistVerdict toProto(AllowlistVerdict v);

// The election fields of a message (type, term, granted, round, priority, transfer); the
// envelope (from, to, from_endpoint, protocol) is the sender's.
egressgw::v1::ElectionMessage toWire(const election::Message& m);
// nullopt for a STATUS_REPORT or an unknown type.
std::optional<election::Message> fromWire(const egressgw::v1::ElectionMessage& m);

// Checks a received message's envelope before it is queued for the driver: protocol version,
// sender name, addressee, size. Returns the refusal (the sender sees it), empty to accept.
std::string checkEnvelope(const egressgw::v1::ElectionMessage& m, const std::string& self, std::uint32_t protocol);

}  // namespace egw::codec
