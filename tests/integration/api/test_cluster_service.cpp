// ClusterService over loopback gRPC with a fake backend and a real EventStore: the Watch stream
// (snapshot first, live events and state, resume after a server restart with no gap or
// duplicate), limits (stream cap, rate limit, backend timeout), paging and argument checks.
#include <QtTest>

#include <set>

#include "integration/api/api_fixture.h"
#include "support/cluster_delta.h"

using namespace egwtest;

namespace {

struct WatchClient {
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<v1::WatchUpdate>> reader;
  WatchClient(v1::Cluster::Stub& stub, std::uint64_t since, int deadlineMs = 10000, bool deltas = false) {
    setDeadline(ctx, deadlineMs);
    v1::WatchRequest req;
    req.set_since_seq(since);
    req.set_deltas(deltas);
    reader = stub.Watch(&ctx, req);
  }
  bool read(v1::WatchUpdate& u) { return reader->Read(&u); }
  grpc::Status finish() {
    v1::WatchUpdate u;
    while (reader->Read(&u)) {
    }
    return reader->Finish();
  }
  grpc::Status cancel() {
    ctx.TryCancel();
    return finish();
  }
};

}  // namespace

class TestClusterService : public QObject {
  Q_OBJECT

 private slots:
  void snapshotFirstThenEventsAndState() {
    ApiServer api;
    QVERIFY(api.start());
    QVERIFY(api.store->append("master_elected", "egress-1", 7, "egress-1 won term 7", 120).ok());
    QVERIFY(api.store->merge([] {
      v1::Event e;
      e.set_origin("egress-2");
      e.set_seq(1);
      e.set_kind("health_changed");
      e.set_node("egress-2");
      return e;
    }()).ok());
    auto stub = api.stub();
    WatchClient w(*stub, 0);
    v1::WatchUpdate u;
    QVERIFY(w.read(u));
    QVERIFY(u.has_snapshot());
    QCOMPARE(u.snapshot().master(), std::string("egress-1"));
    QCOMPARE(u.snapshot().nodes_size(), 5);
    QCOMPARE(u.cursor(), 0u);
    QVERIFY(w.read(u));
    QVERIFY(u.has_event());
    QCOMPARE(u.cursor(), 1u);
    QCOMPARE(u.event().gap_ms(), 120);
    QVERIFY(w.read(u));
    QCOMPARE(u.event().origin(), std::string("egress-2"));
    QCOMPARE(u.cursor(), 2u);

    // Live: an event, then a state change.
    QVERIFY(api.store->append("handover", "egress-1", 7, "to egress-2").ok());
    QVERIFY(w.read(u));
    QVERIFY(u.has_event());
    QCOMPARE(u.event().kind(), std::string("handover"));
    QCOMPARE(u.cursor(), 3u);
    auto s = sampleState();
    s.set_master("egress-2");
    s.set_term(8);
    api.backend.setState(s);
    api.service->notifyStateChanged();
    QVERIFY(w.read(u));
    QVERIFY(u.has_state());
    QCOMPARE(u.state().master(), std::string("egress-2"));
    QCOMPARE(u.cursor(), 3u);  // state updates carry the last event cursor
    QCOMPARE(api.service->activeWatches(), std::size_t(1));
    QCOMPARE(w.cancel().error_code(), grpc::StatusCode::CANCELLED);
  }

  void stateUpdatesAreCoalesced() {
    ApiServer api;
    QVERIFY(api.start());
    auto stub = api.stub();
    WatchClient w(*stub, 0);
    v1::WatchUpdate u;
    QVERIFY(w.read(u));
    for (int t = 10; t <= 200; ++t) {
      auto s = sampleState();
      s.set_term(static_cast<std::uint64_t>(t));
      api.backend.setState(s);
      api.service->notifyStateChanged();
    }
    // Whatever arrives, terms only grow, and the last one seen is the final one.
    std::uint64_t last = 0;
    int n = 0;
    while (last != 200) {
      QVERIFY(w.read(u));
      QVERIFY(u.has_state());
      QVERIFY(u.state().term() > last);
      last = u.state().term();
      ++n;
    }
    QVERIFY(n <= 191);
    w.cancel();
  }

