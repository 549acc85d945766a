// egw::Journal: round trip, torn tails at every byte offset, corrupt records, a foreign file,
// and a real write failure (EFBIG from RLIMIT_FSIZE) that leaves the journal readable.
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iterator>

#include "egw/journal.h"

using egw::FlushPolicy;
using egw::Journal;

namespace {

std::vector<std::string> readAll(const std::string& path, egw::JournalRecovery* rec = nullptr) {
  std::vector<std::string> out;
  auto j = Journal::open(path, [&](std::string_view p) { out.emplace_back(p); }, FlushPolicy::None);
  if (!j.ok()) qFatal("open %s: %s", path.c_str(), j.error().c_str());
  if (rec) *rec = (*j)->recovery();
  return out;
}

std::string fileBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
}

std::uint64_t fileSize(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return static_cast<std::uint64_t>(st.st_size);
}

}  // namespace

class TestJournal : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) { return (dir_.path() + QLatin1Char('/') + QLatin1String(name)).toStdString(); }

 private slots:
  void crcKnownValue() {
    // RFC 3720 / iSCSI test vector: CRC-32C of "123456789".
    QCOMPARE(egw::crc32c("123456789", 9), 0xE3069283u);
  }

  void roundTrip() {
    auto p = path("rt.journal");
    {
      auto j = Journal::open(p, nullptr);
      QVERIFY2(j.ok(), j.ok() ? "" : j.error().c_str());
      QCOMPARE((*j)->recovery().records, 0u);
      QVERIFY((*j)->append("one").ok());
      QVERIFY((*j)->append(std::string_view()).ok());  // empty records are records too
      QVERIFY((*j)->append(std::string(100000, 'x')).ok());
      QCOMPARE((*j)->size(), fileSize(p));
    }
    egw::JournalRecovery rec;
    auto recs = readAll(p, &rec);
    QCOMPARE(recs.size(), std::size_t(3));
    QCOMPARE(recs[0], std::string("one"));
    QCOMPARE(recs[1], std::string());
    QCOMPARE(recs[2].size(), std::size_t(100000));
    QCOMPARE(rec.records, 3u);
    QCOMPARE(rec.droppedBytes, 0u);
    QVERIFY(rec.dropReason.empty());
  }

  void tornTailAtEveryOffset() {
    auto p = path("torn.journal");
    std::uint64_t before = 0;
    {
      auto j = Journal::open(p, nullptr);
      QVERIFY(j.ok());
      QVERIFY((*j)->append("first record").ok());
      QVERIFY((*j)->append("second record").ok());
      before = (*j)->size();
      QVERIFY((*j)->append("the last record, torn at every offset").ok());
    }
    const std::string full = fileBytes(p);
    QVERIFY(full.size() > before);
    auto q = path("torn-copy.journal");
    for (std::uint64_t cut = before; cut < full.size(); ++cut) {
      writeBytes(q, full.substr(0, cut));
      egw::JournalRecovery rec;
      auto recs = readAll(q, &rec);
      QCOMPARE(recs.size(), std::size_t(2));
      QCOMPARE(recs[1], std::string("second record"));
      QCOMPARE(rec.droppedBytes, cut - before);
      QCOMPARE(rec.validBytes, before);
      QCOMPARE(rec.dropReason.empty(), cut == before);
      QCOMPARE(fileSize(q), before);  // the tail is truncated away
      // And the journal goes on: a new record after the cut is read back.
      {
        auto j = Journal::open(q, nullptr, FlushPolicy::None);
        QVERIFY(j.ok());
        QVERIFY((*j)->append("after").ok());
      }
      recs = readAll(q);
      QCOMPARE(recs.size(), std::size_t(3));
      QCOMPARE(recs[2], std::string("after"));
    }
  }

  void tornHeader() {
    auto p = path("header.journal");
    writeBytes(p, "EGWJ");
    egw::JournalRecovery rec;
    QCOMPARE(readAll(p, &rec).size(), std::size_t(0));
    QCOMPARE(rec.droppedBytes, 4u);
    QCOMPARE(fileSize(p), std::uint64_t(Journal::kHeaderSize));
  }

  void corruptChecksumDropsTheRest() {
    auto p = path("crc.journal");
    std::uint64_t secondAt = 0;
    {
      auto j = Journal::open(p, nullptr);
      QVERIFY((*j)->append("aaaa").ok());
      secondAt = (*j)->size();
      QVERIFY((*j)->append("bbbb").ok());
      QVERIFY((*j)->append("cccc").ok());
    }
    std::string bytes = fileBytes(p);
    const std::string original = bytes;
    // A flipped payload bit in the middle record.
    bytes[secondAt + Journal::kRecordOverhead + 1] ^= 0x01;
    writeBytes(p, bytes);
    egw::JournalRecovery rec;
    auto recs = readAll(p, &rec);
    QCOMPARE(recs.size(), std::size_t(1));
    QVERIFY2(rec.dropReason.find("checksum mismatch") != std::string::npos, rec.dropReason.c_str());
    QVERIFY(rec.dropReason.find(std::to_string(secondAt)) != std::string::npos);
    QCOMPARE(fileSize(p), secondAt);

    // A flipped bit in the stored checksum itself.
    bytes = original;
    bytes[secondAt + 4] ^= 0x80;
    writeBytes(p, bytes);
    QCOMPARE(readAll(p).size(), std::size_t(1));

    // A corrupt length: huge, and merely wrong (both caught).
    bytes = original;
    bytes[secondAt + 3] = '\x7f';
    writeBytes(p, bytes);
    readAll(p, &rec);
    QVERIFY2(rec.dropReason.find("corrupt record length") != std::string::npos, rec.dropReason.c_str());
    bytes = original;
    bytes[secondAt] = 2;  // length 4 -> 2
    writeBytes(p, bytes);
    QCOMPARE(readAll(p).size(), std::size_t(1));
  }

  void foreignFileIsRefusedAndUntouched() {
    auto p = path("foreign.txt");
    writeBytes(p, "hello, this is not a journal\n");
    auto j = Journal::open(p, nullptr);
    QVERIFY(!j.ok());
    QVERIFY(j.error().find(p) != std::string::npos);
    QVERIFY(j.error().find("not a journal") != std::string::npos);
    QCOMPARE(fileBytes(p), std::string("hello, this is not a journal\n"));
  }

  void openErrorNamesPathAndErrno() {
    auto p = path("no/such/dir/x.journal");
    auto j = Journal::open(p, nullptr);
    QVERIFY(!j.ok());
    QVERIFY2(j.error().find(p) != std::string::npos, j.error().c_str());
    QVERIFY2(j.error().find("No such file or directory") != std::string::npos, j.error().c_str());
  }

  void oversizedRecordIsRefused() {
    auto j = Journal::open(path("big.journal"), nullptr, FlushPolicy::None);
    QVERIFY(j.ok());
    auto st = (*j)->append(std::string(Journal::kMaxRecord + 1, 'x'));
    QVERIFY(!st.ok());
    QVERIFY(st.error().find("exceeds the limit") != std::string::npos);
    QCOMPARE((*j)->size(), std::uint64_t(Journal::kHeaderSize));
  }

  // A real write failure from the kernel: the file size limit (EFBIG) hits half-way through a
  // record. The error names the file and errno; the partial record is gone; appends go on after.
  void writeFailureLeavesJournalReadable() {
    auto p = path("efbig.journal");
    auto j = Journal::open(p, nullptr);
    QVERIFY(j.ok());
    QVERIFY((*j)->append("kept-1").ok());
    QVERIFY((*j)->append("kept-2").ok());
    const auto good = (*j)->size();

    auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit old {};
    QCOMPARE(::getrlimit(RLIMIT_FSIZE, &old), 0);
    rlimit lim = old;
    lim.rlim_cur = good + 20;  // room for part of the next record only
    QCOMPARE(::setrlimit(RLIMIT_FSIZE, &lim), 0);
    auto st = (*j)->append(std::string(200, 'z'));
    auto st2 = (*j)->append(std::string(200, 'z'));
    QCOMPARE(::setrlimit(RLIMIT_FSIZE, &old), 0);
    std::signal(SIGXFSZ, oldHandler);

    QVERIFY(!st.ok());
    QVERIFY(!st2.ok());
    QVERIFY2(st.error().find(p) != std::string::npos, st.error().c_str());
    QVERIFY2(st.error().find("File too large") != std::string::npos, st.error().c_str());
    QCOMPARE((*j)->size(), good);
    QCOMPARE(fileSize(p), good);

    QVERIFY((*j)->append("kept-3").ok());
    egw::JournalRecovery rec;
    auto recs = readAll(p, &rec);
    QCOMPARE(recs, (std::vector<std::string>{"kept-1", "kept-2", "kept-3"}));
    QCOMPARE(rec.droppedBytes, 0u);
  }
};

QTEST_GUILESS_MAIN(TestJournal)
#include "test_journal.moc"
