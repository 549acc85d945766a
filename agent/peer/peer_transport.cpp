#include "agent/peer/peer_transport.h"

#include <chrono>
#include <thread>

#include "egw/log.h"
#include "agent/security/grpc_util.h"

namespace egw {

grpc::ServerUnaryReactor* PeerService::Send(grpc::CallbackServerContext* ctx, const egressgw::v1::ElectionMessage* req,
                                            egressgw::v1::Ack* resp) {
  auto* reactor = ctx->DefaultReactor();
  if (certificatesRequired_) {
    const auth::Identity who = auth::identify(*ctx);
    grpc::Status st = auth::authorizePeer(who, req->from());
    if (st.ok() && admit_) st = admit_(*req);
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

PeerClients::Target& PeerClients::target(const std::string& endpoint, const std::string& node) {
  std::lock_guard lock(mu_);
  auto& t = targets_[verifyNodeName_ ? node + "@" + endpoint : endpoint];
  if (!t) {
    t = std::make_unique<Target>();
    auto args = channelArguments(maxBackoffMs_);
    if (verifyNodeName_) args.SetSslTargetNameOverride(node);
    t->channel = grpc::CreateCustomChannel(endpoint, creds_, args);
    t->stub = egressgw::v1::Peer::NewStub(t->channel);
  }
  return *t;
}

void PeerClients::send(const std::string& endpoint, egressgw::v1::ElectionMessage msg) {
  auto& t = target(endpoint, msg.to());
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
  t.stub->async()->Send(&call->ctx, &call->req, &call->resp, [this, call, tp](grpc::Status s) {
    if (!s.ok() || !call->resp.accepted()) ++failed_;
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
