#pragma once
// The Peer gRPC service (server side, callback API) and fire-and-forget sends to peers.
// Replies travel as separate messages, so a send never waits for the state machine.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "egressgw/v1/peer.grpc.pb.h"
#include "agent/core/ports.h"
#include "agent/security/auth.h"
#include "agent/security/limiter.h"

namespace egw {

// What a message claims, for auth::authorizePeer: its sender, and whether it is an observer's
// report about itself only (status role OBSERVER, no vote, no candidacy, no relayed view, only
// its own events).
auth::PeerClaim peerClaim(const egressgw::v1::ElectionMessage& m);

class PeerService final : public egressgw::v1::Peer::CallbackService {
 public:
  // Called on a gRPC thread with the message and the transport peer ("ipv4:1.2.3.4:5678").
  // Returns an error text to reject (the sender sees it in Ack), empty to accept.
  using Handler = std::function<std::string(egressgw::v1::ElectionMessage&&, const std::string& peer)>;
  // With TLS, after the certificate check: may this node speak to us at all (a configured voter
  // or a joined member; a status report is how a node joins)? Non-OK (PERMISSION_DENIED) goes
  // back to the caller as the call's status. Called on a gRPC thread.
  using Admission = std::function<grpc::Status(const egressgw::v1::ElectionMessage&, const auth::Identity&)>;
  // Refusals (the handler's, and with TLS the certificate's and `admit`'s) are logged with
  // `self`, a few lines per caller and second.
  explicit PeerService(Handler h, std::string self = {}) : handler_(std::move(h)), self_(std::move(self)) {}
  // TLS: every call needs a node certificate whose CN is the message's `from`, or an observer
  // certificate and an observer's report about itself (auth::authorizePeer), then `admit`.
  PeerService(Handler h, std::string self, Admission admit)
      : handler_(std::move(h)), self_(std::move(self)), admit_(std::move(admit)), certificatesRequired_(true) {}

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const egressgw::v1::ElectionMessage* req,
                                 egressgw::v1::Ack* resp) override;
  std::uint64_t refused() const { return refused_; }

 private:
  Handler handler_;
  std::string self_;  // for log lines
  Admission admit_;
  bool certificatesRequired_ = false;
  std::atomic<std::uint64_t> refused_{0};
  std::mutex logMu_;
  TokenBuckets logRate_{1.0, 5.0};
  bool logAllowed(const std::string& key);
};

class PeerClients final : public ports::PeerTransport {
 public:
  // Makes the channel to a target; the default is grpc::CreateCustomChannel. Tests replace it.
  using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>(
      const std::string& endpoint, const std::shared_ptr<grpc::ChannelCredentials>& creds, const grpc::ChannelArguments& args)>;

  // With `verifyNodeName` (TLS) the server's certificate must be valid for the node name the
  // message is addressed to (msg.to(), checked against its SAN DNS name; or the serverName a
  // send gives, "observer" for the workers' shared certificate), not just for the endpoint's
  // address: a send to egress-2 reaches egress-2 or nobody.
  PeerClients(std::shared_ptr<grpc::ChannelCredentials> creds, int deadlineMs, int maxBackoffMs,
              bool verifyNodeName = false, ChannelFactory factory = {});
  ~PeerClients() override;
  // Asynchronous, and never blocks on a new target: the first send to an endpoint queues the
  // message, and a thread of ours makes the channel (a new master telling a few hundred
  // observers held the loop thread, and its heartbeats, while it made theirs; docs/bench-scale.md).
  // Drops the message (and counts it) when too many are in flight or queued to `endpoint`.
  void send(const std::string& endpoint, egressgw::v1::ElectionMessage msg, const std::string& serverName) override;
  std::uint64_t sent() const { return sent_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t dropped() const { return dropped_; }
  // Waits (bounded) until queued and in-flight sends have finished; used at shutdown.
  void drain(int timeoutMs);
  // How long a message may take, connection set-up included. Election messages (votes,
  // heartbeats, their answers) are worth nothing after about an election timeout: `deadlineMs`.
  // Membership messages (an observer's report, a MASTER_UPDATE) stay useful for seconds, and a
  // new master sends hundreds of them at once over connections it has yet to open: at least
  // 2 s, or 4 election timeouts.
  static int deadlineFor(egressgw::v1::MessageType type, int deadlineMs);

 private:
  static constexpr int kMaxInflight = 64;  // per target, queued for its channel included
  struct Target {
    std::string endpoint, serverName;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<egressgw::v1::Peer::Stub> stub;  // null until the maker thread made it
    std::vector<egressgw::v1::ElectionMessage> queued;  // sent as soon as the stub exists
    std::atomic<int> inflight{0};
  };
  void dispatch(Target& t, egressgw::v1::Peer::Stub& stub, egressgw::v1::ElectionMessage msg);
  void makeChannels();  // the maker thread
  void noteRefusal(const egressgw::v1::ElectionMessage& req, const std::string& endpoint, const grpc::Status& s,
                   const std::string& ackError);

  std::shared_ptr<grpc::ChannelCredentials> creds_;
  bool verifyNodeName_;
  int deadlineMs_;
  int maxBackoffMs_;
  ChannelFactory factory_;
  std::mutex mu_;
  std::condition_variable makeCv_;
  std::map<std::string, std::unique_ptr<Target>> targets_;
  std::deque<Target*> toMake_;
  bool stopping_ = false;
  TokenBuckets refusalLogRate_{1.0, 3.0};
  std::atomic<std::uint64_t> sent_{0}, failed_{0}, dropped_{0};
  std::atomic<int> inflightTotal_{0}, queuedTotal_{0};
  std::thread maker_;
};

}  // namespace egw
