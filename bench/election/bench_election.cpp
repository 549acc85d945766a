// bench_election: failover time of three real egress-agent processes on loopback.
//
// For each config (default: heartbeat 100 ms / election timeout 300 ms; tuned: 20 ms / 60 ms) it
// starts three agents with --no-datapath on a private 127.x.y.0/24, keeps one Cluster.Watch stream
// open per agent, and repeats: wait until all three report the same master, let the cluster settle
// (two election timeouts plus a random phase within one heartbeat interval, so kills land anywhere
// between two heartbeats), SIGKILL the master, and time until a survivor's stream reports a
// different master ("first") and until both survivors report it ("agreed"); then restart the killed
// agent with its state dir. Before the trials it measures the steady state: election messages per
// second (from /metrics egress_election_messages_total), each agent's VmRSS and its CPU over an idle
// window (utime+stime from /proc/PID/stat).
//
// The baseline, measured in the same run: the failover the protocol itself allows. A follower
// notices the loss when its randomized timeout E·(1 + 0.75·(1000−p)/1000) + U[0, E/4) has passed
// since the last heartbeat, which arrived U[0, H) before the kill; the floor is E (the minimum
// election timeout), and the model window [timeout_min − H, timeout_max] is printed beside the
// figures, so what the transport, the ticks and the processes add is visible as the ratio. A
// second baseline is the machine itself: how late a 1 ms sleep of this process wakes up while the
// trials run (an oversubscribed machine delays the agents' timers by as much).
//
// Every agent dies with this process (PR_SET_PDEATHSIG), and SIGINT/SIGTERM kill them explicitly.
#include <grpcpp/grpcpp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "egressgw/v1/cluster.grpc.pb.h"

namespace pb = egressgw::v1;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The egress-agent of the build this benchmark belongs to: $EGW_BINARY_DIR/agent/egress-agent, or
// found from the benchmark's own place (BUILD/bench/election/bench_election). No build path is
// compiled in, so the object is the same in every clone (ccache).
std::string agentBinary() {
  if (const char* dir = std::getenv("EGW_BINARY_DIR"); dir && *dir) return std::string(dir) + "/agent/egress-agent";
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "egress-agent";
  return (self.parent_path().parent_path().parent_path() / "agent" / "egress-agent").string();
}

constexpr int kNodes = 3;
constexpr int kPriority = 100;  // the config default, written out so the model below matches

// Children to kill from the signal handler: plain ints, written before the handler can see them.
volatile sig_atomic_t g_pids[kNodes] = {0, 0, 0};

void killChildren() {
  for (int i = 0; i < kNodes; ++i)
    if (g_pids[i] > 0) ::kill(static_cast<pid_t>(g_pids[i]), SIGKILL);
}

