#include "agent/store/state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace egw {

namespace {
std::string sysError(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}
std::uint32_t checksum(const std::string& body) {
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
}
}  // namespace

StateStore::StateStore(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/election.state") {}

std::string StateStore::encode(const PersistentState& s) {
  std::ostringstream body;
  body << "egress-gateway-state 1\n"
       << "term " << s.hard.term << "\n"
       << "voted_for " << (s.hard.votedFor.empty() ? "-" : s.hard.votedFor) << "\n"
       << "candidacy " << candidacyName(s.candidacy) << "\n";
  auto text = body.str();
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x", checksum(text));
  return text + "crc32 " + crc + "\n";
}

Result<PersistentState> StateStore::decode(const std::string& text) {
  auto crcPos = text.rfind("crc32 ");
  if (crcPos == std::string::npos) return Result<PersistentState>::failure("no checksum line");
  auto body = text.substr(0, crcPos);
  unsigned long want = std::strtoul(text.c_str() + crcPos + 6, nullptr, 16);
  if (checksum(body) != want) return Result<PersistentState>::failure("checksum mismatch");
  std::istringstream in(body);
  std::string magic;
  int version = 0;
  in >> magic >> version;
  if (magic != "egress-gateway-state" || version != 1) return Result<PersistentState>::failure("unknown format");
  PersistentState s;
  std::string key, value;
  while (in >> key >> value) {
    if (key == "term") {
      // Not std::stoull: it throws on garbage (the exception escaped load() and killed the agent)
      // and wraps "-1" to 2^64-1. Found by tests/fuzz/fuzz_journal (state mode).
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s.hard.term);
      if (ec != std::errc{} || end != value.data() + value.size())
        return Result<PersistentState>::failure("bad term '" + value + "'");
    } else if (key == "voted_for") s.hard.votedFor = value == "-" ? "" : value;
    else if (key == "candidacy") {
      if (value == "pending") s.candidacy = CandidacyState::Pending;
      else if (value == "enabled") s.candidacy = CandidacyState::Enabled;
      else if (value == "disabled") s.candidacy = CandidacyState::Disabled;
      else s.candidacy = CandidacyState::None;
    }
  }
  return s;
}

Result<LoadedState> StateStore::load() {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Result<LoadedState>::failure("cannot create state_dir " + dir_ + ": " + ec.message());
  LoadedState out;
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return out;
    return Result<LoadedState>::failure(sysError("cannot read", path_));
  }
  out.existed = true;
  std::stringstream ss;
  ss << in.rdbuf();
  auto decoded = decode(ss.str());
  if (!decoded) {
    out.corrupt = true;
    out.problem = path_ + ": " + decoded.error();
    return out;
  }
  out.state = *decoded;
  return out;
}

Status StateStore::save(const PersistentState& s) {
  const auto text = encode(s);
  const auto tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::failure(sysError("cannot create", tmp));
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto err = sysError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::failure(err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    auto err = sysError("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::failure(err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    auto err = sysError("cannot rename onto", path_);
    ::unlink(tmp.c_str());
    return Status::failure(err);
  }
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

}  // namespace egw
