#pragma once
// Plain helpers for tests that build their own network namespaces (root): a shell command's exit
// code and output, and running code inside a namespace. Without Qt, so a test thread that has
// entered a namespace can use them too.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

namespace egwtest {

struct Cmd {
  int rc = -1;
  std::string out;  // stdout and stderr
};

inline Cmd sh(const std::string& cmd) {
  Cmd r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Runs fn on a thread that has entered namespace `name`; sockets, threads and libnftables/libnl
// contexts made there stay in that namespace.
inline void runIn(const std::string& name, const std::function<void()>& fn) {
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) std::abort();
    ::close(fd);
    fn();
  });
  t.join();
}

// Moves the calling thread into namespace `name`.
inline bool enter(const std::string& name) {
  int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::setns(fd, CLONE_NEWNET) == 0;
  ::close(fd);
  return ok;
}

}  // namespace egwtest
