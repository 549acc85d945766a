// A deliberate data race for the TSan run to find (tests/sanitizers/CMakeLists.txt).
// A gRPC callback server writes `g_seen` on one of gRPC's threads; a thread of ours reads it with
// no synchronization at all. One unary call on loopback, then exit. A TSan run that does not
// report this race cannot see races in our gRPC callbacks either.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "egressgw/v1/peer.grpc.pb.h"

namespace {

int g_seen = 0;  // the race: written by the handler, read by `watcher`, never synchronized

class Canary final : public egressgw::v1::Peer::CallbackService {
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const egressgw::v1::ElectionMessage*,
                                 egressgw::v1::Ack* resp) override {
    g_seen = 1;
    resp->set_accepted(true);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
};

}  // namespace

int main() {
  Canary service;
  int port = 0;
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  b.RegisterService(&service);
  auto server = b.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "tsan_canary: cannot listen on 127.0.0.1\n");
    return 2;
  }
  // Started before the call, so nothing the call does orders the handler's write before its read.
  std::thread watcher([] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < until) {
      if (g_seen != 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto stub = egressgw::v1::Peer::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  egressgw::v1::ElectionMessage req;
  egressgw::v1::Ack resp;
  grpc::Status st = stub->Send(&ctx, req, &resp);
  watcher.join();
  server->Shutdown();
  std::printf("tsan_canary: call %s\n", st.ok() ? "ok" : st.error_message().c_str());
  return st.ok() ? 0 : 1;
}
