// EventStore: local appends, restart, idempotent merge by (origin, seq), known()/missingFor()
// for replication, subscribers, a torn journal tail, and concurrent appends.
#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <limits>
#include <thread>

#include "egw/utf8.h"
#include "agent/store/event_store.h"

using egw::EventStore;

namespace {

egressgw::v1::Event ev(const std::string& origin, std::uint64_t seq, const std::string& kind = "master_elected") {
  egressgw::v1::Event e;
  e.set_origin(origin);
  e.set_seq(seq);
  e.set_kind(kind);
  e.set_time_ms(1000 + static_cast<std::int64_t>(seq));
  e.set_node(origin);
  e.set_gap_ms(-1);
  return e;
}

std::unique_ptr<EventStore> openStore(const QTemporaryDir& d, const std::string& self = "egress-1") {
  auto s = EventStore::open(d.path().toStdString(), self, egw::FlushPolicy::None, [] { return std::int64_t(42); });
  if (!s.ok()) qFatal("open: %s", s.error().c_str());
  return std::move(s).value();
}

}  // namespace

class TestEventStore : public QObject {
  Q_OBJECT

 private slots:
  void appendAssignsSeqCursorAndTime() {
    QTemporaryDir d;
    auto s = openStore(d);
    auto a = s->append("election_started", "egress-1", 3, "timeout", -1);
    QVERIFY(a.ok());
    auto b = s->append("datapath_switched", "egress-1", 3, "switched", 180);
    QVERIFY(b.ok());
    QCOMPARE(a->cursor, 1u);
    QCOMPARE(b->cursor, 2u);
    QCOMPARE(b->event.origin(), std::string("egress-1"));
    QCOMPARE(b->event.seq(), 2u);
    QCOMPARE(b->event.time_ms(), 42);
    QCOMPARE(b->event.gap_ms(), 180);
    QCOMPARE(b->event.term(), 3u);
    QCOMPARE(s->lastCursor(), 2u);
    QCOMPARE(s->lastLocalSeq(), 2u);
    auto page = s->since(1, 10);
    QCOMPARE(page.size(), std::size_t(1));
    QCOMPARE(page[0].cursor, 2u);
    QCOMPARE(s->since(0, 1).size(), std::size_t(1));
    QCOMPARE(s->since(2, 10).size(), std::size_t(0));
  }

  void restartKeepsCursorsAndContinuesSeq() {
    QTemporaryDir d;
    {
      auto s = openStore(d);
      QVERIFY(s->append("a", "egress-1", 1, "").ok());
      QVERIFY(s->merge(ev("egress-2", 1)).ok());
      QVERIFY(s->append("b", "egress-1", 1, "").ok());
    }
    auto s = openStore(d);
    QCOMPARE(s->lastCursor(), 3u);
    auto all = s->since(0, 100);
    QCOMPARE(all[1].event.origin(), std::string("egress-2"));
    QCOMPARE(all[2].event.kind(), std::string("b"));
    auto c = s->append("c", "egress-1", 2, "");
    QVERIFY(c.ok());
    QCOMPARE(c->event.seq(), 3u);
    QCOMPARE(c->cursor, 4u);
    QVERIFY(s->recovery().dropReason.empty());
  }

  void mergeIsIdempotentAcrossRestarts() {
    QTemporaryDir d;
    {
      auto s = openStore(d);
      QCOMPARE(*s->merge(ev("egress-2", 1)), true);
      QCOMPARE(*s->merge(ev("egress-2", 2)), true);
      QCOMPARE(*s->merge(ev("egress-2", 1)), false);
      QCOMPARE(s->lastCursor(), 2u);
    }
    auto s = openStore(d);
    QCOMPARE(*s->merge(ev("egress-2", 2)), false);
    QCOMPARE(*s->merge(ev("egress-3", 1)), true);
    QCOMPARE(s->lastCursor(), 3u);
  }

  void mergeRejectsInvalidEvents() {
    QTemporaryDir d;
    auto s = openStore(d);
    QVERIFY(!s->merge(ev("", 1)).ok());
    QVERIFY(!s->merge(ev("egress-2", 0)).ok());
    QVERIFY(!s->merge(ev("egress-2", 1, "")).ok());
    // Our own origin with a sequence that would make the next local one wrap to 0.
    auto top = s->merge(ev("egress-1", std::numeric_limits<std::uint64_t>::max()));
    QVERIFY(!top.ok());
    QVERIFY2(top.error().find("above 2^63") != std::string::npos, top.error().c_str());
    QVERIFY(!s->merge(ev("egress-2", EventStore::kMaxSeq + 1)).ok());
    QCOMPARE(s->lastCursor(), 0u);
    auto next = s->append("z", "egress-1", 1, "");
    QVERIFY(next.ok());
    QCOMPARE(next->event.seq(), 1u);
  }

