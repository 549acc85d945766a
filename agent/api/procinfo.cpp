#include "agent/api/procinfo.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace egw {

std::optional<ProcStat> readProcStat(pid_t pid) {
  const std::string base = pid == 0 ? "/proc/self" : "/proc/" + std::to_string(pid);
  ProcStat s;
  std::ifstream status(base + "/status");
  if (!status) return std::nullopt;
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ls(line.substr(6));
      std::uint64_t kb = 0;
      ls >> kb;
      s.rssBytes = kb * 1024;
    }
  }
  std::ifstream stat(base + "/stat");
  if (!stat) return std::nullopt;
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  auto close = content.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(content.substr(close + 2));
  std::string f;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoul(f);
    if (i == 15) stime = std::stoul(f);
  }
  s.cpuSeconds = static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return s;
}

}  // namespace egw