extern "C" void onSignal(int sig) {
  killChildren();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Profile {
  std::string name;
  int heartbeatMs;
  int electionMs;
  double targetP99Ms;
};

struct Agent {
  std::string name, host, config, stateDir, log;
  pid_t pid = 0;
};

// What one agent's Watch stream last said. `epoch` changes whenever the agent is killed, so a
// stream that was opened before the kill cannot report for the restarted process.
struct View {
  std::string master;
  std::uint64_t term = 0;
  bool connected = false;
  std::uint64_t epoch = 0;
};

class Cluster {
 public:
  Cluster(Profile p, fs::path dir, int x, int y) : profile_(std::move(p)), dir_(std::move(dir)) {
    fs::create_directories(dir_);
    std::vector<std::string> voters;
    for (int i = 0; i < kNodes; ++i) {
      Agent a;
      a.name = "egress-" + std::to_string(i + 1);
      a.host = "127." + std::to_string(x) + "." + std::to_string(y) + "." + std::to_string(i + 1);
      a.config = (dir_ / (a.name + ".yaml")).string();
      a.stateDir = (dir_ / (a.name + "-state")).string();
      a.log = (dir_ / (a.name + ".log")).string();
      voters.push_back("  - { name: " + a.name + ", address: \"" + a.host + ":7400\" }");
      agents_.push_back(a);
    }
    std::string voterList;
    for (const auto& v : voters) voterList += v + "\n";
    for (auto& a : agents_) {
      std::ofstream f(a.config);
      f << "node: { name: " << a.name << ", address: " << a.host << ", egress: { interface: lo, ip: " << a.host
        << " }, candidate: true, priority: " << kPriority << " }\n"
        << "listen: { peer: \"" << a.host << ":7400\", api: \"" << a.host << ":7401\", metrics: \"" << a.host
        << ":7402\" }\n"
        << "voters:\n"
        << voterList << "election: { heartbeat_interval: " << profile_.heartbeatMs
        << "ms, election_timeout: " << profile_.electionMs << "ms }\n"
        << "state_dir: " << a.stateDir << "\n"
        << "log: { level: info }\n";
    }
    views_.resize(kNodes);
  }

  ~Cluster() { stop(); }

  const Profile& profile() const { return profile_; }
  const Agent& agent(int i) const { return agents_[static_cast<std::size_t>(i)]; }

  bool start(std::string& err) {
    for (int i = 0; i < kNodes; ++i)
      if (!spawn(i, err)) return false;
    for (int i = 0; i < kNodes; ++i) watchers_.emplace_back([this, i] { watch(i); });
    return true;
  }

  void stop() {
    stopping_ = true;
    {
      std::lock_guard lk(ctxMu_);
      for (auto* c : contexts_)
        if (c) c->TryCancel();
    }
    for (int i = 0; i < kNodes; ++i) reap(i, SIGKILL);
    for (auto& t : watchers_)
      if (t.joinable()) t.join();
    watchers_.clear();
  }

  // The master all three live agents agree on, waiting up to `timeout`.
  std::optional<std::string> waitAgreed(Clock::duration timeout) {
    std::unique_lock lk(mu_);
    std::optional<std::string> out;
    cv_.wait_for(lk, timeout, [&] {
      const auto& m = views_[0].master;
      if (m.empty()) return false;
      for (const auto& v : views_)
        if (!v.connected || v.master != m) return false;
      out = m;
      return true;
    });
    return out;
  }

  struct Trial {
    bool ok = false;
    double firstMs = 0;   // kill -> a survivor reports a new master
    double agreedMs = 0;  // kill -> both survivors report the same new master
    std::string from, to;
    std::uint64_t termBefore = 0, termAfter = 0;
  };

  // SIGKILL the master `m` and time the failover seen on the survivors' streams.
  Trial killMaster(const std::string& m, Clock::duration timeout) {
    Trial t;
    t.from = m;
    const int k = indexOf(m);
    std::optional<Clock::time_point> first;
    Clock::time_point t0;
    {
      std::lock_guard lk(mu_);
      t.termBefore = views_[static_cast<std::size_t>(k)].term;
      killed_ = k;
      killedMaster_ = m;
      firstNew_.reset();
      agreedAt_.reset();
      ++views_[static_cast<std::size_t>(k)].epoch;
      views_[static_cast<std::size_t>(k)].connected = false;
      views_[static_cast<std::size_t>(k)].master.clear();
      t0 = Clock::now();
      ::kill(agents_[static_cast<std::size_t>(k)].pid, SIGKILL);
    }
    {
      std::unique_lock lk(mu_);
      const bool agreed = cv_.wait_until(lk, t0 + timeout, [&] {
        std::string seen;
        for (int i = 0; i < kNodes; ++i) {
          if (i == k) continue;
          const auto& v = views_[static_cast<std::size_t>(i)];
          if (v.master.empty() || v.master == m || (!seen.empty() && v.master != seen)) return false;
          seen = v.master;
        }
        t.to = seen;
        t.termAfter = views_[static_cast<std::size_t>(k == 0 ? 1 : 0)].term;
        return true;
      });
      const auto now = Clock::now();
      first = firstNew_;
      killed_ = -1;
      if (agreed) {
        t.ok = true;
        t.agreedMs = ms(agreedAt_.value_or(now) - t0);
        t.firstMs = ms(first.value_or(now) - t0);
      }
    }
    reap(k, 0);  // already dead: collect it
    return t;
  }

  bool restart(const std::string& name, std::string& err) { return spawn(indexOf(name), err); }

  struct Steady {
    double messagesPerSec = 0;
    std::map<std::string, double> byType;  // cluster-wide, per second
    double rssMb[kNodes] = {};
    double cpuPct[kNodes] = {};
    bool ok = false;
    std::string error;
  };

  Steady measureSteady(Clock::duration window) {
    Steady s;
    std::map<std::string, double> before[kNodes], after[kNodes];
    double cpu0[kNodes], cpu1[kNodes];
    for (int i = 0; i < kNodes; ++i) {
      if (!scrape(i, before[i], s.error)) return s;
      cpu0[i] = cpuSeconds(agents_[static_cast<std::size_t>(i)].pid);
    }
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(window);
    for (int i = 0; i < kNodes; ++i) {
      cpu1[i] = cpuSeconds(agents_[static_cast<std::size_t>(i)].pid);
      if (!scrape(i, after[i], s.error)) return s;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    for (int i = 0; i < kNodes; ++i) {
      for (const auto& [type, n] : after[i]) {
        const double d = (n - before[i][type]) / secs;
        s.byType[type] += d;
        s.messagesPerSec += d;
      }
      s.cpuPct[i] = 100.0 * (cpu1[i] - cpu0[i]) / secs;
      s.rssMb[i] = rssMb(agents_[static_cast<std::size_t>(i)].pid);
    }
    s.ok = true;
    return s;
  }

  std::string logTail(const std::string& name) const {
    std::ifstream f(agents_[static_cast<std::size_t>(indexOf(name))].log);
    std::vector<std::string> lines;
    for (std::string l; std::getline(f, l);) lines.push_back(l);
    std::string out;
    for (std::size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) out += "    " + lines[i] + "\n";
    return out;
  }

 private:
  int indexOf(const std::string& name) const {
    for (int i = 0; i < kNodes; ++i)
      if (agents_[static_cast<std::size_t>(i)].name == name) return i;
    return 0;
  }

  bool spawn(int i, std::string& err) {
    auto& a = agents_[static_cast<std::size_t>(i)];
    static const std::string bin = agentBinary();
    pid_t pid = ::fork();
    if (pid < 0) {
      err = std::string("fork: ") + std::strerror(errno);
      return false;
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = ::open(a.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execl(bin.c_str(), bin.c_str(), "--config", a.config.c_str(), "--no-datapath", static_cast<char*>(nullptr));
      std::perror("exec egress-agent");
      ::_exit(127);
    }
    a.pid = pid;
    g_pids[i] = pid;
    return true;
  }

  void reap(int i, int sig) {
    auto& a = agents_[static_cast<std::size_t>(i)];
    if (a.pid <= 0) return;
    if (sig) ::kill(a.pid, sig);
    ::waitpid(a.pid, nullptr, 0);
    g_pids[i] = 0;
    a.pid = 0;
  }

  // One Watch stream per agent, reopened every 5 ms while the agent is down.
  void watch(int i) {
    const auto& a = agents_[static_cast<std::size_t>(i)];
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 5);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 5);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 50);
    while (!stopping_) {
      std::uint64_t epoch;
      {
        std::lock_guard lk(mu_);
        epoch = views_[static_cast<std::size_t>(i)].epoch;
      }
      // A fresh channel per attempt: a restarted agent is reached at once, not after a backoff.
      auto channel = grpc::CreateCustomChannel(a.host + ":7401", grpc::InsecureChannelCredentials(), args);
      auto stub = pb::Cluster::NewStub(channel);
      grpc::ClientContext ctx;
      {
        std::lock_guard lk(ctxMu_);
        if (stopping_) break;
        contexts_[static_cast<std::size_t>(i)] = &ctx;
      }
      auto reader = stub->Watch(&ctx, pb::WatchRequest{});
      pb::WatchUpdate u;
      while (reader->Read(&u)) {
        if (!u.has_snapshot() && !u.has_state()) continue;
        const auto& st = u.has_snapshot() ? u.snapshot() : u.state();
        const auto at = Clock::now();
        std::lock_guard lk(mu_);
        auto& v = views_[static_cast<std::size_t>(i)];
        if (v.epoch != epoch) break;  // the process behind this stream was killed
        v.connected = true;
        v.master = st.master();
        v.term = st.term();
        if (killed_ >= 0 && i != killed_ && !v.master.empty() && v.master != killedMaster_) {
          if (!firstNew_) firstNew_ = at;
          bool all = true;
          for (int j = 0; j < kNodes; ++j)
            if (j != killed_ && views_[static_cast<std::size_t>(j)].master != v.master) all = false;
          if (all && !agreedAt_) agreedAt_ = at;
        }
        cv_.notify_all();
      }
      {
        std::lock_guard lk(ctxMu_);
        contexts_[static_cast<std::size_t>(i)] = nullptr;
      }
      ctx.TryCancel();
      reader->Finish();
      {
        std::lock_guard lk(mu_);
        if (views_[static_cast<std::size_t>(i)].epoch == epoch) views_[static_cast<std::size_t>(i)].connected = false;
      }
      if (!stopping_) std::this_thread::sleep_for(5ms);
    }
  }

  // GET /metrics and sum egress_election_messages_total by type.
  bool scrape(int i, std::map<std::string, double>& out, std::string& err) {
    const auto& a = agents_[static_cast<std::size_t>(i)];
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(7402);
    ::inet_pton(AF_INET, a.host.c_str(), &sa.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      err = a.name + ": cannot connect to " + a.host + ":7402: " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      return false;
    }
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: " + a.host + "\r\nConnection: close\r\n\r\n";
    if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
      err = a.name + ": short write to /metrics";
      ::close(fd);
      return false;
    }
    std::string body;
    char buf[8192];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) body.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    std::istringstream in(body);
    const std::string key = "egress_election_messages_total{type=\"";
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key, 0) != 0) continue;
      auto q = line.find('"', key.size());
      auto sp = line.rfind(' ');
      if (q == std::string::npos || sp == std::string::npos) continue;
      out[line.substr(key.size(), q - key.size())] = std::strtod(line.c_str() + sp + 1, nullptr);
    }
    return true;
  }

  static double cpuSeconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = s.rfind(')');  // comm may contain spaces: fields are counted after it
    if (close == std::string::npos) return 0;
    std::istringstream in(s.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int n = 3; in >> field; ++n) {
      if (n == 14) utime = std::stoull(field);
      if (n == 15) {
        stime = std::stoull(field);
        break;
      }
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }

  static double rssMb(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(f, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
    return 0;
  }

  Profile profile_;
  fs::path dir_;
  std::vector<Agent> agents_;
  std::vector<std::thread> watchers_;
  std::atomic<bool> stopping_{false};

  std::mutex ctxMu_;
  grpc::ClientContext* contexts_[kNodes] = {nullptr, nullptr, nullptr};

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<View> views_;
  int killed_ = -1;
  std::string killedMaster_;
  std::optional<Clock::time_point> firstNew_, agreedAt_;
};

