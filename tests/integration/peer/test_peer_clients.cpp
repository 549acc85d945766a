// PeerClients, the agent's sending side of the peer protocol, against a real Peer service on
// loopback: a send to a target without a channel never waits for the channel to be made (the
// loop thread sends; a new master telling hundreds of observers must keep its heartbeats going),
// what queued meanwhile arrives, and the per-target cap holds while queued.
#include <QTest>

#include <algorithm>
#include <future>
#include <mutex>
#include <vector>

#include "agent/peer/peer_transport.h"
#include "agent/security/grpc_util.h"

using namespace egw;
namespace pb = egressgw::v1;

namespace {

// Records what arrives.
struct Received {
  std::mutex mu;
  std::vector<std::uint64_t> terms;
  std::size_t count() {
    std::lock_guard lock(mu);
    return terms.size();
  }
};

// Generous: a sanitizer build on a loaded machine may take seconds to connect, and a call that
// runs out is lost (fire and forget); what these tests check is queueing, not speed.
constexpr int kDeadlineMs = 30'000;

pb::ElectionMessage message(std::uint64_t term) {
  pb::ElectionMessage m;
  m.set_type(pb::MASTER_UPDATE);
  m.set_from("egress-1");
  m.set_to("worker-1");
  m.set_term(term);
  return m;
}

}  // namespace

class TestPeerClients : public QObject {
  Q_OBJECT

  Received received_;
  std::unique_ptr<PeerService> service_;
  GrpcServer server_;
  std::string endpoint_;

 private slots:
  void init() {
    received_.terms.clear();
    service_ = std::make_unique<PeerService>([this](pb::ElectionMessage&& m, const std::string&) {
      std::lock_guard lock(received_.mu);
      received_.terms.push_back(m.term());
      return std::string();
    });
    auto s = startGrpcServer("127.0.0.1:0", {service_.get()}, nullptr, kPeerMaxMessageBytes, "listen.peer");
    QVERIFY2(s.ok(), s.ok() ? "" : s.error().c_str());
    server_ = std::move(*s);
    endpoint_ = "127.0.0.1:" + std::to_string(server_.port);
  }
  void cleanup() {
    server_.server->Shutdown();
    server_ = {};
    service_.reset();
  }

  void aNewTargetNeverHoldsTheSender() {
    // The channel factory waits until the test lets it go. Were channels made on the sender's
    // thread, the first send() below would never return and the test would time out.
    std::promise<void> release;
    auto released = release.get_future().share();
    std::atomic<int> made{0};
    PeerClients clients(grpc::InsecureChannelCredentials(), kDeadlineMs, 500, false,
                        [&](const std::string& ep, const std::shared_ptr<grpc::ChannelCredentials>& c,
                            const grpc::ChannelArguments& args) {
                          released.wait();
                          ++made;
                          return grpc::CreateCustomChannel(ep, c, args);
                        });
    for (std::uint64_t t = 1; t <= 3; ++t) clients.send(endpoint_, message(t), {});
    QCOMPARE(made.load(), 0);
    QCOMPARE(received_.count(), std::size_t(0));
    QCOMPARE(clients.sent(), std::uint64_t(0));  // queued, not yet on the wire

    release.set_value();
    clients.send(endpoint_, message(4), {});
    QTRY_COMPARE_WITH_TIMEOUT(received_.count(), std::size_t(4), 60'000);
    clients.send(endpoint_, message(5), {});
    QTRY_COMPARE_WITH_TIMEOUT(received_.count(), std::size_t(5), 60'000);
    // One channel for the target, nothing lost. (Separate unary calls are not ordered by gRPC,
    // queued or not; the protocol does not rely on it: terms and sequence numbers order.)
    QCOMPARE(made.load(), 1);
    std::lock_guard lock(received_.mu);
    std::sort(received_.terms.begin(), received_.terms.end());
    QCOMPARE(received_.terms, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
  }

  void membershipMessagesMayTakeLongerThanElectionMessages() {
    // A heartbeat is stale after an election timeout; a push to an observer over a connection
    // still being opened is not (it was lost at 300 ms when a new master told 330 at once).
    QCOMPARE(PeerClients::deadlineFor(pb::HEARTBEAT, 300), 300);
    QCOMPARE(PeerClients::deadlineFor(pb::VOTE, 300), 300);
    QCOMPARE(PeerClients::deadlineFor(pb::MASTER_UPDATE, 300), 2000);
    QCOMPARE(PeerClients::deadlineFor(pb::STATUS_REPORT, 300), 2000);
    QCOMPARE(PeerClients::deadlineFor(pb::MASTER_UPDATE, 1000), 4000);
  }

  void theCapHoldsWhileQueued() {
    std::promise<void> release;
    auto released = release.get_future().share();
    PeerClients clients(grpc::InsecureChannelCredentials(), kDeadlineMs, 500, false,
                        [&](const std::string& ep, const std::shared_ptr<grpc::ChannelCredentials>& c,
                            const grpc::ChannelArguments& args) {
                          released.wait();
                          return grpc::CreateCustomChannel(ep, c, args);
                        });
    for (std::uint64_t t = 1; t <= 70; ++t) clients.send(endpoint_, message(t), {});
    QCOMPARE(clients.dropped(), std::uint64_t(6));  // 64 queue for the channel
    release.set_value();
    QTRY_COMPARE_WITH_TIMEOUT(received_.count(), std::size_t(64), 60'000);
    clients.drain(60'000);
    QCOMPARE(clients.sent(), std::uint64_t(64));
  }
};

QTEST_GUILESS_MAIN(TestPeerClients)
#include "test_peer_clients.moc"
