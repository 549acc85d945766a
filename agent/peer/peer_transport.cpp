#include "agent/peer/peer_transport.h"

#include <chrono>
#include <thread>

#include "egw/log.h"
#include "agent/security/grpc_util.h"

namespace egw {

namespace pb = egressgw::v1;

auth::PeerClaim peerClaim(const pb::ElectionMessage& m) {
  auth::PeerClaim c;
  c.from = m.from();
  c.kind = pb::MessageType_Name(m.type());
  // An observer speaks for itself only: its own status, its own events, nobody else's view.
  bool own = m.type() == pb::STATUS_REPORT && m.status().name() == m.from() && m.status().role() == pb::OBSERVER &&
             !m.status().voter() &&
             (m.status().candidacy() == pb::CANDIDACY_UNSPECIFIED || m.status().candidacy() == pb::CANDIDACY_NONE) &&
             m.cluster_size() == 0 && m.relayed_size() == 0 && m.ages_size() == 0;
  for (const auto& e : m.events()) own = own && e.origin() == m.from();
  c.observerReport = own;
  return c;
}

grpc::ServerUnaryReactor* PeerService::Send(grpc::CallbackServerContext* ctx, const egressgw::v1::ElectionMessage* req,
                                            egressgw::v1::Ack* resp) {
  auto* reactor = ctx->DefaultReactor();
  if (certificatesRequired_) {
    const auth::Identity who = auth::identify(*ctx);
    grpc::Status st = auth::authorizePeer(who, peerClaim(*req));
    if (st.ok() && admit_) st = admit_(*req, who);
    if (!st.ok()) {
      ++refused_;
      bool logIt;
      {
        std::lock_guard lk(logMu_);
        logIt = logRate_.take(who.key(), std::chrono::steady_clock::now());
      }
      if (logIt)
        log::get("election")->warn("{}: refused {} claiming to be from '{}' ({}, {}): {}", self_,
                                   egressgw::v1::MessageType_Name(req->type()), req->from().substr(0, 63),
                                   who.describe(), who.address, st.error_message());
      reactor->Finish(st);
      return reactor;
    }
  }
  auto error = handler_(egressgw::v1::ElectionMessage(*req), ctx->peer());
  resp->set_accepted(error.empty());
  resp->set_error(error);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

PeerClients::PeerClients(std::shared_ptr<grpc::ChannelCredentials> creds, int deadlineMs, int maxBackoffMs,
                         bool verifyNodeName)
    : creds_(std::move(creds)), verifyNodeName_(verifyNodeName), deadlineMs_(deadlineMs), maxBackoffMs_(maxBackoffMs) {}

PeerClients::~PeerClients() { drain(2000); }

PeerClients::Target& PeerClients::target(const std::string& endpoint, const std::string& name) {
  std::lock_guard lock(mu_);
  auto& t = targets_[verifyNodeName_ ? name + "@" + endpoint : endpoint];
  if (!t) {
    t = std::make_unique<Target>();
    auto args = channelArguments(maxBackoffMs_);
    if (verifyNodeName_) args.SetSslTargetNameOverride(name);
    t->channel = grpc::CreateCustomChannel(endpoint, creds_, args);
    t->stub = egressgw::v1::Peer::NewStub(t->channel);
  }
  return *t;
}

void PeerClients::noteRefusal(const egressgw::v1::ElectionMessage& req, const std::string& endpoint,
                              const grpc::Status& s, const std::string& ackError) {
  // A refusal (not an unreachable peer: that is the election's business) says something is
  // misconfigured: another protocol version, a certificate of the wrong role, an unknown name.
  // Logged a few lines per peer and second, with the peer's words.
  const bool refused = s.ok() ? !ackError.empty()
                              : s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
                                    s.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
                                    s.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
  if (!refused) return;
  {
    std::lock_guard lock(mu_);
    if (!refusalLogRate_.take(endpoint, std::chrono::steady_clock::now())) return;
  }
  log::get("election")->warn("{}: {} ({}) refused our {}: {}", req.from(), req.to(), endpoint,
                             egressgw::v1::MessageType_Name(req.type()), s.ok() ? ackError : s.error_message());
}

void PeerClients::send(const std::string& endpoint, egressgw::v1::ElectionMessage msg, const std::string& serverName) {
  auto& t = target(endpoint, serverName.empty() ? msg.to() : serverName);
  if (t.inflight.load() >= 64) {
    ++dropped_;
    return;
  }
  struct Call {
    grpc::ClientContext ctx;
    egressgw::v1::ElectionMessage req;
    egressgw::v1::Ack resp;
  };
  auto* call = new Call;
  call->req = std::move(msg);
  call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(deadlineMs_));
  ++t.inflight;
  ++inflightTotal_;
  ++sent_;
  auto* tp = &t;  // Targets live until this object is destroyed, which drains calls first.
  t.stub->async()->Send(&call->ctx, &call->req, &call->resp, [this, call, tp, endpoint](grpc::Status s) {
    if (!s.ok() || !call->resp.accepted()) {
      ++failed_;
      noteRefusal(call->req, endpoint, s, call->resp.error());
    }
    --tp->inflight;
    delete call;
    --inflightTotal_;
  });
}

void PeerClients::drain(int timeoutMs) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while (inflightTotal_.load() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace egw
