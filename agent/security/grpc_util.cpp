#include "agent/security/grpc_util.h"

#include <string_view>
#include <utility>

#include "egw/tls_files.h"

namespace egw {

TlsPem readTlsPem(const TlsConfig& tls) {
  TlsPem pem;
  auto read = [&](const std::string& path, std::string_view what, std::string& into) {
    auto r = readPemFile(path, what);
    if (r) into = std::move(r).value();
    else pem.problems.push_back(r.error());
  };
  read(tls.ca, "tls.ca, the cluster CA", pem.ca);
  read(tls.cert, "tls.cert, this node's certificate", pem.cert);
  read(tls.key, "tls.key, its private key", pem.key);
  return pem;
}

namespace {
// The three files for either side of a connection; fails with the first that cannot be read.
Result<TlsPem> readPem(const TlsConfig& tls) {
  auto pem = readTlsPem(tls);
  if (!pem.problems.empty()) return Error{pem.problems.front()};
  return pem;
}
}  // namespace

Result<std::shared_ptr<grpc::ServerCredentials>> serverCredentials(const std::optional<TlsConfig>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  auto pem = readPem(*tls);
  if (!pem) return Result<std::shared_ptr<grpc::ServerCredentials>>::failure(pem.error());
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = pem->ca;
  opts.pem_key_cert_pairs.push_back({pem->key, pem->cert});
  return grpc::SslServerCredentials(opts);
}

Result<std::shared_ptr<grpc::ChannelCredentials>> channelCredentials(const std::optional<TlsConfig>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  auto pem = readPem(*tls);
  if (!pem) return Result<std::shared_ptr<grpc::ChannelCredentials>>::failure(pem.error());
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = pem->ca;
  opts.pem_private_key = pem->key;
  opts.pem_cert_chain = pem->cert;
  return grpc::SslCredentials(opts);
}

grpc::ChannelArguments channelArguments(int maxBackoffMs) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::max(20, maxBackoffMs / 4));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::max(20, maxBackoffMs / 4));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, std::max(50, maxBackoffMs));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, kPeerMaxMessageBytes);
  // Peers are addressed by IP; a subchannel per peer, never shared across agents' channels.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return args;
}

Result<GrpcServer> startGrpcServer(const std::string& address, const std::vector<grpc::Service*>& services,
                                   std::shared_ptr<grpc::ServerCredentials> creds, int maxReceiveBytes,
                                   const std::string& key) {
  grpc::ServerBuilder b;
  GrpcServer out;
  b.AddListeningPort(address, creds ? creds : grpc::InsecureServerCredentials(), &out.port);
  b.SetMaxReceiveMessageSize(maxReceiveBytes);
  // gRPC sets SO_REUSEPORT by default: a second agent on the same port would share it silently.
  b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  for (auto* s : services) b.RegisterService(s);
  out.server = b.BuildAndStart();
  if (!out.server || out.port == 0)
    return Error{key + ": cannot listen on " + address + " (address in use or not local?)"};
  return out;
}

}  // namespace egw