  // With deltas a watcher gets, after its snapshot, only the node that changed and the one gone
  // (a new wall_time_ms alone is no change), and its copy then equals a fresh snapshot. A watcher
  // without deltas still gets whole states.
  void aWatcherWithDeltasGetsOnlyTheChangeAndTheRemoval() {
    ApiServer api;
    QVERIFY(api.start());
    auto stub = api.stub();
    WatchClient w(*stub, 0, 10000, true);
    WatchClient old(*stub, 0);
    v1::WatchUpdate u, o;
    QVERIFY(w.read(u));
    QVERIFY(u.has_snapshot());
    v1::ClusterState mine = u.snapshot();
    QVERIFY(old.read(o));
    QVERIFY(o.has_snapshot());

    auto s = sampleState();
    s.mutable_nodes(2)->set_allowlist(v1::ALLOWLIST_REJECTED);  // egress-3
    s.mutable_nodes(1)->set_wall_time_ms(1'700'000'000'000);    // egress-2: not a change
    s.mutable_nodes()->RemoveLast();                             // worker-1 leaves
    api.backend.setState(s);
    api.service->notifyStateChanged();
    QVERIFY(w.read(u));
    QVERIFY2(u.has_delta(), u.DebugString().c_str());
    QCOMPARE(u.delta().changed_size(), 1);
    QCOMPARE(u.delta().changed(0).name(), std::string("egress-3"));
    QCOMPARE(u.delta().changed(0).allowlist(), v1::ALLOWLIST_REJECTED);
    QCOMPARE(u.delta().removed_size(), 1);
    QCOMPARE(u.delta().removed(0), std::string("worker-1"));
    QCOMPARE(u.delta().header().master(), std::string("egress-1"));
    egwtest::applyDelta(mine, u.delta());

    QVERIFY(old.read(o));
    QVERIFY(o.has_state());
    QCOMPARE(o.state().nodes_size(), 4);

    WatchClient fresh(*stub, 0);
    QVERIFY(fresh.read(o));
    QCOMPARE(egwtest::withoutWallTime(mine), egwtest::withoutWallTime(o.snapshot()));
    w.cancel();
    old.cancel();
    fresh.cancel();
  }

