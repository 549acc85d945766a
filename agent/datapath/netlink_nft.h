#pragma once
// The lease refresh as a raw nf_tables netlink batch. Why not libnftables: any `delete element`
// makes libnftables fetch every set element of every table into its cache first (32 ms with 10k
// destination CIDRs on this machine); the refresh runs on every lease renewal (every heartbeat)
// and must cost well under a millisecond. The batch is the same transaction `nft` would send:
//   NEWSETELEM (create if gone), DELSETELEM, NEWSETELEM with the new timeout,
// all-or-nothing. Used only for the lease; everything else goes through libnftables.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "egw/result.h"

namespace egw {

class NftLeaseSocket {
 public:
  struct Target {
    std::uint8_t family;  // NFPROTO_INET or NFPROTO_ARP
    std::string table;
    std::string set;
    std::string ifname;   // the element (set type ifname)
  };
  // Opens a NETLINK_NETFILTER socket in the calling thread's network namespace.
  static Result<std::unique_ptr<NftLeaseSocket>> open();
  ~NftLeaseSocket();
  NftLeaseSocket(const NftLeaseSocket&) = delete;
  NftLeaseSocket& operator=(const NftLeaseSocket&) = delete;

  // One transaction over all targets: each element ends `lease` from now; lease <= 0 deletes
  // the elements instead. Fails (changing nothing) if a table or set is missing; `notFound` then.
  Status refresh(const std::vector<Target>& targets, std::chrono::milliseconds lease, bool* notFound = nullptr);

 private:
  explicit NftLeaseSocket(int fd) : fd_(fd) {}
  int fd_;
  std::uint32_t seq_ = 1;
};

}  // namespace egw
