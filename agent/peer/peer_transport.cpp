#include "agent/peer/peer_transport.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "egw/log.h"
#include "agent/core/cluster_view.h"
#include "agent/security/grpc_util.h"

namespace egw {

namespace pb = egressgw::v1;

auth::PeerClaim peerClaim(const pb::ElectionMessage& m) {
  auth::PeerClaim c;
  c.from = m.from();
  c.kind = pb::MessageType_Name(m.type());
  // An observer speaks for itself only: its own status, its own events, nobody else's view.
  // An observer as the cluster view counts one (isObserver), so the view never takes the report
  // for a candidate's.
  bool own = m.type() == pb::STATUS_REPORT && m.status().name() == m.from() && m.status().role() == pb::OBSERVER &&
             isObserver(m.status()) && m.cluster_size() == 0 && m.relayed_size() == 0 && m.ages_size() == 0;
  for (const auto& e : m.events()) own = own && e.origin() == m.from();
  c.observerReport = own;
  return c;
}

bool PeerService::logAllowed(const std::string& key) {
  std::lock_guard lk(logMu_);
  return logRate_.take(key, std::chrono::steady_clock::now());
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
      if (logAllowed(who.key()))
        log::get("election")->warn("{}: refused {} claiming to be from '{}' ({}, {}): {}", self_,
                                   egressgw::v1::MessageType_Name(req->type()), req->from().substr(0, 63),
                                   who.describe(), who.address, st.error_message());
      reactor->Finish(st);
      return reactor;
    }
  }
  auto error = handler_(egressgw::v1::ElectionMessage(*req), ctx->peer());
  // The sender sees the refusal in its Ack and logs it (PeerClients::noteRefusal); we say it too.
  if (!error.empty()) {
    const auto from = req->from().substr(0, 63);
    if (logAllowed(from))
      log::get("election")->warn("{}: refused {} from '{}' ({}): {}", self_, egressgw::v1::MessageType_Name(req->type()),
                                 from, ctx->peer(), error);
  }
  resp->set_accepted(error.empty());
  resp->set_error(error);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

PeerClients::PeerClients(std::shared_ptr<grpc::ChannelCredentials> creds, int deadlineMs, int maxBackoffMs,
                         bool verifyNodeName, ChannelFactory factory)
    : creds_(std::move(creds)),
      verifyNodeName_(verifyNodeName),
      deadlineMs_(deadlineMs),
      maxBackoffMs_(maxBackoffMs),
      factory_(std::move(factory)) {
  if (!factory_)
    factory_ = [](const std::string& endpoint, const std::shared_ptr<grpc::ChannelCredentials>& c,
                  const grpc::ChannelArguments& args) { return grpc::CreateCustomChannel(endpoint, c, args); };
  maker_ = std::thread([this] { makeChannels(); });
}

PeerClients::~PeerClients() {
  drain(2000);
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  makeCv_.notify_all();
  maker_.join();
}

void PeerClients::makeChannels() {
  std::unique_lock lock(mu_);
  for (;;) {
    makeCv_.wait(lock, [&] { return stopping_ || !toMake_.empty(); });
    if (stopping_) return;
    Target* t = toMake_.front();
    toMake_.pop_front();
    lock.unlock();
    auto args = channelArguments(maxBackoffMs_);
    if (verifyNodeName_) args.SetSslTargetNameOverride(t->serverName);
    auto channel = factory_(t->endpoint, creds_, args);
    auto stub = egressgw::v1::Peer::NewStub(channel);
    // What queued meanwhile goes out first; sends keep queueing until the stub is published.
    lock.lock();
    t->channel = std::move(channel);
    while (!t->queued.empty()) {
      auto queued = std::move(t->queued);
      t->queued.clear();
      queuedTotal_ -= static_cast<int>(queued.size());
      t->inflight -= static_cast<int>(queued.size());
      lock.unlock();
      for (auto& m : queued) dispatch(*t, *stub, std::move(m));
      lock.lock();
    }
    t->stub = std::move(stub);
  }
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
  const std::string& name = serverName.empty() ? msg.to() : serverName;
  Target* t;
  {
    std::lock_guard lock(mu_);
    auto& slot = targets_[verifyNodeName_ ? name + "@" + endpoint : endpoint];
    if (!slot) {
      slot = std::make_unique<Target>();
      slot->endpoint = endpoint;
      slot->serverName = name;
      toMake_.push_back(slot.get());
      makeCv_.notify_one();
    }
    t = slot.get();
    if (!t->stub) {
      // Its channel is being made: queue (counted as in flight, so the cap holds).
      if (t->inflight.load() >= kMaxInflight) {
        ++dropped_;
        return;
      }
      ++t->inflight;
      ++queuedTotal_;
      t->queued.push_back(std::move(msg));
      return;
    }
  }
  if (t->inflight.load() >= kMaxInflight) {
    ++dropped_;
    return;
  }
  dispatch(*t, *t->stub, std::move(msg));
}

int PeerClients::deadlineFor(egressgw::v1::MessageType type, int deadlineMs) {
  if (type == egressgw::v1::MASTER_UPDATE || type == egressgw::v1::STATUS_REPORT) return std::max(2000, 4 * deadlineMs);
  return deadlineMs;
}

void PeerClients::dispatch(Target& t, egressgw::v1::Peer::Stub& stub, egressgw::v1::ElectionMessage msg) {
  struct Call {
    grpc::ClientContext ctx;
    egressgw::v1::ElectionMessage req;
    egressgw::v1::Ack resp;
  };
  auto* call = new Call;
  call->req = std::move(msg);
  call->ctx.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(deadlineFor(call->req.type(), deadlineMs_)));
  ++t.inflight;
  ++inflightTotal_;
  ++sent_;
  auto* tp = &t;  // Targets live until this object is destroyed, which drains calls first.
  stub.async()->Send(&call->ctx, &call->req, &call->resp, [this, call, tp](grpc::Status s) {
    if (!s.ok() || !call->resp.accepted()) {
      ++failed_;
      noteRefusal(call->req, tp->endpoint, s, call->resp.error());
    }
    --tp->inflight;
    delete call;
    --inflightTotal_;
  });
}

void PeerClients::drain(int timeoutMs) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  while ((inflightTotal_.load() > 0 || queuedTotal_.load() > 0) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace egw
