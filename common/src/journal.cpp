#include "egw/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace egw {
namespace {

constexpr char kMagic[Journal::kHeaderSize] = {'E', 'G', 'W', 'J', 'R', 'N', 'L', '1'};

constexpr std::array<std::uint32_t, 256> makeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr auto kCrcTable = makeCrcTable();

std::string errnoText(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

void putLe32(char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
std::uint32_t getLe32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

std::uint32_t recordCrc(const char* lenBytes, std::string_view payload) {
  return crc32c(payload.data(), payload.size(), crc32c(lenBytes, 4));
}

// Writes all of buf at offset, retrying short writes and EINTR. Returns 0 or errno.
int pwriteAll(int fd, const char* buf, std::size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, buf, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (w == 0) return EIO;
    buf += w;
    n -= static_cast<std::size_t>(w);
    off += w;
  }
  return 0;
}

}  // namespace

std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc) {
  auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

Result<std::unique_ptr<Journal>> Journal::open(const std::string& path, const RecordFn& onRecord, FlushPolicy policy) {
  bool existed = ::access(path.c_str(), F_OK) == 0;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Error{errnoText("cannot open journal", path, errno)};
  if (!existed && policy == FlushPolicy::Sync) {
    // Make the new directory entry durable too.
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  std::unique_ptr<Journal> j(new Journal(path, fd, policy));

  std::string data;
  {
    char buf[1 << 16];
    for (;;) {
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0) {
        if (errno == EINTR) continue;
        return Error{errnoText("cannot read journal", path, errno)};
      }
      if (r == 0) break;
      data.append(buf, static_cast<std::size_t>(r));
    }
  }

  JournalRecovery& rec = j->recovery_;
  std::size_t pos = 0;
  if (data.size() >= kHeaderSize) {
    if (std::memcmp(data.data(), kMagic, kHeaderSize) != 0)
      return Error{"cannot open journal " + path + ": not a journal file (bad header); refusing to touch it"};
    pos = kHeaderSize;
  } else if (!data.empty() && std::memcmp(data.data(), kMagic, data.size()) != 0) {
    return Error{"cannot open journal " + path + ": not a journal file (bad header); refusing to touch it"};
  }

  if (pos == kHeaderSize) {
    while (pos < data.size()) {
      std::size_t left = data.size() - pos;
      if (left < kRecordOverhead) {
        rec.dropReason = "torn record header at offset " + std::to_string(pos);
        break;
      }
      std::uint32_t len = getLe32(data.data() + pos);
      std::uint32_t crc = getLe32(data.data() + pos + 4);
      if (len > kMaxRecord) {
        rec.dropReason = "corrupt record length " + std::to_string(len) + " at offset " + std::to_string(pos);
        break;
      }
      if (left - kRecordOverhead < len) {
        rec.dropReason = "torn record at offset " + std::to_string(pos) + " (" + std::to_string(left - kRecordOverhead) +
                         " of " + std::to_string(len) + " payload bytes)";
        break;
      }
      std::string_view payload(data.data() + pos + kRecordOverhead, len);
      if (recordCrc(data.data() + pos, payload) != crc) {
        rec.dropReason = "checksum mismatch in record at offset " + std::to_string(pos);
        break;
      }
      if (onRecord) onRecord(payload);
      ++rec.records;
      pos += kRecordOverhead + len;
    }
  } else if (!data.empty()) {
    rec.dropReason = "torn file header";
  }

  bool changed = false;
  if (pos < kHeaderSize) {
    // Empty, or a torn header from a crash right after creation: (re)write the header.
    rec.droppedBytes = data.size();
    if (int e = pwriteAll(fd, kMagic, kHeaderSize, 0)) return Error{errnoText("cannot write journal header", path, e)};
    pos = kHeaderSize;
    changed = true;
  } else {
    rec.droppedBytes = data.size() - pos;
    changed = rec.droppedBytes > 0;
  }
  if (changed) {
    if (::ftruncate(fd, static_cast<off_t>(pos)) != 0) return Error{errnoText("cannot truncate journal", path, errno)};
    if (policy == FlushPolicy::Sync && ::fdatasync(fd) != 0) return Error{errnoText("cannot sync journal", path, errno)};
  }
  rec.validBytes = pos;
  j->size_ = pos;
  return j;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Status Journal::append(std::string_view payload) {
  if (payload.size() > kMaxRecord)
    return Error{"cannot append to journal " + path_ + ": record of " + std::to_string(payload.size()) +
                 " bytes exceeds the limit of " + std::to_string(kMaxRecord)};
  if (dirtyTail_) {
    // A previous append failed half-way and its bytes could not be removed then: retry now, so
    // the file never holds a torn record followed by a valid one.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0)
      return Error{errnoText("cannot append to journal (truncating a failed append)", path_, errno)};
    dirtyTail_ = false;
  }
  std::vector<char> buf(kRecordOverhead + payload.size());
  putLe32(buf.data(), static_cast<std::uint32_t>(payload.size()));
  putLe32(buf.data() + 4, recordCrc(buf.data(), payload));
  if (!payload.empty()) std::memcpy(buf.data() + kRecordOverhead, payload.data(), payload.size());

  int err = pwriteAll(fd_, buf.data(), buf.size(), static_cast<off_t>(size_));
  if (err == 0 && policy_ == FlushPolicy::Sync && ::fdatasync(fd_) != 0) err = errno;
  if (err != 0) {
    // Cut off whatever reached the file; if even that fails, the next append or open does it.
    if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) dirtyTail_ = true;
    return Error{errnoText("cannot append to journal", path_, err)};
  }
  size_ += buf.size();
  return {};
}

}  // namespace egw
