// egw::Journal on a full disk: a real 64 KiB tmpfs (needs root to mount; skipped otherwise).
// Appends until the kernel says ENOSPC; the error names the file; every record that was
// acknowledged is read back, nothing else; after space is freed appends succeed again.
#include <QTemporaryDir>
#include <QtTest>

#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>

#include "egw/journal.h"

using egw::Journal;

class TestJournalEnospc : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string mnt_;
  bool mounted_ = false;

 private slots:
  void initTestCase() {
    mnt_ = dir_.path().toStdString();
    if (::geteuid() != 0) QSKIP("needs root to mount a tmpfs");
    if (::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=64k") != 0) QSKIP("cannot mount a tmpfs here");
    mounted_ = true;
  }
  void cleanupTestCase() {
    if (mounted_) ::umount2(mnt_.c_str(), MNT_DETACH);
  }

  void fullDisk() {
    const std::string p = mnt_ + "/events.journal";
    {
      std::FILE* f = std::fopen((mnt_ + "/filler").c_str(), "w");
      QVERIFY(f);
      std::string block(16 * 1024, 'f');
      QCOMPARE(std::fwrite(block.data(), 1, block.size(), f), block.size());
      QCOMPARE(std::fclose(f), 0);
    }
    auto j = Journal::open(p, nullptr);
    QVERIFY2(j.ok(), j.ok() ? "" : j.error().c_str());
    std::vector<std::string> acked;
    egw::Status st;
    for (int i = 0; i < 10000; ++i) {
      std::string rec = "record-" + std::to_string(i) + std::string(1000, 'p');
      st = (*j)->append(rec);
      if (!st.ok()) break;
      acked.push_back(rec);
    }
    QVERIFY2(!st.ok(), "a 64 KiB tmpfs never filled up");
    QVERIFY2(st.error().find(p) != std::string::npos, st.error().c_str());
    QVERIFY2(st.error().find("No space left on device") != std::string::npos, st.error().c_str());
    QVERIFY(acked.size() > 10);
    // A second failure changes nothing either.
    QVERIFY(!(*j)->append(std::string(5000, 'q')).ok());

    std::vector<std::string> back;
    {
      auto r = Journal::open(p, [&](std::string_view s) { back.emplace_back(s); }, egw::FlushPolicy::None);
      QVERIFY(r.ok());
      QCOMPARE((*r)->recovery().droppedBytes, 0u);
    }
    QCOMPARE(back, acked);

    // Free space: the same journal object appends again, and the record is read back.
    QCOMPARE(::unlink((mnt_ + "/filler").c_str()), 0);
    QVERIFY((*j)->append("after-free").ok());
    acked.push_back("after-free");
    back.clear();
    auto r = Journal::open(p, [&](std::string_view s) { back.emplace_back(s); }, egw::FlushPolicy::None);
    QVERIFY(r.ok());
    QCOMPARE(back, acked);
  }
};

QTEST_GUILESS_MAIN(TestJournalEnospc)
#include "test_journal_enospc.moc"
