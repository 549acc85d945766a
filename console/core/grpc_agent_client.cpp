#include "console/core/grpc_agent_client.h"

#include <grpc/grpc.h>
#include <grpcpp/grpcpp.h>

#include <QtCore/QTimer>

#include <chrono>
#include <functional>
#include <map>
#include <condition_variable>
#include <mutex>

#include "console/core/proto_convert.h"
#include "egressgw/v1/cluster.grpc.pb.h"
#include "egw/result.h"
#include "egw/tls_files.h"
#include "egw/version.h"

namespace pb = egressgw::v1;

namespace egw::console {
namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString describe(const grpc::Status& s) {
  static const char* const names[] = {"OK",           "CANCELLED",         "UNKNOWN",     "INVALID_ARGUMENT",
                                      "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS", "PERMISSION_DENIED",
                                      "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                      "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE", "DATA_LOSS",
                                      "UNAUTHENTICATED"};
  const int code = s.error_code();
  const QString name = code >= 0 && code <= 16 ? QLatin1String(names[code]) : QString::number(code);
  return s.error_message().empty() ? name : QStringLiteral("%1: %2").arg(name, qs(s.error_message()));
}

// Channels are shared process-wide and never destroyed. gRPC 1.51 tears its shared callback
// queue down when the last channel that used it is destroyed, and a channel created while that
// teardown runs aborts in grpc_cq_internal_unref ("prior > 0"); replacing the client (profile
// switch, tests) did exactly that. Idle channels cost little; there is one per endpoint used.
std::shared_ptr<grpc::Channel> sharedChannel(const std::string& key,
                                             const std::function<std::shared_ptr<grpc::Channel>()>& make) {
  static auto* mu = new std::mutex;
  static auto* pool = new std::map<std::string, std::shared_ptr<grpc::Channel>>;
  std::lock_guard lock(*mu);
  auto it = pool->find(key);
  if (it == pool->end()) it = pool->emplace(key, make()).first;
  return it->second;
}

}  // namespace

TlsOptions TlsOptions::fromDir(const QString& dir) {
  const auto files = egw::clientTlsFiles(dir.toStdString());
  TlsOptions o;
  o.caPath = QString::fromStdString(files.ca);
  o.certPath = QString::fromStdString(files.cert);
  o.keyPath = QString::fromStdString(files.key);
  return o;
}

// Hands work from gRPC threads to the client's thread. After detach() nothing more is posted;
// work already posted is dropped by Qt when the client is destroyed.
class Bridge {
 public:
  explicit Bridge(GrpcAgentClient* target) : target_(target) {}
  template <typename F>
  void post(F&& f) {
    std::lock_guard lock(mu_);
    if (target_ != nullptr) QMetaObject::invokeMethod(target_, std::forward<F>(f), Qt::QueuedConnection);
  }
  void detach() {
    std::lock_guard lock(mu_);
    target_ = nullptr;
  }

 private:
  std::mutex mu_;
  GrpcAgentClient* target_;
};

struct GrpcAgentClient::Impl {
  // One channel per endpoint for the client's lifetime; gRPC reconnects it underneath.
  struct Endpoint {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<pb::Cluster::Stub> stub;
  };

  // One Watch call. Keeps itself alive until OnDone, the last callback; the client may still hold
  // a reference to cancel it.
  class WatchReactor final : public grpc::ClientReadReactor<pb::WatchUpdate> {
   public:
    WatchReactor(std::shared_ptr<Bridge> bridge, Impl* impl, quint64 generation,
                 std::shared_ptr<grpc::Channel> channel)
        : channel_(std::move(channel)), bridge_(std::move(bridge)), impl_(impl), generation_(generation) {}

    static std::shared_ptr<WatchReactor> open(const Endpoint& ep, quint64 since, std::shared_ptr<Bridge> bridge,
                                              Impl* impl, quint64 generation) {
      auto r = std::make_shared<WatchReactor>(std::move(bridge), impl, generation, ep.channel);
      r->self_ = r;
      r->request_.set_since_seq(since);
      r->request_.set_deltas(true);  // an agent from before deltas ignores this and sends `state`
      ep.stub->async()->Watch(&r->context_, &r->request_, r.get());
      r->StartRead(&r->update_);
      r->StartCall();
      return r;
    }

    void cancel() { context_.TryCancel(); }

