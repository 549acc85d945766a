// DatapathWorker's contract with a fake Datapath: latest state wins, refreshes only while
// Master, results and repairs reach the listener, stop(removeAll) removes, no callback after stop.
#include <QTest>

#include "fakes/fake_datapath.h"
#include "agent/datapath/datapath_worker.h"

using namespace egw;
using egwtest::FakeDatapath;
using egwtest::FakeState;

namespace {

DesiredState state(DatapathRole r, const char* master = nullptr) {
  DesiredState s;
  s.role = r;
  if (master) s.masterAddress = IpAddress::parse(master);
  return s;
}

struct Events {
  std::mutex mu;
  std::vector<DatapathEvent> list;
  void add(const DatapathEvent& e) {
    std::lock_guard lk(mu);
    list.push_back(e);
  }
  std::size_t count(DatapathEvent::Kind k) {
    std::lock_guard lk(mu);
    return static_cast<std::size_t>(std::count_if(list.begin(), list.end(), [&](const auto& e) { return e.kind == k; }));
  }
};

}  // namespace

class TestDatapathWorker : public QObject {
  Q_OBJECT
 private slots:
  void latestStateWins() {
    FakeState fs;
    Events ev;
    DatapathWorker w(std::make_unique<FakeDatapath>(fs), [&](const DatapathEvent& e) { ev.add(e); });
    {
      std::lock_guard lk(fs.mu);
      fs.gateOpen = false;
    }
    w.submit(state(DatapathRole::Follower, "10.0.0.12"));
    QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lk(fs.mu); return fs.inApply; }(), 1000);
    // While the first apply is stuck in the "kernel", three more arrive; only the last runs.
    w.submit(state(DatapathRole::Follower, "10.0.0.13"));
    w.submit(state(DatapathRole::NoMaster));
    w.submit(state(DatapathRole::Master));
    {
      std::lock_guard lk(fs.mu);
      fs.gateOpen = true;
    }
    fs.cv.notify_all();
    QTRY_COMPARE_WITH_TIMEOUT(ev.count(DatapathEvent::Kind::Applied), std::size_t{2}, 2000);
    std::lock_guard lk(fs.mu);
    QCOMPARE(fs.applied.size(), std::size_t{2});
    QCOMPARE(fs.applied.back().role, DatapathRole::Master);
  }

  void refreshOnlyWhileMaster() {
    FakeState fs;
    DatapathWorker w(std::make_unique<FakeDatapath>(fs), nullptr);
    w.refreshLease(Millis{240});  // not master yet: ignored
    w.submit(state(DatapathRole::Master));
    w.refreshLease(Millis{240});
    QTRY_VERIFY_WITH_TIMEOUT(w.applied().has_value(), 1000);
    QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lk(fs.mu); return fs.refreshes.size() == 1; }(), 1000);
    w.submit(state(DatapathRole::Follower, "10.0.0.12"));
    w.refreshLease(Millis{240});  // stepped down: ignored
    QTRY_COMPARE_WITH_TIMEOUT(w.applied()->role, DatapathRole::Follower, 1000);
    std::lock_guard lk(fs.mu);
    QCOMPARE(fs.refreshes.size(), std::size_t{1});
  }

  // A refresh or a master state that waited in the queue (here: behind a slow apply; in life
  // also a process stopped between the election and the worker) applies what is left of the
  // lease, never the full length again: a woken frozen master must not reopen its fence.
  void queuedLeaseIsNotExtendedByTheWait() {
    FakeState fs;
    fs.gateOpen = false;
    DatapathWorker w(std::make_unique<FakeDatapath>(fs), nullptr);
    w.submit(state(DatapathRole::Follower, "10.0.0.12"));  // the worker blocks in this apply
    QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lk(fs.mu); return fs.inApply; }(), 1000);
    auto master = state(DatapathRole::Master);
    master.lease = Millis{50};
    w.submit(master);
    w.refreshLease(Millis{50});
    QTest::qWait(120);  // both have expired while queued
    {
      std::lock_guard lk(fs.mu);
      fs.gateOpen = true;
    }
    fs.cv.notify_all();
    QTRY_VERIFY_WITH_TIMEOUT([&] { std::lock_guard lk(fs.mu); return fs.refreshes.size() == 1 && fs.applied.size() == 2; }(), 2000);
    std::lock_guard lk(fs.mu);
    QCOMPARE(fs.applied.back().role, DatapathRole::Master);
    QCOMPARE(fs.applied.back().lease, Millis{0});
    QCOMPARE(fs.refreshes.front(), Millis{0});
  }

  void failuresRepairsAndHealthReachTheListener() {
    FakeState fs;
    Events ev;
    DatapathWorker w(std::make_unique<FakeDatapath>(fs), [&](const DatapathEvent& e) { ev.add(e); },
                     DatapathWorker::Options{Millis{20}, "test"});
    w.submit(state(DatapathRole::Follower));  // no master address: refused
    QTRY_COMPARE_WITH_TIMEOUT(ev.count(DatapathEvent::Kind::Applied), std::size_t{1}, 1000);
    {
      std::lock_guard lk(ev.mu);
      QCOMPARE(ev.list.front().error.kind, DatapathErrorKind::InvalidInput);
    }
    QVERIFY(!w.applied().has_value());
    {
      std::lock_guard lk(fs.mu);
      fs.nextRepairs = {"table inet egress_gateway was missing"};
      fs.interfaceUp = false;
    }
    QTRY_COMPARE_WITH_TIMEOUT(ev.count(DatapathEvent::Kind::DriftRepaired), std::size_t{1}, 1000);
    QTRY_COMPARE_WITH_TIMEOUT(ev.count(DatapathEvent::Kind::HealthChanged), std::size_t{1}, 1000);
    QVERIFY(!w.health().egressInterfaceUp);
    QTRY_COMPARE_WITH_TIMEOUT(w.counters().size(), std::size_t{1}, 1000);
    QCOMPARE(w.egressIp()->str(), std::string("172.16.0.7"));
  }

  void stopRemovesAndSilences() {
    FakeState fs;
    Events ev;
    auto w = std::make_unique<DatapathWorker>(std::make_unique<FakeDatapath>(fs), [&](const DatapathEvent& e) { ev.add(e); },
                                              DatapathWorker::Options{Millis{5}, "test"});
    w->submit(state(DatapathRole::Master));
    QTRY_VERIFY_WITH_TIMEOUT(w->applied().has_value(), 1000);
    w->stop(true);
    auto after = [&] { std::lock_guard lk(ev.mu); return ev.list.size(); }();
    w->submit(state(DatapathRole::NoMaster));
    w->stop(false);  // idempotent
    QTest::qWait(30);
    QCOMPARE([&] { std::lock_guard lk(ev.mu); return ev.list.size(); }(), after);
    std::lock_guard lk(fs.mu);
    QVERIFY(fs.removed);
  }
};

QTEST_GUILESS_MAIN(TestDatapathWorker)
#include "test_datapath_worker.moc"