  // Event text is repaired to valid UTF-8 when appended: protobuf parsers (peers, and this
  // journal on the next start) drop a message whose string fields are not valid UTF-8.
  void invalidUtf8IsRepairedAndSurvivesRestart() {
    QTemporaryDir d;
    {
      auto s = openStore(d);
      QVERIFY(s->append("probe", "egress-\xff" "1", 1, "bad \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 ok \xc3\xa9", -1).ok());
    }
    auto s = openStore(d);
    const auto all = s->since(0, 10);
    QCOMPARE(all.size(), std::size_t{1});
    QCOMPARE(all[0].event.node(), std::string("egress-\xEF\xBF\xBD" "1"));
    QCOMPARE(all[0].event.message(),
             std::string("bad \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok \xc3\xa9"));
    QVERIFY(egw::isValidUtf8(all[0].event.message()));
  }

  void utf8Validation_data() {
    QTest::addColumn<QByteArray>("in");
    QTest::addColumn<bool>("valid");
    QTest::newRow("ascii") << QByteArray("egress-1") << true;
    QTest::newRow("2-byte") << QByteArray("\xc3\xa9") << true;
    QTest::newRow("3-byte") << QByteArray("\xe2\x82\xac") << true;
    QTest::newRow("4-byte") << QByteArray("\xf0\x9f\x98\x80") << true;
    QTest::newRow("lone continuation") << QByteArray("\x80") << false;
    QTest::newRow("overlong /") << QByteArray("\xc0\xaf") << false;
    QTest::newRow("overlong 3-byte") << QByteArray("\xe0\x80\xaf") << false;
    QTest::newRow("surrogate") << QByteArray("\xed\xa0\x80") << false;
    QTest::newRow("above U+10FFFF") << QByteArray("\xf4\x90\x80\x80") << false;
    QTest::newRow("truncated") << QByteArray("\xe2\x82") << false;
    QTest::newRow("ff") << QByteArray("\xff") << false;
  }
  void utf8Validation() {
    QFETCH(QByteArray, in);
    QFETCH(bool, valid);
    const std::string s(in.constData(), static_cast<std::size_t>(in.size()));
    QCOMPARE(egw::isValidUtf8(s), valid);
    const auto fixed = egw::toValidUtf8(s);
    QVERIFY(egw::isValidUtf8(fixed));
    if (valid) QCOMPARE(fixed, s);
    else QVERIFY(fixed.find("\xEF\xBF\xBD") != std::string::npos);
  }

  void knownIsContiguousAndMissingForFillsTheGaps() {
    QTemporaryDir d;
    auto s = openStore(d);
    QVERIFY(s->append("x", "egress-1", 1, "").ok());
    QVERIFY(s->append("y", "egress-1", 1, "").ok());
    QVERIFY(*s->merge(ev("egress-2", 1)));
    QVERIFY(*s->merge(ev("egress-2", 3)));  // out of order: 2 still missing
    auto k = s->known();
    QCOMPARE(k["egress-1"], 2u);
    QCOMPARE(k["egress-2"], 1u);
    QVERIFY(*s->merge(ev("egress-2", 2)));
    QCOMPARE(s->known()["egress-2"], 3u);

    // A peer that has egress-1 up to 1 and nothing of egress-2.
    std::map<std::string, std::uint64_t> peer{{"egress-1", 1}};
    auto missing = s->missingFor(peer, 100);
    QCOMPARE(missing.size(), std::size_t(4));
    QCOMPARE(missing[0].origin(), std::string("egress-1"));
    QCOMPARE(missing[0].seq(), 2u);
    // In the order we accepted them: egress-2's 1, 3, 2.
    QCOMPARE(missing[1].seq(), 1u);
    QCOMPARE(missing[2].seq(), 3u);
    QCOMPARE(missing[3].seq(), 2u);
    QCOMPARE(s->missingFor(peer, 2).size(), std::size_t(2));
    QCOMPARE(s->missingFor(s->known(), 100).size(), std::size_t(0));

    // Round trip through another store: merging what is missing makes them equal.
    QTemporaryDir d2;
    auto other = openStore(d2, "egress-3");
    for (const auto& e : s->missingFor(other->known(), 100)) QVERIFY(other->merge(e).ok());
    QCOMPARE(other->known(), s->known());
    // And the protobuf map type works as the peer's view too.
    google::protobuf::Map<std::string, std::uint64_t> pm;
    pm["egress-1"] = 2;
    QCOMPARE(s->missingFor(pm, 100).size(), std::size_t(3));
  }