    // Waits for OnDone after cancel(); bounded because it only waits for gRPC's own cleanup.
    void waitDone(std::chrono::milliseconds limit) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, limit, [this] { return done_; });
    }

    void OnReadDone(bool ok) override {
      if (!ok) return;  // the stream is over; OnDone follows with the status
      bridge_->post([impl = impl_, gen = generation_, update = update_] { impl->onUpdate(gen, update); });
      StartRead(&update_);
    }

    void OnDone(const grpc::Status& status) override {
      bridge_->post([impl = impl_, gen = generation_, detail = describe(status)] { impl->onStreamDone(gen, detail); });
      std::shared_ptr<WatchReactor> keep = std::move(self_);  // may be the last reference
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
    }

   private:
    // Declared first, destroyed last: a channel must outlive every call on it (its destructor
    // shuts down the callback queue the call still uses).
    std::shared_ptr<grpc::Channel> channel_;
    std::shared_ptr<Bridge> bridge_;
    Impl* impl_;  // only dereferenced on the client's thread, through the bridge
    quint64 generation_;
    grpc::ClientContext context_;
    pb::WatchRequest request_;
    pb::WatchUpdate update_;
    std::shared_ptr<WatchReactor> self_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
  };

  Impl(GrpcAgentClient* q, ClientOptions o)
      : q(q), options(std::move(o)), schedule(options.endpoints, options.backoff),
        bridge(std::make_shared<Bridge>(q)) {
    reconnectTimer.setSingleShot(true);
    snapshotTimer.setSingleShot(true);
    QObject::connect(&reconnectTimer, &QTimer::timeout, q, [this] { connectNow(); });
    QObject::connect(&snapshotTimer, &QTimer::timeout, q, [this] { onSnapshotTimeout(); });
  }

  void setState(ConnectionState s, const QString& detail) {
    state = s;
    emit q->connectionStateChanged(s, schedule.current(), detail);
  }

  Result<std::shared_ptr<grpc::ChannelCredentials>> credentials() const {
    if (!options.tls.enabled()) return grpc::InsecureChannelCredentials();
    auto pem = egw::readClientTls(ClientTlsFiles{options.tls.caPath.toStdString(), options.tls.certPath.toStdString(),
                                                 options.tls.keyPath.toStdString()});
    if (!pem) return Error{"TLS: " + pem.error()};
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem->ca;
    ssl.pem_cert_chain = pem->cert;  // empty without a client certificate
    ssl.pem_private_key = pem->key;
    return grpc::SslCredentials(ssl);
  }

  const Endpoint* endpointFor(const QString& endpoint) {
    if (auto it = channels.constFind(endpoint); it != channels.cend()) return it->get();
    auto creds = credentials();
    if (!creds) {
      lastError = qs(creds.error());
      return nullptr;
    }
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, options.connectTimeoutMs);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.backoff.initialMs);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.backoff.maxMs);
    auto e = std::make_shared<Endpoint>();
    const std::string key = QStringLiteral("%1|%2|%3|%4|%5|%6|%7")
                                .arg(endpoint, options.tls.caPath, options.tls.certPath, options.tls.keyPath)
                                .arg(options.connectTimeoutMs)
                                .arg(options.backoff.initialMs)
                                .arg(options.backoff.maxMs)
                                .toStdString();
    e->channel = sharedChannel(key, [&] { return grpc::CreateCustomChannel(endpoint.toStdString(), *creds, args); });
    e->stub = pb::Cluster::NewStub(e->channel);
    channels.insert(endpoint, e);
    return e.get();
  }

  void connectNow() {
    if (stopped) return;
    if (schedule.endpoints().isEmpty()) {
      setState(ConnectionState::Backoff, QStringLiteral("no agent endpoint configured"));
      return;
    }
    const QString ep = schedule.current();
    ++generation;
    const Endpoint* e = endpointFor(ep);
    if (e == nullptr) {
      fail(lastError);
      return;
    }
    const quint64 since = cursors.value(ep, 0);
    reactor = WatchReactor::open(*e, since, bridge, this, generation);
    haveSnapshot = false;
    snapshotTimer.start(options.snapshotTimeoutMs);
    setState(ConnectionState::Connecting, since == 0 ? QStringLiteral("opening Watch")
                                                     : QStringLiteral("resuming Watch after cursor %1").arg(since));
  }

  // The current stream is unusable: drop it and schedule the next attempt (next endpoint).
  void fail(const QString& detail, ConnectionState s = ConnectionState::Backoff) {
    snapshotTimer.stop();
    if (reactor) {
      reactor->cancel();
      reactor.reset();
    }
    ++generation;  // anything still queued from the old stream is ignored
    const QString failed = schedule.current();
    const int delay = schedule.fail();
    const QString next = schedule.current();
    QString text = QStringLiteral("%1 — retrying %2 in %3").arg(detail, next, formatDuration(delay));
    if (failed != next) text = QStringLiteral("%1: %2").arg(failed, text);
    state = s;
    emit q->connectionStateChanged(s, failed, text);
    reconnectTimer.start(delay);
  }

  // False (and the stream failed) when the agent speaks another protocol.
  bool compatible(const pb::ClusterState& st) {
    if (st.protocol() == egw::kProtocolVersion) return true;
    fail(QStringLiteral("agent %1 speaks protocol %2, console speaks %3")
             .arg(st.served_by().empty() ? schedule.current() : qs(st.served_by()))
             .arg(st.protocol())
             .arg(egw::kProtocolVersion),
         ConnectionState::Incompatible);
    return false;
  }

  void onUpdate(quint64 gen, const pb::WatchUpdate& u) {
    if (gen != generation || stopped) return;
    switch (u.kind_case()) {
      case pb::WatchUpdate::kSnapshot:
      case pb::WatchUpdate::kState: {
        const pb::ClusterState& st = u.kind_case() == pb::WatchUpdate::kSnapshot ? u.snapshot() : u.state();
        if (!compatible(st)) return;
        current = fromProto(st);
        if (!haveSnapshot) {
          haveSnapshot = true;
          snapshotTimer.stop();
          schedule.succeeded();
          setState(ConnectionState::Streaming, QStringLiteral("served by %1").arg(current.servedBy));
          emit q->snapshotReceived(current);
        } else {
          emit q->stateUpdated(current);
        }
        break;
      }
      case pb::WatchUpdate::kDelta:
        if (!haveSnapshot) {  // the agent breaks the protocol: a delta needs a state to apply to
          fail(QStringLiteral("a state delta before the snapshot"));
          return;
        }
        if (!compatible(u.delta().header())) return;
        current.apply(fromProto(u.delta()));  // only the changed nodes are converted
        emit q->stateUpdated(current);
        break;
      case pb::WatchUpdate::kEvent:
        // The resume point is the last *event* cursor: resuming there can neither skip an event
        // (whatever a snapshot's cursor means) nor repeat one.
        cursors[schedule.current()] = u.cursor();
        emit q->eventReceived(fromProto(u.event()), u.cursor());
        break;
      case pb::WatchUpdate::KIND_NOT_SET:
        break;
    }
  }

  void onStreamDone(quint64 gen, const QString& detail) {
    if (gen != generation || stopped) return;
    reactor.reset();
    fail(QStringLiteral("stream ended: %1").arg(detail));
  }

  void onSnapshotTimeout() {
    if (stopped || haveSnapshot) return;
    fail(QStringLiteral("no snapshot within %1").arg(formatDuration(options.snapshotTimeoutMs)));
  }

  template <typename Req, typename Resp, typename Start>
  void unary(Action action, const QString& target, Req request, Start start) {
    const Endpoint* e = stopped ? nullptr : endpointFor(schedule.current());
    if (e == nullptr) {
      emit q->actionFinished(ActionResult{action, target, false,
                                          stopped ? QStringLiteral("not connected") : lastError, {}, {}, {}});
      return;
    }
    struct Call {
      std::shared_ptr<grpc::Channel> channel;  // first: outlives the context's call
      grpc::ClientContext context;
      Req request;
      Resp response;
    };
    auto call = std::make_shared<Call>();
    call->channel = e->channel;
    call->request = std::move(request);
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options.callTimeoutMs));
    start(e->stub.get(), &call->context, &call->request, &call->response,
          [call, b = bridge, q = q, action, target](grpc::Status status) {
            ActionResult r{action, target, false, {}, {}, {}, {}};
            if (!status.ok()) {
              r.message = describe(status);
            } else if constexpr (std::is_same_v<Resp, pb::ProbeAllowlistResponse>) {
              r.ok = true;  // the probe ran; its outcome is the verdict
              r.message = qs(call->response.detail());
              r.verdict = fromProto(call->response.verdict());
              r.egressIp = qs(call->response.egress_ip());
            } else {
              r.ok = call->response.ok();
              r.message = qs(call->response.message());
              if constexpr (std::is_same_v<Resp, pb::HandoverResponse>) r.newMaster = qs(call->response.new_master());
            }
            b->post([q, r] { emit q->actionFinished(r); });
          });
  }

  GrpcAgentClient* q;
  ClientOptions options;
  ReconnectSchedule schedule;
  std::shared_ptr<Bridge> bridge;
  QHash<QString, std::shared_ptr<Endpoint>> channels;
  std::shared_ptr<WatchReactor> reactor;
  QHash<QString, quint64> cursors;
  ClusterSnapshot current;  // the stream's state: its snapshot with every update applied
  QTimer reconnectTimer;
  QTimer snapshotTimer;
  QString lastError;
  ConnectionState state = ConnectionState::Idle;
  quint64 generation = 0;
  bool haveSnapshot = false;
  bool stopped = false;
};

