// bench_scale_loadgen: N simulated observers (docs/membership.md, protocol 2) in one process,
// against real voter agents over the real gRPC peer protocol. bench/scale/loadgen.sh runs it
// against 3 voters and reads the voters' CPU; docs/bench-scale.md has the figures.
//
// Each observer does what agent/node/driver_membership.cpp does for a real one, through the same
// pure ObserverFeed (rendezvous order, failover after 3 silent keepalives, adoption rules):
// - a STATUS_REPORT (role OBSERVER, protocol kProtocolVersion, its node_started event until the
//   feed holds it) to its feed voter when it starts, when its master changes or its feed moves,
//   and else every keepalive (max(1 s, election timeout));
// - MASTER_UPDATEs on one Peer server whose endpoint every observer advertises (`to` names the
//   observer).
// The observers start spread evenly over the first keepalive, so their keepalives stay spread.
//
// Output, one line each (for the script): "listening ENDPOINTS", "settled ..." once every
// observer follows one master, "stats ..." on SIGUSR1 and at exit (SIGTERM/SIGINT). Fails (exit 1,
// message on stderr) when a voter refuses a report (Ack accepted=false) or when no MASTER_UPDATE
// arrives within --first-update-s.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/core/codec.h"
#include "agent/core/observer_feed.h"
#include "agent/security/grpc_util.h"
#include "egressgw/v1/peer.grpc.pb.h"
#include "egw/version.h"
#include "egw/vocabulary.h"

namespace pb = egressgw::v1;
using Time = egw::ObserverFeed::Time;

namespace {

struct Options {
  std::vector<std::pair<std::string, std::string>> voters;  // name, peer endpoint
  int observers = 1000;
  std::string listen = "127.0.0.1";
  int electionTimeoutMs = 300;
  Time keepaliveMs = 0;  // 0: max(1000, election timeout), as the agent derives it
  int endpoints = 1;     // listening ports of the one server; observer i advertises i % endpoints
  int channels = 1;      // client connections per voter; observer i uses i % channels
  int firstUpdateS = 20;
};

[[noreturn]] void usage(const char* why, int rc = 2) {
  std::fprintf(rc ? stderr : stdout,
               "bench_scale_loadgen: %s\n"
               "usage: bench_scale_loadgen --voters NAME=HOST:PORT,... [--observers 1000] [--listen 127.0.0.1]\n"
               "           [--election-timeout-ms 300] [--keepalive-ms max(1000, election timeout)]\n"
               "           [--endpoints 1] [--channels 1] [--first-update-s 20]\n"
               "  Plays N observers (obs-0001, ...) of protocol %u against the voters (no TLS: loopback).\n"
               "  --endpoints E: the one Peer server listens on E ports of --listen; observer i advertises\n"
               "                 port i %% E (1: every voter pushes over one channel, as the issue asks).\n"
               "  --channels C:  C client connections to each voter; observer i reports over i %% C.\n"
               "  Prints 'listening', 'settled' and 'stats' lines; SIGUSR1: a stats line; SIGTERM: stats, exit.\n"
               "  Exit 1 when a voter refuses a message or no MASTER_UPDATE comes within --first-update-s.\n",
               why, egw::kProtocolVersion);
  std::exit(rc);
}

long number(const std::string& opt, const std::string& v, long lo, long hi) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo || n > hi)
    usage((opt + ": " + v + " is not a number in " + std::to_string(lo) + ".." + std::to_string(hi)).c_str());
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") usage("simulated observers against real voters over gRPC", 0);
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    std::string v = argv[++i];
    if (a == "--voters") {
      for (std::size_t p = 0; p < v.size();) {
        auto q = std::min(v.find(',', p), v.size());
        auto item = v.substr(p, q - p);
        auto eq = item.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
          usage(("--voters: '" + item + "' is not NAME=HOST:PORT").c_str());
        o.voters.emplace_back(item.substr(0, eq), item.substr(eq + 1));
        p = q + 1;
      }
    } else if (a == "--observers") {
      o.observers = static_cast<int>(number(a, v, 1, 9999));
    } else if (a == "--listen") {
      o.listen = v;
    } else if (a == "--election-timeout-ms") {
      o.electionTimeoutMs = static_cast<int>(number(a, v, 10, 60000));
    } else if (a == "--keepalive-ms") {
      o.keepaliveMs = number(a, v, 10, 600000);
    } else if (a == "--endpoints") {
      o.endpoints = static_cast<int>(number(a, v, 1, 4096));
    } else if (a == "--channels") {
      o.channels = static_cast<int>(number(a, v, 1, 4096));
    } else if (a == "--first-update-s") {
      o.firstUpdateS = static_cast<int>(number(a, v, 1, 3600));
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (o.voters.empty()) usage("--voters is required");
  if (o.keepaliveMs == 0) o.keepaliveMs = std::max<Time>(1000, o.electionTimeoutMs);
  return o;
}