  // known() is kept as events arrive (not recomputed per call): a gap that closes moves the mark
  // over everything held after it, and origins interleave with the peer's in missingFor.
  void knownFollowsGapsAsTheyCloseAndMissingForWalksOriginsInOrder() {
    QTemporaryDir d;
    auto s = openStore(d);
    for (std::uint64_t q : {5u, 3u, 4u}) QVERIFY(*s->merge(ev("b", q)));
    QCOMPARE(s->known()["b"], 0u);  // held, but 1 is missing: the origin is known with 0
    QCOMPARE(s->knownOf("b"), 0u);
    QVERIFY(*s->merge(ev("b", 1)));
    QCOMPARE(s->knownOf("b"), 1u);
    QVERIFY(*s->merge(ev("b", 2)));
    QCOMPARE(s->knownOf("b"), 5u);  // 2 closed the gap: 3, 4, 5 follow
    QVERIFY(!*s->merge(ev("b", 4)));  // a duplicate changes nothing
    QCOMPARE(s->knownOf("b"), 5u);
    QCOMPARE(s->knownOf("nobody"), 0u);
    QVERIFY(*s->merge(ev("d", 1)));
    std::vector<std::pair<std::string, std::uint64_t>> walked;
    s->forEachKnown([&](const std::string& o, std::uint64_t h) { walked.emplace_back(o, h); });
    QCOMPARE(walked, (std::vector<std::pair<std::string, std::uint64_t>>{{"b", 5}, {"d", 1}}));

    // The peer knows origins we lack ("a", "c", "e") and lacks one we hold ("d").
    std::map<std::string, std::uint64_t> peer{{"a", 9}, {"b", 4}, {"c", 1}, {"e", 2}};
    auto missing = s->missingFor(peer, 100);
    QCOMPARE(missing.size(), std::size_t(2));
    QCOMPARE(missing[0].origin(), std::string("b"));
    QCOMPARE(missing[0].seq(), 5u);
    QCOMPARE(missing[1].origin(), std::string("d"));
    peer["d"] = 1;
    peer["b"] = 5;
    QCOMPARE(s->missingFor(peer, 100).size(), std::size_t(0));
  }

  // What a peer that got known() at some version needs: the origins whose mark moved since, each
  // once with its mark now, and nothing when nothing changed (known_events as changes).
  void knownChangesSinceAVersion() {
    QTemporaryDir d;
    auto s = openStore(d);
    using Marks = std::vector<std::pair<std::string, std::uint64_t>>;
    auto since = [&](std::uint64_t v, Marks& out) {
      out.clear();
      return s->forEachKnownSince(v, [&](const std::string& o, std::uint64_t h) { out.emplace_back(o, h); });
    };
    Marks got;
    QCOMPARE(since(0, got), 0u);
    QVERIFY(got.empty());
    QVERIFY(*s->merge(ev("a", 1)));
    QVERIFY(*s->merge(ev("b", 2)));  // a new origin is a change, even with mark 0
    const auto v1 = since(0, got);
    QCOMPARE(got, (Marks{{"a", 1}, {"b", 0}}));
    QCOMPARE(since(v1, got), v1);
    QVERIFY(got.empty());
    QVERIFY(*s->merge(ev("b", 3)));  // held, but the mark stays 0: no change
    QCOMPARE(since(v1, got), v1);
    QVERIFY(*s->merge(ev("a", 2)));
    QVERIFY(*s->merge(ev("b", 1)));  // closes b's gap: 0 -> 3
    QVERIFY(*s->merge(ev("a", 3)));  // a changes twice: named once, with its last mark
    const auto v2 = since(v1, got);
    QCOMPARE(got, (Marks{{"b", 3}, {"a", 3}}));
    QVERIFY(!*s->merge(ev("a", 3)));
    QCOMPARE(since(v2, got), v2);
    QVERIFY(got.empty());
    const auto all = s->forEachKnown([](const std::string&, std::uint64_t) {});
    QCOMPARE(all, v2);
  }