GrpcAgentClient::GrpcAgentClient(ClientOptions options, QObject* parent) : AgentClient(parent) {
  // gRPC shuts itself down when its last object goes and initialises again on the next one; a
  // re-init racing the previous shutdown's threads aborts (seen when a profile switch replaced
  // the client). Holding one reference for the process's lifetime avoids the cycle.
  static const bool grpcHeld = [] {
    grpc_init();
    return true;
  }();
  Q_UNUSED(grpcHeld);
  d_ = std::make_unique<Impl>(this, std::move(options));
}

GrpcAgentClient::~GrpcAgentClient() {
  d_->bridge->detach();
  d_->stopped = true;
  if (d_->reactor) {
    d_->reactor->cancel();
    d_->reactor->waitDone(std::chrono::seconds(2));
  }
}

void GrpcAgentClient::start() {
  d_->stopped = false;
  if (!d_->reactor && !d_->reconnectTimer.isActive()) d_->connectNow();
}

void GrpcAgentClient::stop() {
  if (d_->stopped) return;
  d_->stopped = true;
  d_->reconnectTimer.stop();
  d_->snapshotTimer.stop();
  ++d_->generation;
  if (d_->reactor) {
    d_->reactor->cancel();
    d_->reactor.reset();
  }
  d_->setState(ConnectionState::Stopped, QStringLiteral("stopped"));
}