// The machine's share in the figures, measured alongside the trials: how late a 1 ms sleep of
// this process wakes up. On an idle machine that is tens of microseconds; when the cores are
// oversubscribed, the agents' timers and gRPC threads wake just as late.
class WakeupProbe {
 public:
  void start() {
    stop_ = false;
    thread_ = std::thread([this] {
      while (!stop_) {
        const auto t0 = Clock::now();
        std::this_thread::sleep_for(1ms);
        const double late = ms(Clock::now() - t0) - 1.0;
        std::lock_guard lk(mu_);
        samples_.push_back(late);
      }
    });
  }
  std::vector<double> stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard lk(mu_);
    return samples_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<double> samples_;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));  // nearest rank
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct Result {
  Profile profile;
  std::vector<double> first, agreed, wakeupLate;
  int failed = 0;
  Cluster::Steady steady;
};

bool runProfile(const Profile& p, int trials, const fs::path& dir, int x, int y, Clock::duration idle, Result& r) {
  r.profile = p;
  Cluster c(p, dir / p.name, x, y);
  std::string err;
  std::printf("== %s: heartbeat %d ms, election timeout %d ms, agents on 127.%d.%d.1-3\n", p.name.c_str(), p.heartbeatMs,
              p.electionMs, x, y);
  if (!c.start(err)) {
    std::fprintf(stderr, "cannot start agents: %s\n", err.c_str());
    return false;
  }
  auto m = c.waitAgreed(20s);
  if (!m) {
    std::fprintf(stderr, "no master agreed within 20 s; logs in %s\n", (dir / p.name).c_str());
    return false;
  }
  const auto settle = std::chrono::milliseconds(2 * p.electionMs);
  std::this_thread::sleep_for(std::max<Clock::duration>(settle, 1s));
  r.steady = c.measureSteady(idle);
  if (!r.steady.ok) std::fprintf(stderr, "steady state: %s\n", r.steady.error.c_str());

  std::mt19937 rng(static_cast<unsigned>(::getpid()));
  WakeupProbe probe;
  probe.start();
  struct StopProbe {
    WakeupProbe& p;
    Result& r;
    ~StopProbe() { r.wakeupLate = p.stop(); }
  } stopProbe{probe, r};
  for (int i = 0; i < trials; ++i) {
    m = c.waitAgreed(20s);
    if (!m) {
      std::fprintf(stderr, "trial %d: the cluster did not agree on a master within 20 s\n", i + 1);
      return false;
    }
    // The restarted agent grants no vote for one election timeout and the cluster view needs a
    // few reports: let it settle, then kill at a random phase of the heartbeat cycle.
    std::uniform_int_distribution<int> phase(0, p.heartbeatMs - 1);
    std::this_thread::sleep_for(settle + std::chrono::milliseconds(phase(rng)));
    m = c.waitAgreed(5s);
    if (!m) continue;
    auto t = c.killMaster(*m, 10s);
    if (!t.ok) {
      ++r.failed;
      std::printf("  trial %2d: %s killed, no new master agreed within 10 s\n%s", i + 1, t.from.c_str(),
                  c.logTail(t.from == c.agent(0).name ? c.agent(1).name : c.agent(0).name).c_str());
    } else {
      r.first.push_back(t.firstMs);
      r.agreed.push_back(t.agreedMs);
      std::printf("  trial %2d: %s killed -> %s in %6.1f ms (both survivors %6.1f ms), term %llu -> %llu\n", i + 1,
                  t.from.c_str(), t.to.c_str(), t.firstMs, t.agreedMs, static_cast<unsigned long long>(t.termBefore),
                  static_cast<unsigned long long>(t.termAfter));
    }
    std::fflush(stdout);
    if (!c.restart(t.from, err)) {
      std::fprintf(stderr, "cannot restart %s: %s\n", t.from.c_str(), err.c_str());
      return false;
    }
  }
  return true;
}