std::int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

volatile std::sig_atomic_t gStats = 0, gStop = 0;

// One simulated observer. Guarded by LoadGen::mu_.
struct Observer {
  std::string name;
  std::string endpoint;  // advertised peer endpoint
  int channel = 0;
  Time startAt = 0;
  std::optional<egw::ObserverFeed> feed;  // from its start
  bool changed = false;                   // report at once (started, master changed)
  std::uint64_t feedHolds = 0;            // the feed's known_events for us: our event 1 arrived
  std::int64_t startedWallMs = 0;
  std::int64_t adoptedWallMs = 0;         // when it adopted the master it follows
  bool adoptedLate = false;               // ... only after its own feed had failed over
};

class LoadGen final : public pb::Peer::CallbackService {
 public:
  explicit LoadGen(Options o) : o_(std::move(o)) {}

  bool start() {
    const std::size_t width = std::max<std::size_t>(4, std::to_string(o_.observers).size());
    observers_.resize(static_cast<std::size_t>(o_.observers));
    for (int i = 0; i < o_.observers; ++i) {
      const auto num = std::to_string(i + 1);
      const auto name = "obs-" + std::string(width - num.size(), '0') + num;
      observers_[static_cast<std::size_t>(i)].name = name;
      byName_[name] = static_cast<std::size_t>(i);
    }
    grpc::ServerBuilder b;
    std::vector<int> ports(static_cast<std::size_t>(o_.endpoints), 0);
    for (auto& p : ports) b.AddListeningPort(o_.listen + ":0", grpc::InsecureServerCredentials(), &p);
    b.SetMaxReceiveMessageSize(egw::kPeerMaxMessageBytes);
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
    if (!server_ || std::count(ports.begin(), ports.end(), 0)) {
      std::fprintf(stderr, "bench_scale_loadgen: cannot listen on %s (not a local address?)\n", o_.listen.c_str());
      return false;
    }
    for (const auto& [name, ep] : o_.voters) {
      voterNames_.push_back(name);
      auto& chans = stubs_[name];
      for (int c = 0; c < o_.channels; ++c)
        chans.push_back(pb::Peer::NewStub(grpc::CreateCustomChannel(
            ep, grpc::InsecureChannelCredentials(), egw::channelArguments(std::max(100, o_.electionTimeoutMs)))));
    }
    const Time t0 = now();
    for (int i = 0; i < o_.observers; ++i) {
      auto& ob = observers_[static_cast<std::size_t>(i)];
      ob.endpoint = o_.listen + ":" + std::to_string(ports[static_cast<std::size_t>(i % o_.endpoints)]);
      ob.channel = i % o_.channels;
      // Spread the starts, and so the keepalives, over the first keepalive.
      ob.startAt = t0 + o_.keepaliveMs * i / o_.observers;
    }
    std::string eps;
    for (auto p : ports) eps += (eps.empty() ? "" : ",") + o_.listen + ":" + std::to_string(p);
    std::printf("listening %s observers=%d keepalive_ms=%lld channels_per_voter=%d\n", eps.c_str(), o_.observers,
                static_cast<long long>(o_.keepaliveMs), o_.channels);
    std::fflush(stdout);
    return true;
  }