void GrpcAgentClient::handover(const QString& to) {
  pb::HandoverRequest req;
  req.set_to(to.toStdString());
  d_->unary<pb::HandoverRequest, pb::HandoverResponse>(
      Action::Handover, to, std::move(req), [](pb::Cluster::Stub* s, auto* ctx, auto* rq, auto* rs, auto cb) {
        s->async()->Handover(ctx, rq, rs, std::move(cb));
      });
}

void GrpcAgentClient::setCandidacy(const QString& node, bool enable, bool force, const QString& reason) {
  pb::SetCandidacyRequest req;
  req.set_node(node.toStdString());
  req.set_enable(enable);
  req.set_force(force);
  req.set_reason(reason.toStdString());
  d_->unary<pb::SetCandidacyRequest, pb::SetCandidacyResponse>(
      Action::SetCandidacy, node, std::move(req), [](pb::Cluster::Stub* s, auto* ctx, auto* rq, auto* rs, auto cb) {
        s->async()->SetCandidacy(ctx, rq, rs, std::move(cb));
      });
}

void GrpcAgentClient::probeAllowlist(const QString& node) {
  pb::ProbeAllowlistRequest req;
  req.set_node(node.toStdString());
  d_->unary<pb::ProbeAllowlistRequest, pb::ProbeAllowlistResponse>(
      Action::ProbeAllowlist, node, std::move(req), [](pb::Cluster::Stub* s, auto* ctx, auto* rq, auto* rs, auto cb) {
        s->async()->ProbeAllowlist(ctx, rq, rs, std::move(cb));
      });
}

ConnectionState GrpcAgentClient::connectionState() const { return d_->state; }
QString GrpcAgentClient::currentEndpoint() const { return d_->schedule.current(); }
quint64 GrpcAgentClient::resumeCursor(const QString& endpoint) const { return d_->cursors.value(endpoint, 0); }

}  // namespace egw::console
