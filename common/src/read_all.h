#pragma once
// The one loop that reads a whole file descriptor, for common's file readers (readPemFile in
// tls_files.cpp, readAllowlistFile in allowlist.cpp); each opens, closes and words its errors.
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <string>

namespace egw::detail {

// Everything `fd` holds, read to its end (EINTR retried). `err` is 0, or the errno of the read
// that failed (EISDIR for a directory), and then the text is what came before it.
inline std::string readAll(int fd, int& err) {
  std::string data;
  char buf[65536];
  err = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

}  // namespace egw::detail