  // The observers' clock: starts, keepalives, feed failover. Returns the exit code.
  int run() {
    const Time began = now();
    bool settled = false;
    Time lastCheck = 0;
    while (!gStop) {
      tick(now());
      if (auto f = fatal(); !f.empty()) {
        std::fprintf(stderr, "bench_scale_loadgen: FAILED: %s\n", f.c_str());
        printStats("stats");
        return 1;
      }
      const Time t = now();
      if (updates_ == 0 && t - began > o_.firstUpdateS * 1000) {
        std::fprintf(stderr, "bench_scale_loadgen: FAILED: no observer received a MASTER_UPDATE within %d s "
                     "(%llu reports sent, %llu failed RPCs)\n",
                     o_.firstUpdateS, static_cast<unsigned long long>(reports_.load()),
                     static_cast<unsigned long long>(failedRpcs_.load()));
        return 1;
      }
      if (!settled && t - lastCheck >= 100) {
        lastCheck = t;
        std::lock_guard lk(mu_);
        auto s = summaryLocked();
        if (!s.master.empty() && s.following == o_.observers) {
          settled = true;
          std::printf("settled after_ms=%lld master=%s term=%llu\n", static_cast<long long>(t - began), s.master.c_str(),
                      static_cast<unsigned long long>(s.term));
          std::fflush(stdout);
        }
      }
      if (gStats) {
        gStats = 0;
        printStats("stats");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
    }
    printStats("stats");
    // Let in-flight reports finish before the stubs go (bounded).
    for (int i = 0; i < 200 && inflight_ > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    if (updates_ == 0) {
      std::fprintf(stderr, "bench_scale_loadgen: FAILED: no observer ever received a MASTER_UPDATE\n");
      return 1;
    }
    return 0;
  }

  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const pb::ElectionMessage* req, pb::Ack* resp) override {
    auto* reactor = ctx->DefaultReactor();
    updateBytes_ += req->ByteSizeLong();
    auto refuse = [&](std::string why) {
      ++refusedIn_;
      resp->set_accepted(false);
      resp->set_error(why);
      std::lock_guard lk(fatalMu_);
      if (firstRefusedIn_.empty()) firstRefusedIn_ = "from " + req->from() + ": " + why;
      reactor->Finish(grpc::Status::OK);
      return reactor;
    };
    auto it = byName_.find(req->to());
    if (it == byName_.end()) return refuse("no observer named '" + req->to() + "' here");
    if (auto why = egw::codec::checkEnvelope(*req, req->to(), egw::kProtocolVersion); !why.empty()) return refuse(why);
    if (req->type() != pb::MASTER_UPDATE)
      return refuse("an observer takes only MASTER_UPDATE, not " + pb::MessageType_Name(req->type()));
    ++updates_;
    {
      std::lock_guard lk(mu_);
      auto& ob = observers_[it->second];
      if (ob.feed) {
        const auto& mi = req->master_info();
        const auto before = ob.feed->master().master;
        auto r = ob.feed->onUpdate(req->from(), {req->term(), mi.master(), mi.address(), mi.peer_endpoint()}, now());
        if (r == egw::ObserverFeed::Update::Adopted && mi.master() != before) {
          ob.adoptedWallMs = wallMs();
          ob.adoptedLate = ob.feed->feed() != ob.feed->order().front();
          ob.changed = true;  // its status names the master: a real observer reports at once
        }
        if (r == egw::ObserverFeed::Update::Conflict) ++conflicts_;
        if (req->from() == ob.feed->feed())
          if (auto k = req->known_events().find(ob.name); k != req->known_events().end()) ob.feedHolds = k->second;
      }
    }
    resp->set_accepted(true);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  static constexpr int kTickMs = 5;

  Time now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  pb::NodeStatus statusOf(const Observer& ob) const {
    // What Driver::selfStatus() says for an observer with --no-datapath and no prober.
    pb::NodeStatus s;
    s.set_name(ob.name);
    s.set_address(o_.listen);
    s.set_peer_endpoint(ob.endpoint);
    s.set_api_endpoint(o_.listen + ":7401");  // not served: voters never call an observer's API
    s.set_role(pb::OBSERVER);
    s.set_term(ob.feed->master().term);
    s.set_candidacy(pb::CANDIDACY_NONE);
    s.set_voter(false);
    s.set_healthy(true);
    s.set_allowlist(pb::ALLOWLIST_UNKNOWN);
    s.set_version(egw::kVersion);
    s.set_priority(100);
    s.set_wall_time_ms(wallMs());
    s.set_event_seq(1);
    s.set_datapath_ready(true);
    s.set_protocol(egw::kProtocolVersion);
    s.set_master(ob.feed->master().master);
    s.set_feed(ob.feed->feed());
    return s;
  }

  pb::ElectionMessage reportOf(const Observer& ob) const {
    pb::ElectionMessage m;
    m.set_type(pb::STATUS_REPORT);
    m.set_from(ob.name);
    m.set_to(ob.feed->feed());
    m.set_from_endpoint(ob.endpoint);
    m.set_protocol(egw::kProtocolVersion);
    m.set_term(ob.feed->master().term);
    *m.mutable_status() = statusOf(ob);
    if (ob.feedHolds < 1) {  // our one event, until the feed says it holds it
      auto* e = m.add_events();
      e->set_origin(ob.name);
      e->set_seq(1);
      e->set_time_ms(ob.startedWallMs);
      e->set_kind(std::string(egw::eventKindName(egw::EventKind::NodeStarted)));
      e->set_node(ob.name);
      e->set_message(std::string("agent ") + egw::kVersion + " started as observer (bench_scale_loadgen)");
      e->set_gap_ms(-1);
    }
    return m;
  }

  void tick(Time t) {
    std::vector<std::pair<const Observer*, pb::ElectionMessage>> out;
    {
      std::lock_guard lk(mu_);
      for (auto& ob : observers_) {
        if (!ob.feed) {
          if (t < ob.startAt) continue;
          ob.feed.emplace(ob.name, voterNames_, o_.keepaliveMs, t);
          ob.startedWallMs = wallMs();
          ob.changed = true;
        }
        bool force = ob.changed;
        if (ob.feed->onTick(t)) {
          ++feedSwitches_;
          force = true;
        }
        if (!ob.feed->reportDue(t, force)) continue;
        out.emplace_back(&ob, reportOf(ob));
        ob.feed->reported(t);
        ob.changed = false;
      }
    }
    for (auto& [ob, msg] : out) send(*ob, std::move(msg));
  }

  void send(const Observer& ob, pb::ElectionMessage msg) {
    struct Call {
      grpc::ClientContext ctx;
      pb::ElectionMessage req;
      pb::Ack resp;
    };
    auto* call = new Call;
    call->req = std::move(msg);
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(std::max(50, o_.electionTimeoutMs)));
    ++reports_;
    reportBytes_ += call->req.ByteSizeLong();
    ++inflight_;
    auto& stub = stubs_.at(call->req.to())[static_cast<std::size_t>(ob.channel)];
    stub->async()->Send(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
      if (!s.ok()) {
        ++failedRpcs_;  // a dead or unreachable voter: the feed fails over after 3 keepalives
      } else {
        ackBytes_ += call->resp.ByteSizeLong();
        if (!call->resp.accepted()) {
          std::lock_guard lk(fatalMu_);
          if (refusedOut_.empty())
            refusedOut_ = call->req.to() + " refused " + pb::MessageType_Name(call->req.type()) + " from " +
                          call->req.from() + ": " + call->resp.error();
        }
      }
      delete call;
      --inflight_;
    });
  }

