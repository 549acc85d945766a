#pragma once
// What the agent checks in its `tls` files before it listens: a TLS problem found at start
// names the key and the file, instead of showing up later as peers that cannot connect.
// (`--check` validates the config alone, so configs can be checked where the certificates are
// not, e.g. in CI or before a Kubernetes secret is mounted.) docs/security.md.
#include <string>
#include <vector>

#include "egw/config.h"

namespace egw {

// Problems with `tls` for node `nodeName`: a file that cannot be read or holds no PEM ("<file>
// (tls.<key>, what it is for): why", readTlsPem), and each "tls.<key>: <file>: what": a file that
// cannot be parsed, a key that does not belong to the certificate, a certificate that the CA did
// not sign or that is not valid now, or whose subject is not CN=<node.name>, OU=node (the
// identity peers check). An `observer` (neither voter nor candidate) may instead hold the
// workers' shared certificate, OU=observer with any CN. Empty when all is well. `orgUnit`, when
// given, receives the certificate's OU ("node", "observer").
std::vector<std::string> checkTlsFiles(const TlsConfig& tls, const std::string& nodeName, bool observer = false,
                                       std::string* orgUnit = nullptr);

}  // namespace egw
