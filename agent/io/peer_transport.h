#pragma once
// The Peer gRPC service (server side, callback API) and fire-and-forget sends to peers.
// Replies travel as separate messages, so a send never waits for the state machine.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "egressgw/v1/peer.grpc.pb.h"

namespace egw {

class PeerService final : public egressgw::v1::Peer::CallbackService {
 public:
  // Called on a gRPC thread with the message and the transport peer ("ipv4:1.2.3.4:5678").
  // Returns an error text to reject (the sender sees it in Ack), empty to accept.
  using Handler = std::function<std::string(egressgw::v1::ElectionMessage&&, const std::string& peer)>;
  explicit PeerService(Handler h) : handler_(std::move(h)) {}

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const egressgw::v1::ElectionMessage* req,
                                 egressgw::v1::Ack* resp) override;

 private:
  Handler handler_;
};

class PeerClients {
 public:
  PeerClients(std::shared_ptr<grpc::ChannelCredentials> creds, int deadlineMs, int maxBackoffMs);
  ~PeerClients();
  // Asynchronous; drops the message (and counts it) when too many are in flight to `endpoint`.
  void send(const std::string& endpoint, egressgw::v1::ElectionMessage msg);
  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t dropped() const { return dropped_; }
  // Waits (bounded) until in-flight sends have finished; used at shutdown.
  void drain(int timeoutMs);

 private:
  struct Target {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<egressgw::v1::Peer::Stub> stub;
    std::atomic<int> inflight{0};
  };
  Target& target(const std::string& endpoint);

  std::shared_ptr<grpc::ChannelCredentials> creds_;
  int deadlineMs_;
  int maxBackoffMs_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Target>> targets_;
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::atomic<int> inflightTotal_{0};
};

}  // namespace egw