  std::string fatal() {
    std::lock_guard lk(fatalMu_);
    if (!refusedOut_.empty()) return refusedOut_;
    if (!firstRefusedIn_.empty()) return "a voter sent a message this load generator refused " + firstRefusedIn_;
    return {};
  }

  struct Summary {
    std::string master;
    std::uint64_t term = 0;
    int following = 0;
    int late = 0;  // followers that adopted it only after their feed failed over (no push reached them)
    std::int64_t firstMs = 0, lastMs = 0, p50Ms = 0, p90Ms = 0, p99Ms = 0;  // wall ms its followers adopted it
    std::map<std::string, int> feeds;
  };
  // The newest master any observer follows; how many follow it and when they adopted it.
  Summary summaryLocked() const {
    Summary s;
    for (const auto& ob : observers_)
      if (ob.feed && ob.feed->master().term > s.term && !ob.feed->master().master.empty()) {
        s.term = ob.feed->master().term;
        s.master = ob.feed->master().master;
      }
    std::vector<std::int64_t> adopted;
    for (const auto& ob : observers_) {
      if (!ob.feed) continue;
      ++s.feeds[ob.feed->feed()];
      if (s.master.empty() || ob.feed->master().term != s.term || ob.feed->master().master != s.master) continue;
      adopted.push_back(ob.adoptedWallMs);
      if (ob.adoptedLate) ++s.late;
    }
    std::sort(adopted.begin(), adopted.end());
    s.following = static_cast<int>(adopted.size());
    if (!adopted.empty()) {
      auto at = [&](double q) { return adopted[static_cast<std::size_t>(q * static_cast<double>(adopted.size() - 1))]; };
      s.firstMs = adopted.front();
      s.lastMs = adopted.back();
      s.p50Ms = at(0.5);
      s.p90Ms = at(0.9);
      s.p99Ms = at(0.99);
    }
    return s;
  }

