#pragma once
// Crash-safe append-only journal of opaque byte records.
//
// File layout: an 8-byte file header "EGWJRNL1", then records, each
//   u32 little-endian payload length | u32 little-endian CRC-32C over (length bytes + payload) | payload.
// A record is valid when it is complete and its checksum matches. On open every valid record is read
// in order; the first incomplete or corrupt record and everything after it is the "tail": it is
// truncated away and reported in JournalRecovery (a length prefix gives no safe way to resync past
// a corrupt record). Appends go to the end of the last valid record, so a failed append (ENOSPC,
// EIO, EFBIG) never leaves the file unreadable: the partial bytes are truncated away at once, or at
// the latest on the next append or open.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "egw/result.h"

namespace egw {

enum class FlushPolicy {
  Sync,   // fdatasync after every append: an append that returned ok survives a power loss
  None,   // leave it to the page cache: survives a process crash only (tests, benchmarks)
};

struct JournalRecovery {
  std::uint64_t records = 0;       // valid records read on open
  std::uint64_t validBytes = 0;    // file size after recovery (header included)
  std::uint64_t droppedBytes = 0;  // bytes of the torn or corrupt tail that were truncated
  std::string dropReason;          // empty when nothing was dropped; else what was wrong and where
};

// CRC-32C (Castagnoli), as used by the journal; exposed for tests.
std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0);

class Journal {
 public:
  static constexpr std::uint32_t kMaxRecord = 16u << 20;  // larger lengths are treated as corrupt
  static constexpr std::size_t kHeaderSize = 8;
  static constexpr std::size_t kRecordOverhead = 8;

  using RecordFn = std::function<void(std::string_view payload)>;

  // Opens or creates `path` (its directory must exist), calls onRecord for every valid record in
  // order, and truncates a torn or corrupt tail. Fails (with path and errno text) when the file
  // cannot be opened, read or truncated, or is not a journal (wrong header: left untouched).
  static Result<std::unique_ptr<Journal>> open(const std::string& path, const RecordFn& onRecord,
                                               FlushPolicy policy = FlushPolicy::Sync);

  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Appends one record. On failure returns the path and errno text; the record is not in the
  // journal (a later open will not return it) and the journal stays usable. Not thread-safe:
  // callers serialize appends.
  Status append(std::string_view payload);

  const JournalRecovery& recovery() const { return recovery_; }
  const std::string& path() const { return path_; }
  std::uint64_t size() const { return size_; }  // end of the last valid record

 private:
  Journal(std::string path, int fd, FlushPolicy policy) : path_(std::move(path)), fd_(fd), policy_(policy) {}
  std::string path_;
  int fd_ = -1;
  FlushPolicy policy_;
  std::uint64_t size_ = 0;
  bool dirtyTail_ = false;  // a failed append may have left bytes past size_
  JournalRecovery recovery_;
};

}  // namespace egw
