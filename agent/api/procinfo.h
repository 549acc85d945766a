#pragma once
// Process figures read from /proc, for metrics and benchmarks.
#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace egw {
struct ProcStat {
  std::uint64_t rssBytes = 0;
  double cpuSeconds = 0;  // user + system
};
std::optional<ProcStat> readProcStat(pid_t pid);  // pid 0: this process
}  // namespace egw
