// Fuzz target: the journal reader (egw::Journal::open) on arbitrary file contents, the agent's
// event journal on top of it (EventStore::open), and the election state file (StateStore::decode).
// The first byte picks the mode:
//   0  the rest of the input is the journal file, byte for byte;
//   1  a valid journal of records cut from the input, then damaged (truncated, bytes flipped,
//      garbage appended): the checksums are right, so the fuzzer gets past them;
//   2  like 1, but the records are (mostly) serialized Events, read by EventStore;
//   3  an election state file with a correct checksum line (decode past the CRC), and the
//      encode -> decode round trip of a state built from the input.
// Invariants: never crashes; open() returns exactly the records a reference reader finds (valid
// prefix, tail dropped), truncates the file to them, a second open reads the same records and
// drops nothing, and an append after recovery is read back after them. EventStore indexes each
// (origin, seq) once, known() is consistent with what it holds, and a local event appended after
// recovery gets a seq above every earlier local one. A decoded state re-encodes to itself.
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "egw/journal.h"
#include "egw/log.h"
#include "fuzz_check.h"
#include "fuzz_input.h"
#include "agent/store/event_store.h"
#include "agent/store/state_store.h"

namespace {

std::string gDir;

std::string le32(std::uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}
std::uint32_t getLe32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string record(std::string_view payload) {
  const std::string len = le32(static_cast<std::uint32_t>(payload.size()));
  const std::uint32_t crc = egw::crc32c(payload.data(), payload.size(), egw::crc32c(len.data(), 4));
  return len + le32(crc) + std::string(payload);
}

// What a correct reader returns: the valid records before the first torn or corrupt one.
std::vector<std::string> reference(const std::string& file, std::size_t* validBytes) {
  std::vector<std::string> out;
  std::size_t pos = egw::Journal::kHeaderSize;
  *validBytes = pos;
  if (file.size() < pos) return out;
  while (file.size() - pos >= egw::Journal::kRecordOverhead) {
    const std::uint32_t len = getLe32(file.data() + pos);
    const std::uint32_t crc = getLe32(file.data() + pos + 4);
    if (len > egw::Journal::kMaxRecord || file.size() - pos - egw::Journal::kRecordOverhead < len) break;
    const std::string payload = file.substr(pos + egw::Journal::kRecordOverhead, len);
    const std::string lenBytes = file.substr(pos, 4);
    if (egw::crc32c(payload.data(), payload.size(), egw::crc32c(lenBytes.data(), 4)) != crc) break;
    out.push_back(payload);
    pos += egw::Journal::kRecordOverhead + len;
  }
  *validBytes = pos;
  return out;
}

// The file starts with the journal header, or with a prefix of it (torn while being created).
bool hasJournalHeader(const std::string& file) {
  const std::string magic = "EGWJRNL1";
  return file.size() >= magic.size() ? file.compare(0, magic.size(), magic) == 0 : magic.compare(0, file.size(), file) == 0;
}

void writeFile(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  EGW_FUZZ_CHECK(f.good(), "cannot write " + path);
}

std::vector<std::string> readAll(const std::string& path, egw::JournalRecovery* rec) {
  std::vector<std::string> got;
  auto j = egw::Journal::open(path, [&](std::string_view p) { got.emplace_back(p); }, egw::FlushPolicy::None);
  EGW_FUZZ_CHECK(j.ok(), "reopen failed: " + (j.ok() ? std::string() : j.error()));
  *rec = (*j)->recovery();
  return got;
}

// A journal of records cut from the input, then damaged as the input says.
std::string buildDamaged(egw::fuzz::Input& in, bool events) {
  std::string file = "EGWJRNL1";
  const std::size_t n = in.below(12);
  for (std::size_t i = 0; i < n && !in.empty(); ++i) {
    if (events && in.below(4) != 0) {
      egressgw::v1::Event e;
      e.set_origin(in.below(4) == 0 ? in.str(8) : std::string("n") + static_cast<char>('1' + in.below(3)));
      e.set_seq(in.below(8) == 0 ? in.u64() : in.below(6));
      e.set_kind(in.str(16));
      e.set_term(in.below(50));
      e.set_message(in.str(16));
      std::string bytes;
      e.SerializeToString(&bytes);
      file += record(bytes);
    } else {
      file += record(in.str(200));
    }
  }
  switch (in.below(4)) {
    case 0:
      break;
    case 1:  // torn: cut anywhere
      file.resize(in.below(file.size() + 1));
      break;
    case 2:  // flip bytes
      for (std::size_t k = in.below(4) + 1; k > 0; --k) file[in.below(file.size())] ^= static_cast<char>(in.byte() | 1);
      break;
    default:  // garbage after the last record
      file += in.str(64);
      break;
  }
  return file;
}

void checkJournal(const std::string& file) {
  const std::string path = gDir + "/j.journal";
  writeFile(path, file);
  std::vector<std::string> got;
  auto j = egw::Journal::open(path, [&](std::string_view p) { got.emplace_back(p); }, egw::FlushPolicy::None);
  if (!hasJournalHeader(file)) {
    EGW_FUZZ_CHECK(!j.ok(), "a file with a foreign header was opened");
    std::ifstream f(path, std::ios::binary);
    const std::string after((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EGW_FUZZ_CHECK(after == file, "a foreign file was modified");
    return;
  }
  EGW_FUZZ_CHECK(j.ok(), "a journal file was refused: " + (j.ok() ? std::string() : j.error()));
  std::size_t validBytes = 0;
  const auto want = reference(file, &validBytes);
  EGW_FUZZ_CHECK(got == want, "records differ from the reference reader: " + std::to_string(got.size()) + " vs " +
                                  std::to_string(want.size()));
  const auto& rec = (*j)->recovery();
  EGW_FUZZ_CHECK(rec.records == want.size(), "recovery.records");
  EGW_FUZZ_CHECK(rec.validBytes == validBytes && (*j)->size() == validBytes, "validBytes " + std::to_string(rec.validBytes) +
                                                                                 " vs " + std::to_string(validBytes));
  const std::size_t dropped = file.size() >= 8 ? file.size() - validBytes : file.size();
  EGW_FUZZ_CHECK(rec.droppedBytes == dropped, "droppedBytes");
  EGW_FUZZ_CHECK(rec.dropReason.empty() == (dropped == 0), "dropReason vs dropped bytes: " + rec.dropReason);
  struct stat st{};
  EGW_FUZZ_CHECK(::stat(path.c_str(), &st) == 0 && static_cast<std::size_t>(st.st_size) == validBytes,
                 "file not truncated to the valid records");
  const std::string extra = "appended after recovery";
  EGW_FUZZ_CHECK((*j)->append(extra).ok(), "append after recovery failed");
  j = egw::Result<std::unique_ptr<egw::Journal>>::failure("closed");
  egw::JournalRecovery again;
  auto reread = readAll(path, &again);
  EGW_FUZZ_CHECK(again.droppedBytes == 0 && again.dropReason.empty(), "second open dropped bytes: " + again.dropReason);
  auto expect = want;
  expect.push_back(extra);
  EGW_FUZZ_CHECK(reread == expect, "records after append and reopen differ");
}

void checkEvents(const std::string& file) {
  const std::string path = gDir + "/events.journal";
  writeFile(path, file);
  std::uint64_t clock = 1;
  auto s = egw::EventStore::open(gDir, "n1", egw::FlushPolicy::None, [&] { return static_cast<std::int64_t>(clock++); });
  if (!hasJournalHeader(file)) {  // the damage hit the header: refused, as Journal::open does
    EGW_FUZZ_CHECK(!s.ok(), "EventStore opened a file with a foreign header");
    return;
  }
  EGW_FUZZ_CHECK(s.ok(), "EventStore refused a journal: " + (s.ok() ? std::string() : s.error()));
  const auto all = (*s)->since(0, SIZE_MAX);
  EGW_FUZZ_CHECK(all.size() == (*s)->lastCursor(), "lastCursor vs since(0)");
  std::set<std::pair<std::string, std::uint64_t>> ids;
  std::map<std::string, std::set<std::uint64_t>> seqs;
  std::uint64_t maxLocal = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& e = all[i].event;
    EGW_FUZZ_CHECK(all[i].cursor == i + 1, "cursors not 1, 2, 3...");
    EGW_FUZZ_CHECK(!e.origin().empty() && e.seq() != 0, "an invalid event was indexed");
    EGW_FUZZ_CHECK(ids.emplace(e.origin(), e.seq()).second, "event (" + e.origin() + ", " + std::to_string(e.seq()) + ") indexed twice");
    seqs[e.origin()].insert(e.seq());
    if (e.origin() == "n1") maxLocal = std::max<std::uint64_t>(maxLocal, e.seq());
  }
  for (const auto& [origin, h] : (*s)->known()) {
    for (std::uint64_t q = 1; q <= h; ++q) EGW_FUZZ_CHECK(seqs[origin].count(q), "known() claims a seq not held: " + origin);
    EGW_FUZZ_CHECK(!seqs[origin].count(h + 1), "known() is not the highest contiguous seq: " + origin);
  }
  EGW_FUZZ_CHECK((*s)->lastLocalSeq() == maxLocal, "lastLocalSeq " + std::to_string((*s)->lastLocalSeq()));
  auto added = (*s)->append("fuzz", "n1", 1, "after recovery");
  if (maxLocal == egw::EventStore::kMaxSeq) {  // no seq left for a local event (a hostile journal)
    EGW_FUZZ_CHECK(!added.ok() && (*s)->lastCursor() == all.size(), "an append past local seq 2^63 was accepted");
    return;
  }
  EGW_FUZZ_CHECK(added.ok(), "append after recovery failed");
  EGW_FUZZ_CHECK(added->event.seq() == maxLocal + 1, "new local seq " + std::to_string(added->event.seq()) + " after " +
                                                         std::to_string(maxLocal));
  const std::uint64_t before = (*s)->lastCursor();
  s = egw::Result<std::unique_ptr<egw::EventStore>>::failure("closed");
  auto re = egw::EventStore::open(gDir, "n1", egw::FlushPolicy::None);
  EGW_FUZZ_CHECK(re.ok() && (*re)->lastCursor() == before, "reopen lost or gained events");
  EGW_FUZZ_CHECK((*re)->lastLocalSeq() == maxLocal + 1, "reopen: lastLocalSeq");
}

void checkState(egw::fuzz::Input& in) {
  // A state built from the input survives encode -> decode.
  egw::PersistentState s;
  s.hard.term = in.u64();
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  for (std::size_t n = in.below(64); n > 0; --n) s.hard.votedFor += alphabet[in.below(n == 1 || s.hard.votedFor.empty() ? 36 : 37)];
  s.candidacy = static_cast<egw::CandidacyState>(in.below(4));
  const auto enc = egw::StateStore::encode(s);
  const auto dec = egw::StateStore::decode(enc);
  EGW_FUZZ_CHECK(dec.ok() && dec->hard == s.hard && dec->candidacy == s.candidacy, "state round trip: " + enc);
  // Arbitrary text with a correct checksum line: decode must not crash, and what it accepts must
  // re-encode to a state file that decodes to the same thing.
  const std::string body(in.rest());
  char crc[16];
  std::snprintf(crc, sizeof crc, "%08x",
                static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  const auto r = egw::StateStore::decode(body + "crc32 " + crc + "\n");
  if (r.ok()) {
    const auto back = egw::StateStore::decode(egw::StateStore::encode(*r));
    EGW_FUZZ_CHECK(back.ok() && back->hard == r->hard && back->candidacy == r->candidacy, "accepted state does not re-encode");
  }
  (void)egw::StateStore::decode(body);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Records with invalid UTF-8 in string fields are expected here (protobuf then refuses to
  // parse them, and the store skips them); without this every one is logged.
  google::protobuf::SetLogHandler(nullptr);
  egw::log::get("journal")->set_level(spdlog::level::off);
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/egw-fuzz-journal-XXXXXX";
  EGW_FUZZ_CHECK(::mkdtemp(templ.data()) != nullptr, "mkdtemp " + templ);
  gDir = templ;
  std::atexit([] { std::filesystem::remove_all(gDir); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  egw::fuzz::Input in(data, size);
  switch (in.byte() % 4) {
    case 0:
      checkJournal(std::string(in.rest()));
      break;
    case 1:
      checkJournal(buildDamaged(in, false));
      break;
    case 2:
      checkEvents(buildDamaged(in, true));
      break;
    default:
      checkState(in);
      break;
  }
  return 0;
}
