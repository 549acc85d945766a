#pragma once
// The client side of the TLS layout, shared by egressctl and the console (--tls-dir DIR):
//
//   DIR/ca.pem          the cluster CA (verifies the agents)
//   DIR/client.pem      this client's certificate (OU=operator or OU=viewer: its role)
//   DIR/client-key.pem  its private key
//
// scripts/make-certs.sh writes exactly this for `operator NAME` and `viewer NAME`
// (DIR = certs/NAME). docs/security.md.
#include <string>

#include "egw/result.h"

namespace egw {

struct ClientTlsFiles {
  std::string ca, cert, key;  // paths
};
struct ClientTlsPem {
  std::string ca, cert, key;  // contents
};

// The three paths in `dir`.
ClientTlsFiles clientTlsFiles(const std::string& dir);
// Reads all three. Fails naming the first file that is missing or unreadable, and what it is
// for, e.g. "certs/alice/client.pem (the client certificate): No such file or directory; ...".
Result<ClientTlsPem> readClientTls(const std::string& dir);

}  // namespace egw