  void printStats(const char* tag) {
    Summary s;
    {
      std::lock_guard lk(mu_);
      s = summaryLocked();
    }
    std::string feeds;
    for (const auto& [f, n] : s.feeds) feeds += (feeds.empty() ? "" : ",") + f + ":" + std::to_string(n);
    auto u = [](const std::atomic<std::uint64_t>& a) { return static_cast<unsigned long long>(a.load()); };
    std::printf("%s wall_ms=%lld reports=%llu report_bytes=%llu ack_bytes=%llu updates=%llu update_bytes=%llu "
                "failed_rpcs=%llu refused_in=%llu conflicts=%llu feed_switches=%llu master=%s term=%llu following=%d late=%d "
                "first_ms=%lld p50_ms=%lld p90_ms=%lld p99_ms=%lld last_ms=%lld feeds=%s\n",
                tag, static_cast<long long>(wallMs()), u(reports_), u(reportBytes_), u(ackBytes_), u(updates_),
                u(updateBytes_), u(failedRpcs_), u(refusedIn_), u(conflicts_), u(feedSwitches_),
                s.master.empty() ? "-" : s.master.c_str(), static_cast<unsigned long long>(s.term), s.following, s.late,
                static_cast<long long>(s.firstMs), static_cast<long long>(s.p50Ms), static_cast<long long>(s.p90Ms),
                static_cast<long long>(s.p99Ms), static_cast<long long>(s.lastMs), feeds.c_str());
    std::fflush(stdout);
  }

  Options o_;
  std::unique_ptr<grpc::Server> server_;
  std::map<std::string, std::vector<std::unique_ptr<pb::Peer::Stub>>> stubs_;  // per voter, per channel
  std::vector<std::string> voterNames_;
  std::unordered_map<std::string, std::size_t> byName_;  // fixed before the server starts: read without mu_

  std::mutex mu_;
  std::vector<Observer> observers_;

  std::mutex fatalMu_;
  std::string refusedOut_, firstRefusedIn_;

  std::atomic<std::uint64_t> reports_{0}, reportBytes_{0}, ackBytes_{0}, updates_{0}, updateBytes_{0}, failedRpcs_{0},
      refusedIn_{0}, conflicts_{0}, feedSwitches_{0};
  std::atomic<int> inflight_{0};
};

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse(argc, argv);
  std::signal(SIGUSR1, [](int) { gStats = 1; });
  std::signal(SIGTERM, [](int) { gStop = 1; });
  std::signal(SIGINT, [](int) { gStop = 1; });
  LoadGen gen(std::move(opts));
  if (!gen.start()) return 1;
  return gen.run();
}
