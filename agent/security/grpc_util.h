#pragma once
// gRPC plumbing shared by the agent's listeners and clients: credentials from the `tls` settings
// (one place, so every listener takes the same TLS settings) and channel arguments tuned for
// fast reconnects to a peer that restarted.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "egw/config.h"
#include "egw/result.h"

namespace egw {

// Receive limits. A peer message is a heartbeat with the cluster view and at most 64 events: a
// few KiB, some hundred KiB in a large cluster. Cluster API requests are a few bytes.
inline constexpr int kPeerMaxMessageBytes = 4 * 1024 * 1024;
inline constexpr int kApiMaxRequestBytes = 64 * 1024;

// The three `tls` files, each read by egw::readPemFile (egw/tls_files.h) and named in a failure
// by its key and what it is for: "PATH (tls.cert, this node's certificate): No such file or
// directory", or "...: not a PEM file".
struct TlsPem {
  std::string ca, cert, key;          // contents; empty for a file that could not be read
  std::vector<std::string> problems;  // one per file that could not be read, in that order
};
TlsPem readTlsPem(const TlsConfig& tls);

// With tls: mutual TLS (the server requires and verifies client certificates against tls.ca;
// the client presents tls.cert). Without: insecure credentials. Fails naming the unreadable file.
Result<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(const std::optional<TlsConfig>& tls);
Result<std::shared_ptr<grpc::ChannelCredentials>> channelCredentials(const std::optional<TlsConfig>& tls);
// Reconnect backoff capped near the election timeout: a restarted peer is reachable again in
// well under a second instead of gRPC's default of up to two minutes.
grpc::ChannelArguments channelArguments(int maxBackoffMs);

struct GrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the bound port (useful with port 0)
};
// The one way a gRPC server is started (the agent's peer and API listeners, tests' fakes):
// `address` ("127.0.0.1:0" picks a free port), the services, credentials (insecure when null),
// a receive limit, and SO_REUSEPORT off so that a second agent on the same port fails instead of
// sharing it silently. The error names `key` (the config key of the address, e.g. "listen.api").
Result<GrpcServer> startGrpcServer(const std::string& address, const std::vector<grpc::Service*>& services,
                                   std::shared_ptr<grpc::ServerCredentials> creds = nullptr,
                                   int maxReceiveBytes = kApiMaxRequestBytes, const std::string& key = "listen.api");

}  // namespace egw
