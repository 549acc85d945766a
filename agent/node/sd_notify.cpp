#include "agent/node/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace egw {

Result<NotifyResult> sdNotifyTo(const std::string& address, std::string_view state) {
  if (address.empty()) return NotifyResult::NotConfigured;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  // sd_notify(3) accepts an absolute path or '@' + an abstract name; anything else (e.g.
  // "vsock:" addresses of newer systemd) is not ours to guess at.
  if (address[0] != '/' && address[0] != '@')
    return Result<NotifyResult>::failure("NOTIFY_SOCKET '" + address + "' is neither a path nor an abstract name");
  if (address.size() >= sizeof sa.sun_path)
    return Result<NotifyResult>::failure("NOTIFY_SOCKET '" + address + "' is too long");
  std::memcpy(sa.sun_path, address.data(), address.size());
  if (sa.sun_path[0] == '@') sa.sun_path[0] = '\0';  // abstract: the name is not NUL-terminated
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size() + (address[0] == '/' ? 1 : 0));

  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Result<NotifyResult>::failure(std::string("notify socket: ") + std::strerror(errno));
  ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), len);
  int err = errno;
  ::close(fd);
  if (n < 0) return Result<NotifyResult>::failure("notify " + address + ": " + std::strerror(err));
  if (static_cast<std::size_t>(n) != state.size()) return Result<NotifyResult>::failure("notify " + address + ": short send");
  return NotifyResult::Sent;
}

Result<NotifyResult> sdNotify(std::string_view state) {
  const char* env = std::getenv("NOTIFY_SOCKET");
  return sdNotifyTo(env ? std::string(env) : std::string(), state);
}

}  // namespace egw
