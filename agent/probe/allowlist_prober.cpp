#include "agent/probe/allowlist_prober.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstring>

#include "egw/log.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace egw {

namespace pb = egressgw::v1;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

socklen_t toSockaddr(const IpAddress& ip, std::uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (ip.isV4()) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    std::memcpy(&a->sin_addr, ip.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
  a->sin6_family = AF_INET6;
  a->sin6_port = htons(port);
  std::memcpy(&a->sin6_addr, ip.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

// The target's address in the source's family: an IP literal, or the first answer of a lookup.
// (getaddrinfo has no timeout; an IP literal is what the config example uses.)
Result<IpAddress> resolve(const Endpoint& target, const IpAddress& source) {
  if (auto ip = IpAddress::parse(target.host)) return *ip;
  addrinfo hints{};
  hints.ai_family = source.isV4() ? AF_INET : AF_INET6;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(target.host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || !res)
    return Error{"cannot resolve " + target.host + (source.isV4() ? " to an IPv4 address: " : " to an IPv6 address: ") +
                 ::gai_strerror(rc)};
  std::array<std::uint8_t, 16> b{};
  IpAddress::Family fam = IpAddress::Family::V4;
  if (res->ai_family == AF_INET) {
    std::memcpy(b.data(), &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, 4);
  } else {
    fam = IpAddress::Family::V6;
    std::memcpy(b.data(), &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, 16);
  }
  ::freeaddrinfo(res);
  return IpAddress::fromBytes(fam, b);
}

}  // namespace

ProbeResult AllowlistProber::probeOnce(const Options& o, int wakeFd) {
  const auto t0 = Clock::now();
  const std::string tgt = o.target.str(), src = o.source.str();
  auto done = [&](ProbeOutcome outcome, std::string detail) {
    ProbeResult r;
    r.outcome = outcome;
    r.verdict = outcome == ProbeOutcome::Accepted  ? AllowlistVerdict::Ok
                : outcome == ProbeOutcome::Refused ? AllowlistVerdict::Rejected
                                                   : AllowlistVerdict::Unverified;
    r.detail = std::move(detail);
    r.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
    return r;
  };
  auto classify = [&](int err) {
    if (err == ECONNREFUSED)
      return done(ProbeOutcome::Refused, tgt + " refused the connection from " + src + " (TCP reset)");
    std::string why = std::strerror(err);
    if (err == EPERM || err == EACCES) why += "; a firewall rule on this node dropped it";
    if (err == EHOSTUNREACH) why += "; an ICMP unreachable or prohibited answer, or no neighbour";
    return done(ProbeOutcome::Unreachable, "cannot reach " + tgt + " from " + src + ": " + why);
  };

  auto dstIp = resolve(o.target, o.source);
  if (!dstIp.ok()) return done(ProbeOutcome::LocalError, dstIp.error());
  if (dstIp->family() != o.source.family())
    return done(ProbeOutcome::LocalError, "the source " + src + " and the target " + tgt + " are of different IP families");

  sockaddr_storage srcSa, dstSa;
  socklen_t srcLen = toSockaddr(o.source, 0, srcSa), dstLen = toSockaddr(*dstIp, o.target.port, dstSa);
  Fd fd(::socket(o.source.isV4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return done(ProbeOutcome::LocalError, std::string("cannot open a probe socket: ") + std::strerror(errno));
  int one = 1;
  // The port is chosen at connect(), so probes do not use up the bind port range.
  (void)::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  if (!o.device.empty() &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, o.device.c_str(), static_cast<socklen_t>(o.device.size())) != 0)
    return done(ProbeOutcome::LocalError, "cannot bind the probe socket to interface " + o.device + ": " + std::strerror(errno));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&srcSa), srcLen) != 0) {
    int err = errno;
    if (err == EADDRNOTAVAIL)
      return done(ProbeOutcome::LocalError, "cannot probe from " + src +
                                                ": the address is not on any interface of this node (bind: " +
                                                std::strerror(err) + ")");
    return done(ProbeOutcome::LocalError, "cannot bind the probe socket to " + src + ": " + std::strerror(err));
  }
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&dstSa), dstLen) == 0)
    return done(ProbeOutcome::Accepted, "TCP connect to " + tgt + " from " + src + " accepted in 0 ms");
  if (errno != EINPROGRESS) return classify(errno);

  const auto deadline = t0 + o.timeout;
  for (;;) {
    auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
    if (left < 0) left = 0;
    pollfd p[2] = {{fd.get(), POLLOUT, 0}, {wakeFd, POLLIN, 0}};
    int n = ::poll(p, wakeFd >= 0 ? 2 : 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return done(ProbeOutcome::LocalError, std::string("poll: ") + std::strerror(errno));
    if (n == 0 && Clock::now() < deadline) continue;
    if (n == 0)
      return done(ProbeOutcome::Timeout, "no answer within " + formatDuration(o.timeout) + " (TCP connect to " + tgt +
                                             " from " + src + "; a firewall that silently drops this source looks the same as a service that is down)");
    if (wakeFd >= 0 && (p[1].revents & POLLIN)) return done(ProbeOutcome::LocalError, "probe abandoned: the prober is stopping");
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0) {
      auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
      return done(ProbeOutcome::Accepted, "TCP connect to " + tgt + " from " + src + " accepted in " + std::to_string(ms) + " ms");
    }
    return classify(err);
  }
}

