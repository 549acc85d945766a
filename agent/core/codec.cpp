#include "agent/core/codec.h"

#include "egw/wire_vocabulary.h"

namespace egw::codec {

namespace pb = egressgw::v1;
using election::MsgType;

pb::MessageType toProto(MsgType t) {
  switch (t) {
    case MsgType::PreVote: return pb::PRE_VOTE;
    case MsgType::PreVoteResp: return pb::PRE_VOTE_RESPONSE;
    case MsgType::Vote: return pb::VOTE;
    case MsgType::VoteResp: return pb::VOTE_RESPONSE;
    case MsgType::Heartbeat: return pb::HEARTBEAT;
    case MsgType::HeartbeatResp: return pb::HEARTBEAT_RESPONSE;
    case MsgType::TimeoutNow: return pb::TIMEOUT_NOW;
  }
  return pb::MESSAGE_TYPE_UNSPECIFIED;
}

std::optional<MsgType> fromProto(pb::MessageType t) {
  switch (t) {
    case pb::PRE_VOTE: return MsgType::PreVote;
    case pb::PRE_VOTE_RESPONSE: return MsgType::PreVoteResp;
    case pb::VOTE: return MsgType::Vote;
    case pb::VOTE_RESPONSE: return MsgType::VoteResp;
    case pb::HEARTBEAT: return MsgType::Heartbeat;
    case pb::HEARTBEAT_RESPONSE: return MsgType::HeartbeatResp;
    case pb::TIMEOUT_NOW: return MsgType::TimeoutNow;
    default: return std::nullopt;
  }
}

pb::Role toProto(Role r, bool observer) {
  return roleToProto(observer && r == Role::Follower ? Role::Observer : r);
}

pb::Candidacy toProto(CandidacyState c) {
  switch (c) {
    case CandidacyState::None: return pb::CANDIDACY_NONE;
    case CandidacyState::Pending: return pb::CANDIDACY_PENDING;
    case CandidacyState::Enabled: return pb::CANDIDACY_ENABLED;
    case CandidacyState::Disabled: return pb::CANDIDACY_DISABLED;
  }
  return pb::CANDIDACY_UNSPECIFIED;
}

pb::AllowlistVerdict toProto(AllowlistVerdict v) {
  switch (v) {
    case AllowlistVerdict::Ok: return pb::ALLOWLIST_OK;
    case AllowlistVerdict::Unverified: return pb::ALLOWLIST_UNVERIFIED;
    case AllowlistVerdict::Rejected: return pb::ALLOWLIST_REJECTED;
    case AllowlistVerdict::Unknown: break;
  }
  return pb::ALLOWLIST_UNKNOWN;
}

pb::ElectionMessage toWire(const election::Message& m) {
  pb::ElectionMessage out;
  out.set_type(toProto(m.type));
  out.set_term(m.term);
  out.set_granted(m.granted);
  out.set_round(m.round);
  out.set_priority(m.priority);
  out.set_transfer(m.transfer);
  return out;
}

std::optional<election::Message> fromWire(const pb::ElectionMessage& m) {
  auto type = fromProto(m.type());
  if (!type) return std::nullopt;
  election::Message em;
  em.type = *type;
  em.from = m.from();
  em.to = m.to();
  em.term = m.term();
  em.granted = m.granted();
  em.round = m.round();
  em.priority = m.priority();
  em.transfer = m.transfer();
  return em;
}

std::string checkEnvelope(const pb::ElectionMessage& m, const std::string& self, std::uint32_t protocol) {
  if (m.from().empty() || m.from().size() > 63) return "missing or invalid sender name";
  if (m.protocol() != protocol)
    return m.from() + " speaks peer protocol " + std::to_string(m.protocol()) + ", " + self + " speaks " +
           std::to_string(protocol) + ": run one egress-agent protocol version in the cluster (docs/membership.md)";
  if (m.to() != self) return "message for " + m.to() + " delivered to " + self;
  if (m.cluster_size() > 10000 || m.relayed_size() > 10000 || m.ages_size() > 10000 || m.events_size() > 1000)
    return "message too large";
  return {};
}

}  // namespace egw::codec
