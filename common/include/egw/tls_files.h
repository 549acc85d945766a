#pragma once
// PEM files, read in one place for the agent's `tls` settings, egressctl and the console.
//
// The client side of the TLS layout, shared by egressctl and the console (--tls-dir DIR):
//
//   DIR/ca.pem          the cluster CA (verifies the agents)
//   DIR/client.pem      this client's certificate (OU=operator or OU=viewer: its role)
//   DIR/client-key.pem  its private key
//
// scripts/make-certs.sh writes exactly this for `operator NAME` and `viewer NAME`
// (DIR = certs/NAME). docs/security.md.
#include <string>
#include <string_view>

#include "egw/result.h"

namespace egw {

// One PEM file's contents. `what` says what the file is for, and a failure names it with the
// path: "certs/alice/client.pem (the client certificate): No such file or directory", or
// "...: not a PEM file" when it holds no "-----BEGIN " line.
Result<std::string> readPemFile(const std::string& path, std::string_view what);

struct ClientTlsFiles {
  std::string ca, cert, key;  // paths
};
struct ClientTlsPem {
  std::string ca, cert, key;  // contents
};

// The three paths in `dir`.
ClientTlsFiles clientTlsFiles(const std::string& dir);
// Reads the CA, and the certificate and its key when `cert` is set (without them: TLS that only
// verifies the agent). Fails naming the first file that is missing or unreadable and what it is
// for, e.g. "certs/alice/client.pem (the client certificate): No such file or directory; ...".
Result<ClientTlsPem> readClientTls(const ClientTlsFiles& files);
Result<ClientTlsPem> readClientTls(const std::string& dir);  // all three of clientTlsFiles(dir)

}  // namespace egw
