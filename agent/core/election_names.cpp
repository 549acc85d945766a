// The names of the election's message types and rejection reasons (logs, traces, tests).
#include "agent/core/election.h"

namespace egw::election {

const char* msgTypeName(MsgType t) {
  switch (t) {
    case MsgType::PreVote:
      return "PreVote";
    case MsgType::PreVoteResp:
      return "PreVoteResp";
    case MsgType::Vote:
      return "Vote";
    case MsgType::VoteResp:
      return "VoteResp";
    case MsgType::Heartbeat:
      return "Heartbeat";
    case MsgType::HeartbeatResp:
      return "HeartbeatResp";
    case MsgType::TimeoutNow:
      return "TimeoutNow";
  }
  return "?";
}

const char* rejectName(Reject r) {
  switch (r) {
    case Reject::Malformed:
      return "malformed";
    case Reject::SelfAddressed:
      return "self-addressed";
    case Reject::Misrouted:
      return "misrouted";
    case Reject::UnknownSender:
      return "unknown-sender";
    case Reject::StaleTerm:
      return "stale-term";
    case Reject::InLease:
      return "in-lease";
    case Reject::NotVoter:
      return "not-voter";
    case Reject::NotEligible:
      return "not-eligible";
    case Reject::Conflict:
      return "conflict";
    case Reject::Count_:
      break;
  }
  return "?";
}

}  // namespace egw::election