void printTable(const std::vector<Result>& results, double idleSecs) {
  std::printf("\nFailover after SIGKILL of the master (ms; nearest-rank percentiles)\n");
  std::printf("%-8s %6s %6s | %7s %7s %7s %7s | %7s %7s | %6s | %7s %7s | %-15s | %s\n", "config", "trials", "failed",
              "p50", "p95", "p99", "max", "agr p50", "agr p99", "floor", "p50/E", "p99/E", "model window", "target p99");
  for (const auto& r : results) {
    const auto& p = r.profile;
    const double E = p.electionMs, H = p.heartbeatMs;
    const double tmin = E * (1.0 + 0.75 * (1000 - kPriority) / 1000.0);
    const double lo = tmin - H, hi = tmin + E / 4;
    const double p99 = percentile(r.first, 99);
    char window[32];
    std::snprintf(window, sizeof window, "[%.0f, %.0f]", lo, hi);
    std::printf("%-8s %6zu %6d | %7.1f %7.1f %7.1f %7.1f | %7.1f %7.1f | %6.0f | %7.2f %7.2f | %-15s | <= %.0f %s\n",
                p.name.c_str(), r.first.size(), r.failed, percentile(r.first, 50), percentile(r.first, 95), p99,
                r.first.empty() ? 0.0 : *std::max_element(r.first.begin(), r.first.end()), percentile(r.agreed, 50),
                percentile(r.agreed, 99), E, percentile(r.first, 50) / E, p99 / E, window, p.targetP99Ms,
                !r.first.empty() && r.failed == 0 && p99 <= p.targetP99Ms ? "ok" : "MISSED");
  }
  std::printf("\nSame-run baseline: wake-up delay of a 1 ms sleep in this process during the trials (ms)\n");
  for (const auto& r : results)
    std::printf("%-8s p50 %.3f  p99 %.3f  max %.1f  (%zu samples)\n", r.profile.name.c_str(), percentile(r.wakeupLate, 50),
                percentile(r.wakeupLate, 99),
                r.wakeupLate.empty() ? 0.0 : *std::max_element(r.wakeupLate.begin(), r.wakeupLate.end()),
                r.wakeupLate.size());
  std::printf("\nSteady state over %.0f s idle (3 agents; targets: RSS <= 25 MB, idle CPU <= 1%% of a core per agent)\n",
              idleSecs);
  std::printf("%-8s | %9s | %-40s | %-26s | %-26s\n", "config", "msgs/s", "by type (cluster, per s)", "RSS MB (each)",
              "idle CPU % (each)");
  for (const auto& r : results) {
    const auto& s = r.steady;
    if (!s.ok) {
      std::printf("%-8s | not measured: %s\n", r.profile.name.c_str(), s.error.c_str());
      continue;
    }
    std::string types;
    for (const auto& [t, n] : s.byType)
      if (n >= 0.5) types += (types.empty() ? "" : " ") + t + "=" + std::to_string(static_cast<int>(n + 0.5));
    char rss[64], cpu[64];
    std::snprintf(rss, sizeof rss, "%.1f %.1f %.1f", s.rssMb[0], s.rssMb[1], s.rssMb[2]);
    std::snprintf(cpu, sizeof cpu, "%.2f %.2f %.2f", s.cpuPct[0], s.cpuPct[1], s.cpuPct[2]);
    const double maxRss = std::max({s.rssMb[0], s.rssMb[1], s.rssMb[2]});
    const double maxCpu = std::max({s.cpuPct[0], s.cpuPct[1], s.cpuPct[2]});
    std::printf("%-8s | %9.1f | %-40s | %-20s %5s | %-20s %5s\n", r.profile.name.c_str(), s.messagesPerSec,
                types.c_str(), rss, maxRss <= 25 ? "ok" : "OVER", cpu, maxCpu <= 1.0 ? "ok" : "OVER");
  }
}

