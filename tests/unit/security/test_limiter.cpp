// TokenBuckets and StreamCounter: the rate limit of mutating calls and the Watch stream cap.
// Time is passed in, so every case is exact.
#include <QTest>

#include "agent/security/limiter.h"

using egw::StreamCounter;
using egw::TokenBuckets;
using namespace std::chrono_literals;

class TestLimiter : public QObject {
  Q_OBJECT
  const TokenBuckets::Time t0{std::chrono::seconds(1000)};

 private slots:
  void burstThenRefused() {
    TokenBuckets b(5, 5);
    for (int i = 0; i < 5; ++i) QVERIFY2(b.take("cn:alice", t0), qPrintable(QString::number(i)));
    QVERIFY(!b.take("cn:alice", t0));
    QVERIFY(!b.take("cn:alice", t0));  // a refused call costs nothing and gains nothing
  }
  void refillsAtTheRate() {
    TokenBuckets b(5, 5);
    for (int i = 0; i < 5; ++i) QVERIFY(b.take("k", t0));
    QVERIFY(!b.take("k", t0 + 199ms));  // 0.995 tokens
    QVERIFY(b.take("k", t0 + 200ms));   // one token after 1/5 s
    QVERIFY(!b.take("k", t0 + 200ms));
    QCOMPARE(b.waitSeconds("k", t0 + 200ms), 0.2);
    QVERIFY(b.take("k", t0 + 400ms));
  }
  void refillIsCappedAtTheBurst() {
    TokenBuckets b(5, 3);
    QVERIFY(b.take("k", t0));
    // An hour of silence buys the burst, not 18000 calls.
    for (int i = 0; i < 3; ++i) QVERIFY(b.take("k", t0 + 3600s));
    QVERIFY(!b.take("k", t0 + 3600s));
  }
  void keysAreIndependent() {
    TokenBuckets b(1, 1);
    QVERIFY(b.take("cn:alice", t0));
    QVERIFY(!b.take("cn:alice", t0));
    QVERIFY(b.take("cn:bob", t0));
    QVERIFY(b.take("ipv4:10.0.0.5", t0));
    QCOMPARE(b.waitSeconds("cn:carol", t0), 0.0);  // never seen: full
  }
  void timeGoingBackwardsGrantsNothing() {
    TokenBuckets b(1, 1);
    QVERIFY(b.take("k", t0));
    QVERIFY(!b.take("k", t0 - 10s));
    QVERIFY(!b.take("k", t0 + 500ms));
    QVERIFY(b.take("k", t0 + 1s));
  }
  void quietKeysAreForgottenWhenFull() {
    TokenBuckets b(1, 2, 3);
    QVERIFY(b.take("a", t0));
    QVERIFY(b.take("b", t0));
    QVERIFY(b.take("c", t0));
    QCOMPARE(b.keys(), std::size_t(3));
    // Still limited: nobody has refilled yet, so nothing is forgotten and a fourth key is added.
    QVERIFY(b.take("d", t0));
    QCOMPARE(b.keys(), std::size_t(4));
    QVERIFY(b.take("d", t0));
    QVERIFY(!b.take("d", t0));  // d's own bucket is still enforced
    // After the refill time the full buckets go: only the new key and d (not full) remain.
    QVERIFY(b.take("e", t0 + 1500ms));
    QCOMPARE(b.keys(), std::size_t(2));
  }

  void streamCapPerKeyAndTotal() {
    StreamCounter c(2, 3);
    QCOMPARE(c.acquire("cn:alice"), StreamCounter::Refusal::None);
    QCOMPARE(c.acquire("cn:alice"), StreamCounter::Refusal::None);
    QCOMPARE(c.acquire("cn:alice"), StreamCounter::Refusal::PerKey);
    QCOMPARE(c.count("cn:alice"), std::size_t(2));
    QCOMPARE(c.acquire("cn:bob"), StreamCounter::Refusal::None);
    QCOMPARE(c.acquire("cn:carol"), StreamCounter::Refusal::Total);
    QCOMPARE(c.total(), std::size_t(3));
    QCOMPARE(c.count("cn:carol"), std::size_t(0));
    c.release("cn:alice");
    QCOMPARE(c.acquire("cn:carol"), StreamCounter::Refusal::None);
    QCOMPARE(c.acquire("cn:alice"), StreamCounter::Refusal::Total);
    c.release("cn:bob");
    QCOMPARE(c.acquire("cn:alice"), StreamCounter::Refusal::None);
    QCOMPARE(c.count("cn:alice"), std::size_t(2));
  }
  void releaseGivesTheSlotBack() {
    StreamCounter c(1, 10);
    for (int i = 0; i < 100; ++i) {
      QCOMPARE(c.acquire("k"), StreamCounter::Refusal::None);
      QCOMPARE(c.acquire("k"), StreamCounter::Refusal::PerKey);
      c.release("k");
    }
    QCOMPARE(c.total(), std::size_t(0));
    QCOMPARE(c.count("k"), std::size_t(0));
  }
  void zeroCapRefusesEverything() {
    StreamCounter c(0, 10);
    QCOMPARE(c.acquire("k"), StreamCounter::Refusal::PerKey);
    QCOMPARE(c.total(), std::size_t(0));
  }
};

QTEST_GUILESS_MAIN(TestLimiter)
#include "test_limiter.moc"
