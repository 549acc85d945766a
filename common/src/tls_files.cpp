#include "egw/tls_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "read_all.h"

namespace egw {

Result<std::string> readPemFile(const std::string& path, std::string_view what) {
  const std::string where = path + " (" + std::string(what) + ")";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{where + ": " + std::strerror(errno)};
  int err = 0;
  std::string data = detail::readAll(fd, err);
  ::close(fd);
  if (err) return Error{where + ": " + std::strerror(err)};
  if (data.find("-----BEGIN ") == std::string::npos) return Error{where + ": not a PEM file"};
  return data;
}

ClientTlsFiles clientTlsFiles(const std::string& dir) {
  std::string d = dir.empty() ? std::string(".") : dir;
  if (d.back() != '/') d += '/';
  return {d + "ca.pem", d + "client.pem", d + "client-key.pem"};
}

Result<ClientTlsPem> readClientTls(const ClientTlsFiles& files) {
  auto read = [](const std::string& path, const char* what, std::string& into) -> Status {
    auto pem = readPemFile(path, what);
    if (!pem)
      return Error{pem.error() +
                   "; a TLS directory holds ca.pem, client.pem and client-key.pem (scripts/make-certs.sh operator|viewer NAME)"};
    into = std::move(pem).value();
    return {};
  };
  ClientTlsPem out;
  if (auto st = read(files.ca, "the cluster CA", out.ca); !st) return Error{st.error()};
  if (files.cert.empty()) return out;
  if (auto st = read(files.cert, "the client certificate", out.cert); !st) return Error{st.error()};
  if (auto st = read(files.key, "the client certificate's key", out.key); !st) return Error{st.error()};
  return out;
}

Result<ClientTlsPem> readClientTls(const std::string& dir) { return readClientTls(clientTlsFiles(dir)); }

}  // namespace egw