int usage(const char* argv0, int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: %s [--trials N] [--config default|tuned|both] [--idle-seconds S] [--keep]\n"
               "  Starts 3 egress-agent processes (--no-datapath) on a private 127.x.y.0/24 and measures the\n"
               "  time from SIGKILL of the master to a new master, N times per config (default 30), plus\n"
               "  steady-state messages/s, RSS and idle CPU. --keep leaves the temp dir (configs, logs).\n",
               argv0);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 30, idleSeconds = 5;
  std::string which = "both";
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc) trials = std::atoi(argv[++i]);
    else if (a == "--config" && i + 1 < argc) which = argv[++i];
    else if (a == "--idle-seconds" && i + 1 < argc) idleSeconds = std::atoi(argv[++i]);
    else if (a == "--keep") keep = true;
    else if (a == "-h" || a == "--help") return usage(argv[0], 0);
    else return usage(argv[0], 2);
  }
  if (trials < 1 || idleSeconds < 1 || (which != "default" && which != "tuned" && which != "both")) return usage(argv[0], 2);

  struct sigaction sa{};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  std::atexit(killChildren);

  char tmpl[] = "/tmp/bench_election.XXXXXX";
  if (!::mkdtemp(tmpl)) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = tmpl;
  // A /24 of our own, apart from the tests' ranges (they use 100..199 and 20..99 for x).
  const int x = 200 + static_cast<int>(::getpid() % 50), y = static_cast<int>((::getpid() / 50) % 250) + 1;

  std::vector<Profile> profiles;
  if (which != "tuned") profiles.push_back({"default", 100, 300, 700});
  if (which != "default") profiles.push_back({"tuned", 20, 60, 150});

  std::vector<Result> results;
  bool ok = true;
  for (std::size_t i = 0; i < profiles.size() && ok; ++i) {
    Result r;
    // Each config on its own /24 so a lingering socket of the previous one cannot interfere.
    ok = runProfile(profiles[i], trials, dir, x, (y + static_cast<int>(i)) % 250 + 1, std::chrono::seconds(idleSeconds), r);
    results.push_back(std::move(r));
  }
  double load[3] = {0, 0, 0};
  ::getloadavg(load, 3);
  printTable(results, idleSeconds);
  std::printf("\nmachine: %ld cores, load average %.2f %.2f %.2f (1/5/15 min) at the end of the run\n",
              ::sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
  if (keep || !ok) std::printf("configs and agent logs kept in %s\n", dir.c_str());
  else fs::remove_all(dir);
  return ok ? 0 : 1;
}
