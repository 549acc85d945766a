#include "egw/tls_files.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace egw {

ClientTlsFiles clientTlsFiles(const std::string& dir) {
  std::string d = dir.empty() ? std::string(".") : dir;
  if (d.back() != '/') d += '/';
  return {d + "ca.pem", d + "client.pem", d + "client-key.pem"};
}

Result<ClientTlsPem> readClientTls(const std::string& dir) {
  const auto files = clientTlsFiles(dir);
  ClientTlsPem out;
  struct Item {
    const std::string& path;
    std::string& into;
    const char* what;
  };
  for (auto [path, into, what] : {Item{files.ca, out.ca, "the cluster CA"},
                                   Item{files.cert, out.cert, "the client certificate"},
                                   Item{files.key, out.key, "the client certificate's key"}}) {
    std::ifstream f(path, std::ios::binary);
    if (!f)
      return Result<ClientTlsPem>::failure(
          path + " (" + what + "): " + std::strerror(errno) +
          "; a TLS directory holds ca.pem, client.pem and client-key.pem (scripts/make-certs.sh operator|viewer NAME)");
    std::ostringstream s;
    s << f.rdbuf();
    into = s.str();
    if (into.find("-----BEGIN ") == std::string::npos)
      return Result<ClientTlsPem>::failure(path + " (" + what + "): not a PEM file");
  }
  return out;
}

}  // namespace egw
