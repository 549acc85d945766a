#pragma once
// AgentClient over gRPC (cluster.proto). The Watch stream is a ClientReadReactor; its callbacks run
// on gRPC's threads, copy each message and hand it to this object's thread with a queued call.
// Fails over between endpoints, reconnects with capped exponential backoff and resumes Watch
// from the last event cursor seen at that endpoint.
#include <QtCore/QHash>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <memory>

#include "console/core/agent_client.h"
#include "console/core/backoff.h"

namespace egw::console {

// TLS: with caPath set the channel uses grpc::SslCredentials (mutual TLS when cert and key are
// set too; the agents require it, and the certificate's role decides what the console may do:
// docs/security.md); otherwise insecure credentials.
struct TlsOptions {
  QString caPath;
  QString certPath;
  QString keyPath;
  bool enabled() const { return !caPath.isEmpty(); }
  // DIR/ca.pem, DIR/client.pem, DIR/client-key.pem: the layout egressctl --tls-dir and
  // scripts/make-certs.sh use (egw/tls_files.h). A missing file is reported, by name, on connect.
  static TlsOptions fromDir(const QString& dir);
};

struct ClientOptions {
  QStringList endpoints;
  TlsOptions tls;
  BackoffPolicy backoff;
  int snapshotTimeoutMs = 5'000;  // no snapshot within this after opening Watch: try the next agent
  int callTimeoutMs = 10'000;     // deadline of Handover / SetCandidacy / ProbeAllowlist
  int connectTimeoutMs = 3'000;   // gRPC's minimum connect timeout (GRPC_ARG_MIN_RECONNECT_BACKOFF_MS)
};

class GrpcAgentClient final : public AgentClient {
  Q_OBJECT

 public:
  explicit GrpcAgentClient(ClientOptions options, QObject* parent = nullptr);
  // Cancels the stream and waits (briefly, no network involved) for its OnDone.
  ~GrpcAgentClient() override;

  void start() override;
  void stop() override;
  void handover(const QString& to) override;
  void setCandidacy(const QString& node, bool enable, bool force, const QString& reason) override;
  void probeAllowlist(const QString& node) override;
  ConnectionState connectionState() const override;
  QString currentEndpoint() const override;

  // The cursor Watch resumes from at `endpoint` (the last event cursor seen there).
  quint64 resumeCursor(const QString& endpoint) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> d_;
};

}  // namespace egw::console
