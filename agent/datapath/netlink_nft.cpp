#include "agent/datapath/netlink_nft.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace egw {

namespace {

// A netlink message builder over a flat buffer (what libmnl would do).
class Batch {
 public:
  void begin(std::uint16_t type, std::uint16_t flags, std::uint8_t family, std::uint16_t resId, std::uint32_t seq) {
    start_ = buf_.size();
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_flags = flags;
    h.nlmsg_seq = seq;
    append(&h, sizeof h);
    nfgenmsg g{};
    g.nfgen_family = family;
    g.version = NFNETLINK_V0;
    g.res_id = htons(resId);
    append(&g, sizeof g);
  }
  void end() { header()->nlmsg_len = static_cast<std::uint32_t>(buf_.size() - start_); }
  void attr(std::uint16_t type, const void* data, std::size_t len) {
    nlattr a{};
    a.nla_type = type;
    a.nla_len = static_cast<std::uint16_t>(NLA_HDRLEN + len);
    append(&a, sizeof a);
    append(data, len);
    pad();
  }
  void str(std::uint16_t type, const std::string& s) { attr(type, s.c_str(), s.size() + 1); }
  std::size_t nest(std::uint16_t type) {
    auto at = buf_.size();
    nlattr a{};
    a.nla_type = static_cast<std::uint16_t>(type | NLA_F_NESTED);
    append(&a, sizeof a);
    return at;
  }
  void endNest(std::size_t at) {
    auto* a = reinterpret_cast<nlattr*>(buf_.data() + at);
    a->nla_len = static_cast<std::uint16_t>(buf_.size() - at);
  }
  const std::vector<char>& data() const { return buf_; }

 private:
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data() + start_); }
  void append(const void* p, std::size_t n) {
    auto* c = static_cast<const char*>(p);
    buf_.insert(buf_.end(), c, c + n);
  }
  void pad() { buf_.resize(NLMSG_ALIGN(buf_.size()), 0); }
  std::vector<char> buf_;
  std::size_t start_ = 0;
};

void element(Batch& b, std::uint16_t msg, std::uint16_t flags, const NftLeaseSocket::Target& t, std::uint32_t seq,
             std::int64_t timeoutMs) {
  b.begin(static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | msg), flags, t.family, 0, seq);
  b.str(NFTA_SET_ELEM_LIST_TABLE, t.table);
  b.str(NFTA_SET_ELEM_LIST_SET, t.set);
  auto list = b.nest(NFTA_SET_ELEM_LIST_ELEMENTS);
  auto el = b.nest(NFTA_LIST_ELEM);
  auto key = b.nest(NFTA_SET_ELEM_KEY);
  char name[IFNAMSIZ] = {};  // type ifname: IFNAMSIZ bytes, zero padded
  std::strncpy(name, t.ifname.c_str(), IFNAMSIZ - 1);
  b.attr(NFTA_DATA_VALUE, name, sizeof name);
  b.endNest(key);
  if (timeoutMs > 0) {
    std::uint64_t be = htobe64(static_cast<std::uint64_t>(timeoutMs));
    b.attr(NFTA_SET_ELEM_TIMEOUT, &be, sizeof be);
  }
  b.endNest(el);
  b.endNest(list);
  b.end();
}

}  // namespace

Result<std::unique_ptr<NftLeaseSocket>> NftLeaseSocket::open() {
  using R = Result<std::unique_ptr<NftLeaseSocket>>;
  int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return R::failure(std::string("nf_tables netlink socket: ") + std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int e = errno;
    ::close(fd);
    return R::failure(std::string("nf_tables netlink bind: ") + std::strerror(e));
  }
  // Never wait on the kernel forever: the worker thread must keep going.
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return std::unique_ptr<NftLeaseSocket>(new NftLeaseSocket(fd));
}

NftLeaseSocket::~NftLeaseSocket() { ::close(fd_); }

Status NftLeaseSocket::refresh(const std::vector<Target>& targets, std::chrono::milliseconds lease, bool* notFound) {
  if (notFound) *notFound = false;
  Batch b;
  const std::uint32_t first = seq_;
  b.begin(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, seq_++);
  b.end();
  const std::uint16_t add = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
  const std::uint16_t del = NLM_F_REQUEST | NLM_F_ACK;
  int expectAcks = 0;
  // Adding first makes the delete valid whether or not the element is still alive; the last
  // add sets the new timeout (an add of an existing element does not touch its timeout).
  const std::int64_t ms = lease.count() > 0 ? lease.count() : 1;
  for (const auto& t : targets) {
    element(b, NFT_MSG_NEWSETELEM, add, t, seq_++, ms);
    element(b, NFT_MSG_DELSETELEM, del, t, seq_++, 0);
    expectAcks += 2;
    if (lease.count() > 0) {
      element(b, NFT_MSG_NEWSETELEM, add, t, seq_++, ms);
      ++expectAcks;
    }
  }
  b.begin(NFNL_MSG_BATCH_END, NLM_F_REQUEST, AF_UNSPEC, NFNL_SUBSYS_NFTABLES, seq_++);
  b.end();

  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  const auto& d = b.data();
  if (::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return Status::failure(std::string("lease refresh: send: ") + std::strerror(errno));

  // Each message is acknowledged (0) or refused (-errno); a refusal aborts the whole batch.
  int acks = 0, firstError = 0;
  char buf[8192];
  while (acks < expectAcks) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::failure(std::string("lease refresh: receive: ") + std::strerror(errno));
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq < first || h->nlmsg_seq >= seq_) continue;  // a stale reply
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
      ++acks;
      if (err->error != 0 && firstError == 0) firstError = err->error;
    }
    // After a refusal the kernel may not acknowledge the rest: stop when nothing more is queued.
    if (firstError != 0) break;
  }
  if (firstError != 0) {
    if (notFound) *notFound = firstError == -ENOENT;
    return Status::failure("lease refresh: nf_tables refused the batch: " + std::string(std::strerror(-firstError)));
  }
  return {};
}

}  // namespace egw