  // Our own event at 2^63 (from a peer, or a damaged journal; the fuzzer found the journal case)
  // leaves no sequence every reader accepts: the append is refused and nothing is written, where
  // it used to journal an event that the next start dropped.
  void appendAfterLocalSeqTwoToThe63IsRefused() {
    QTemporaryDir d;
    {
      auto s = openStore(d);
      QCOMPARE(*s->merge(ev("egress-1", EventStore::kMaxSeq)), true);
      auto e = s->append("z", "egress-1", 1, "");
      QVERIFY(!e.ok());
      QVERIFY2(e.error().find("2^63") != std::string::npos, e.error().c_str());
      QCOMPARE(s->lastCursor(), 1u);
    }
    auto s = openStore(d);
    QCOMPARE(s->lastCursor(), 1u);
    QCOMPARE(s->lastLocalSeq(), EventStore::kMaxSeq);
    QVERIFY(s->recovery().dropReason.empty());
    QVERIFY(!s->append("z", "egress-1", 1, "").ok());
  }

  void ownEventsFromPeersMoveLocalSeqOn() {
    // Our state_dir was wiped, but peers still hold our old events: later local events must not
    // reuse their (origin, seq).
    QTemporaryDir d;
    auto s = openStore(d);
    QVERIFY(*s->merge(ev("egress-1", 5)));
    auto e = s->append("z", "egress-1", 9, "");
    QVERIFY(e.ok());
    QCOMPARE(e->event.seq(), 6u);
  }

  void subscribersSeeAcceptedEventsOnly() {
    QTemporaryDir d;
    auto s = openStore(d);
    std::vector<std::uint64_t> seen;
    int id = s->subscribe([&](const EventStore::Entry& e) {
      seen.push_back(e.cursor);
      QCOMPARE(s->lastCursor(), e.cursor);  // store readable from the callback, no deadlock
    });
    QVERIFY(s->append("a", "egress-1", 1, "").ok());
    QVERIFY(*s->merge(ev("egress-2", 1)));
    QVERIFY(!*s->merge(ev("egress-2", 1)));  // duplicate: no notification
    s->unsubscribe(id);
    QVERIFY(s->append("b", "egress-1", 1, "").ok());
    QCOMPARE(seen, (std::vector<std::uint64_t>{1, 2}));
  }

  void tornJournalTailIsDroppedOnOpen() {
    QTemporaryDir d;
    {
      auto s = openStore(d);
      for (int i = 0; i < 3; ++i) QVERIFY(s->append("k", "egress-1", 1, "m").ok());
    }
    const std::string path = d.path().toStdString() + "/events.journal";
    struct stat st {};
    QCOMPARE(::stat(path.c_str(), &st), 0);
    QCOMPARE(::truncate(path.c_str(), st.st_size - 3), 0);
    auto s = openStore(d);
    QCOMPARE(s->lastCursor(), 2u);
    QVERIFY(s->recovery().droppedBytes > 0);
    QVERIFY(!s->recovery().dropReason.empty());
    auto e = s->append("k", "egress-1", 1, "m");
    QCOMPARE(e->event.seq(), 3u);
    QCOMPARE(e->cursor, 3u);
  }

  void openFailsWithPath() {
    auto s = EventStore::open("/nonexistent/dir", "egress-1");
    QVERIFY(!s.ok());
    QVERIFY2(s.error().find("/nonexistent/dir/events.journal") != std::string::npos, s.error().c_str());
  }

  void concurrentAppendsGetUniqueCursors() {
    QTemporaryDir d;
    auto s = openStore(d);
    std::atomic<int> notified{0};
    s->subscribe([&](const EventStore::Entry&) { ++notified; });
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t)
      ts.emplace_back([&, t] {
        for (int i = 0; i < 250; ++i) {
          if (t % 2)
            (void)s->append("k", "egress-1", 1, "");
          else
            (void)s->merge(ev("peer-" + std::to_string(t), static_cast<std::uint64_t>(i + 1)));
        }
      });
    for (auto& t : ts) t.join();
    QCOMPARE(s->lastCursor(), 1000u);
    QCOMPARE(notified.load(), 1000);
    QCOMPARE(s->lastLocalSeq(), 500u);
    auto all = s->since(0, 2000);
    QCOMPARE(all.size(), std::size_t(1000));
    for (std::size_t i = 0; i < all.size(); ++i) QCOMPARE(all[i].cursor, i + 1);
  }
};

QTEST_GUILESS_MAIN(TestEventStore)
#include "test_event_store.moc"