std::optional<AllowlistProber::Options> AllowlistProber::fromConfig(const ProbeConfig& probe, const IpAddress& source,
                                                                    std::string device) {
  if (!probe.target) return std::nullopt;
  return Options{*probe.target, source, probe.interval, probe.timeout, std::move(device)};
}

AllowlistProber::AllowlistProber(Options options, Callback callback)
    : callback_(std::move(callback)), options_(std::move(options)) {}

AllowlistProber::~AllowlistProber() { stop(); }

void AllowlistProber::start() {
  std::lock_guard lk(mu_);
  if (running_) return;
  wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void AllowlistProber::stop() {
  bool wasRunning = false;
  {
    std::lock_guard lk(mu_);
    wasRunning = running_;
    if (wasRunning) {
      assert(std::this_thread::get_id() != thread_.get_id() && "stop() from the prober's callback");
      stopping_ = true;
      if (wakeFd_ >= 0) {
        std::uint64_t one = 1;
        (void)!::write(wakeFd_, &one, sizeof one);
      }
    }
  }
  if (wasRunning) {
    cv_.notify_all();
    thread_.join();
    std::lock_guard lk(mu_);
    running_ = false;
    if (wakeFd_ >= 0) ::close(wakeFd_);
    wakeFd_ = -1;
  }
  std::vector<Helper> helpers;
  {
    std::lock_guard lk(helpersMu_);
    helpers.swap(helpers_);
  }
  for (auto& h : helpers) h.thread.join();
}

void AllowlistProber::probeAsync(Done done) {
  std::lock_guard lk(helpersMu_);
  std::erase_if(helpers_, [](Helper& h) {
    if (!h.finished->load()) return false;
    h.thread.join();
    return true;
  });
  auto finished = std::make_shared<std::atomic<bool>>(false);
  helpers_.push_back({finished, std::thread([this, done = std::move(done), finished] {
                        done(probeNow());
                        finished->store(true);
                      })});
}

void AllowlistProber::setSource(const IpAddress& source) {
  std::lock_guard lk(mu_);
  options_.source = source;
}

ProbeResult AllowlistProber::last() const {
  std::lock_guard lk(mu_);
  return last_;
}

int AllowlistProber::consecutiveTimeouts() const {
  std::lock_guard lk(mu_);
  return consecutiveTimeouts_;
}

ProbeResult AllowlistProber::record(ProbeResult r) {
  r.seq = ++seq_;
  consecutiveTimeouts_ = r.outcome == ProbeOutcome::Timeout ? consecutiveTimeouts_ + 1 : 0;
  r.consecutiveTimeouts = consecutiveTimeouts_;
  if (r.verdict != last_.verdict)
    log::get("probe")->info("allowlist verdict {} -> {}: {}", verdictName(last_.verdict), verdictName(r.verdict), r.detail);
  last_ = r;
  return r;
}

ProbeResult AllowlistProber::probeNow() {
  std::unique_lock lk(mu_);
  if (!running_ || stopping_) {
    Options o = options_;
    lk.unlock();
    ProbeResult r = probeOnce(o);
    lk.lock();
    return record(std::move(r));
  }
  const std::uint64_t ticket = ++wanted_;
  cv_.notify_all();
  // A probe in flight may finish first (up to one timeout), then ours (another): allow both.
  const auto limit = 2 * options_.timeout + milliseconds(2000);
  if (!cv_.wait_for(lk, limit, [&] { return served_ >= ticket || stopping_; }) || served_ < ticket) {
    ProbeResult r;
    r.verdict = AllowlistVerdict::Unverified;
    r.detail = stopping_ ? "the prober is stopping" : "the probe did not finish within " + formatDuration(limit);
    return r;
  }
  return last_;
}

void AllowlistProber::run() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    const std::uint64_t ticket = wanted_;
    const Options o = options_;
    const int wake = wakeFd_;
    lk.unlock();
    ProbeResult r = probeOnce(o, wake);
    lk.lock();
    if (stopping_) break;
    r = record(std::move(r));
    served_ = std::max(served_, ticket);
    lk.unlock();
    if (callback_) callback_(r);
    lk.lock();
    cv_.notify_all();
    cv_.wait_for(lk, o.interval, [&] { return stopping_ || wanted_ > served_; });
  }
}

}  // namespace egw