  // The stream is resumed from the last cursor seen, on a restarted server (same journal): every
  // event arrives exactly once and in cursor order.
  void resumeAfterRestartWithoutGapsOrDuplicates() {
    ApiServer api;
    QVERIFY(api.start());
    for (int i = 0; i < 5; ++i) QVERIFY(api.store->append("k", "egress-1", 1, "before " + std::to_string(i)).ok());
    std::vector<std::uint64_t> cursors;
    std::set<std::pair<std::string, std::uint64_t>> ids;
    std::uint64_t lastCursor = 0;
    {
      auto stub = api.stub();
      WatchClient w(*stub, 0);
      v1::WatchUpdate u;
      QVERIFY(w.read(u));
      QVERIFY(u.has_snapshot());
      while (lastCursor < 5) {
        QVERIFY(w.read(u));
        QVERIFY(u.has_event());
        cursors.push_back(u.cursor());
        QVERIFY(ids.insert({u.event().origin(), u.event().seq()}).second);
        lastCursor = u.cursor();
      }
      api.stop();  // agent goes away with the stream open
      auto st = w.finish();
      QCOMPARE(st.error_code(), grpc::StatusCode::UNAVAILABLE);
    }
    // Restart on the same journal; events happen while no client is connected.
    QVERIFY(api.start());
    QCOMPARE(api.store->lastCursor(), 5u);
    for (int i = 0; i < 3; ++i) QVERIFY(api.store->append("k", "egress-1", 2, "while away " + std::to_string(i)).ok());
    auto stub = api.stub();
    WatchClient w(*stub, lastCursor);
    v1::WatchUpdate u;
    QVERIFY(w.read(u));
    QVERIFY(u.has_snapshot());
    QCOMPARE(u.cursor(), lastCursor);
    QVERIFY(api.store->append("k", "egress-1", 2, "live").ok());
    while (lastCursor < 9) {
      QVERIFY(w.read(u));
      QVERIFY(u.has_event());
      cursors.push_back(u.cursor());
      QVERIFY2(ids.insert({u.event().origin(), u.event().seq()}).second, "duplicate event");
      lastCursor = u.cursor();
    }
    QCOMPARE(cursors, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    QCOMPARE(u.event().message(), std::string("live"));
    w.cancel();
  }

  void foreignCursorReplaysFromZero() {
    ApiServer api;
    QVERIFY(api.start());
    QVERIFY(api.store->append("k", "egress-1", 1, "").ok());
    auto stub = api.stub();
    WatchClient w(*stub, 1000);
    v1::WatchUpdate u;
    QVERIFY(w.read(u));
    QCOMPARE(u.cursor(), 0u);  // tells the client its cursor meant nothing here
    QVERIFY(w.read(u));
    QCOMPARE(u.cursor(), 1u);
    w.cancel();
  }

  void watchStreamsAreCappedPerClient() {
    ApiServer api;
    api.limits.maxWatchPerPeer = 2;
    QVERIFY(api.start());
    auto stub = api.stub();
    v1::WatchUpdate u;
    auto a = std::make_unique<WatchClient>(*stub, 0);
    WatchClient b(*stub, 0);
    QVERIFY(a->read(u));
    QVERIFY(b.read(u));
    WatchClient c(*stub, 0);
    QVERIFY(!c.read(u));
    auto st = c.finish();
    QCOMPARE(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    QVERIFY2(st.error_message().find("too many Watch streams") != std::string::npos, st.error_message().c_str());
    // Closing one frees a slot.
    a->cancel();
    a.reset();
    QTRY_COMPARE(api.service->activeWatches(), std::size_t(1));
    WatchClient d(*stub, 0);
    QVERIFY(d.read(u));
    QVERIFY(u.has_snapshot());
    d.cancel();
    b.cancel();
    QTRY_COMPARE(api.service->activeWatches(), std::size_t(0));
  }

  void listEventsPages() {
    ApiServer api;
    QVERIFY(api.start());
    for (int i = 0; i < 250; ++i) QVERIFY(api.store->append("k", "egress-1", 1, std::to_string(i)).ok());
    auto stub = api.stub();
    std::uint64_t after = 0;
    std::vector<std::size_t> sizes;
    bool more = true;
    while (more) {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::ListEventsRequest req;
      req.set_after_cursor(after);
      v1::ListEventsResponse resp;
      QVERIFY(stub->ListEvents(&ctx, req, &resp).ok());
      QCOMPARE(resp.events_size(), resp.cursors_size());
      for (int i = 0; i < resp.cursors_size(); ++i) QCOMPARE(resp.cursors(i), after + 1 + static_cast<std::uint64_t>(i));
      sizes.push_back(static_cast<std::size_t>(resp.events_size()));
      after = resp.next_cursor();
      more = resp.more();
    }
    QCOMPARE(sizes, (std::vector<std::size_t>{100, 100, 50}));
    QCOMPARE(after, 250u);

    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::ListEventsRequest req;
    req.set_page_size(1000);
    v1::ListEventsResponse resp;
    QVERIFY(stub->ListEvents(&ctx, req, &resp).ok());
    QCOMPARE(resp.events_size(), 250);
    QVERIFY(!resp.more());
  }

  void invalidArgumentsNameTheField() {
    ApiServer api;
    QVERIFY(api.start());
    auto stub = api.stub();
    auto expect = [](const grpc::Status& st, const std::string& prefix) {
      QCOMPARE(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      QVERIFY2(st.error_message().rfind(prefix, 0) == 0, st.error_message().c_str());
    };
    {
      grpc::ClientContext ctx;
      v1::SetCandidacyRequest req;
      v1::SetCandidacyResponse resp;
      expect(stub->SetCandidacy(&ctx, req, &resp), "node: required");
    }
    {
      grpc::ClientContext ctx;
      v1::SetCandidacyRequest req;
      req.set_node("Egress_1");
      v1::SetCandidacyResponse resp;
      expect(stub->SetCandidacy(&ctx, req, &resp), "node: must be");
    }
    {
      grpc::ClientContext ctx;
      v1::SetCandidacyRequest req;
      req.set_node("egress-1");
      req.set_force(true);
      v1::SetCandidacyResponse resp;
      expect(stub->SetCandidacy(&ctx, req, &resp), "force:");
    }
    for (const std::string& reason : {std::string(513, 'x'), std::string("two\nlines"), std::string("bell\a")}) {
      grpc::ClientContext ctx;
      v1::SetCandidacyRequest req;
      req.set_node("egress-1");
      req.set_enable(true);
      req.set_reason(reason);
      v1::SetCandidacyResponse resp;
      expect(stub->SetCandidacy(&ctx, req, &resp), "reason:");
    }
    {
      grpc::ClientContext ctx;
      v1::HandoverRequest req;
      req.set_to("-bad-");
      v1::HandoverResponse resp;
      expect(stub->Handover(&ctx, req, &resp), "to:");
    }
    {
      grpc::ClientContext ctx;
      v1::ListEventsRequest req;
      req.set_page_size(1001);
      v1::ListEventsResponse resp;
      expect(stub->ListEvents(&ctx, req, &resp), "page_size:");
    }
    {
      grpc::ClientContext ctx;
      v1::ListEventsRequest req;
      req.set_after_cursor(5);
      v1::ListEventsResponse resp;
      expect(stub->ListEvents(&ctx, req, &resp), "after_cursor:");
    }
    QVERIFY(api.backend.takeCalls().empty());  // nothing invalid reached the backend
  }

  void mutatingCallsReachTheBackendAndAreRateLimited() {
    ApiServer api;
    api.limits.mutatingBurst = 3;
    api.limits.mutatingPerSecond = 0.001;  // no refill during the test
    QVERIFY(api.start());
    auto stub = api.stub();
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::SetCandidacyRequest req;
      req.set_node("egress-4");
      req.set_enable(true);
      v1::SetCandidacyResponse resp;
      QVERIFY(stub->SetCandidacy(&ctx, req, &resp).ok());
      QVERIFY(!resp.ok());
      QVERIFY(resp.message().find("--force") != std::string::npos);
    }
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::HandoverRequest req;
      req.set_to("egress-3");
      v1::HandoverResponse resp;
      QVERIFY(stub->Handover(&ctx, req, &resp).ok());  // answered from another thread
      QVERIFY(resp.ok());
      QCOMPARE(resp.new_master(), std::string("egress-3"));
    }
    {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::ProbeAllowlistRequest req;
      v1::ProbeAllowlistResponse resp;
      QVERIFY(stub->ProbeAllowlist(&ctx, req, &resp).ok());
      QCOMPARE(resp.verdict(), v1::ALLOWLIST_OK);
    }
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::HandoverRequest req;
    v1::HandoverResponse resp;
    auto st = stub->Handover(&ctx, req, &resp);
    QCOMPARE(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    QVERIFY2(st.error_message().find("rate limit") != std::string::npos, st.error_message().c_str());
    QCOMPARE(api.backend.takeCalls(), (std::vector<std::string>{"candidacy egress-4 enable", "handover egress-3"}));
  }

  void authorizerGuardsMutatingCalls() {
    ApiServer api;
    QVERIFY(api.start());
    std::vector<std::string> asked;
    api.service->setMutatingAuthorizer([&](const grpc::CallbackServerContext&, const std::string& what) {
      asked.push_back(what);
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "an operator certificate is required");
    });
    auto stub = api.stub();
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::HandoverRequest req;
    req.set_to("egress-2");
    v1::HandoverResponse resp;
    auto st = stub->Handover(&ctx, req, &resp);
    QCOMPARE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    QCOMPARE(st.error_message(), std::string("an operator certificate is required"));
    QCOMPARE(asked, std::vector<std::string>{"handover to egress-2"});
    QVERIFY(api.backend.takeCalls().empty());
    // Reads need no authorization.
    grpc::ClientContext lctx;
    setDeadline(lctx);
    v1::ListEventsResponse lresp;
    QVERIFY(stub->ListEvents(&lctx, v1::ListEventsRequest(), &lresp).ok());
  }

  void backendThatNeverAnswersTimesOut() {
    ApiServer api;
    api.limits.backendTimeout = std::chrono::milliseconds(200);
    api.backend.hang = true;
    QVERIFY(api.start());
    auto stub = api.stub();
    grpc::ClientContext ctx;
    setDeadline(ctx);
    v1::HandoverRequest req;
    v1::HandoverResponse resp;
    auto st = stub->Handover(&ctx, req, &resp);
    QCOMPARE(st.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
    QVERIFY2(st.error_message().find("did not answer") != std::string::npos, st.error_message().c_str());
  }

  void shutdownAnswersPendingCallsAndRefusesNewOnes() {
    ApiServer api;
    api.backend.hang = true;
    QVERIFY(api.start());
    auto stub = api.stub();
    grpc::Status pending;
    std::thread t([&] {
      grpc::ClientContext ctx;
      setDeadline(ctx);
      v1::HandoverRequest req;
      v1::HandoverResponse resp;
      pending = stub->Handover(&ctx, req, &resp);
    });
    QTRY_COMPARE(api.backend.callCount(), std::size_t(1));
    api.service->shutdown();
    t.join();
    QCOMPARE(pending.error_code(), grpc::StatusCode::UNAVAILABLE);
    WatchClient w(*stub, 0);
    QCOMPARE(w.finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  }

  void peerKeyDropsThePort() {
    QCOMPARE(egw::ClusterService::peerKey("ipv4:10.0.0.5:51234"), std::string("ipv4:10.0.0.5"));
    QCOMPARE(egw::ClusterService::peerKey("ipv6:[::1]:51234"), std::string("ipv6:[::1]"));
    QCOMPARE(egw::ClusterService::peerKey("unix:/run/x.sock"), std::string("unix:/run/x.sock"));
  }
};

QTEST_GUILESS_MAIN(TestClusterService)
#include "test_cluster_service.moc"
