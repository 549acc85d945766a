#pragma once
// An in-process agent API for tests: the fake ClusterBackend (tests/fakes/fake_cluster_backend.h),
// a real EventStore on a temp dir, the real ClusterService on a loopback gRPC server (port 0). Used
// by the api and ctl tests.
#include <QTemporaryDir>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "fakes/fake_cluster_backend.h"
#include "agent/api/cluster_service.h"

namespace egwtest {

namespace v1 = egressgw::v1;

// One agent's API; restartable on the same state dir (a new port each time).
struct ApiServer {
  QTemporaryDir dir;
  FakeBackend backend;
  egw::ClusterService::Limits limits;
  std::unique_ptr<egw::EventStore> store;
  std::unique_ptr<egw::ClusterService> service;
  egw::GrpcServer grpc;

  // port 0: any free port; a fixed port to come back where a client expects the agent.
  bool start(int port = 0) {
    auto s = egw::EventStore::open(dir.path().toStdString(), "egress-1", egw::FlushPolicy::None);
    if (!s.ok()) return false;
    store = std::move(s).value();
    service = std::make_unique<egw::ClusterService>(backend, *store, limits);
    auto r = egw::startGrpcServer("127.0.0.1:" + std::to_string(port), {service.get()});
    if (!r.ok()) return false;
    grpc = std::move(r).value();
    return true;
  }
  void stop() {
    if (!service) return;
    service->shutdown();
    grpc.server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    grpc.server.reset();
    service.reset();
    store.reset();
  }
  ~ApiServer() { stop(); }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(grpc.port); }
  std::unique_ptr<v1::Cluster::Stub> stub() const {
    return v1::Cluster::NewStub(grpc::CreateChannel(endpoint(), grpc::InsecureChannelCredentials()));
  }
};

inline void setDeadline(grpc::ClientContext& ctx, int ms = 5000) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(ms));
}

}  // namespace egwtest
