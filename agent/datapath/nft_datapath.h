#pragma once
// The real datapath: the nft table through libnftables (one transaction per change), policy
// routing and the VIP through libnl-route-3, gratuitous ARP through AF_PACKET. Owned by one
// thread (DatapathWorker); see docs/datapath.md.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/datapath/datapath.h"
#include "agent/datapath/netlink.h"
#include "agent/datapath/netlink_nft.h"

struct nft_ctx;

namespace egw {

class NftDatapath : public Datapath {
 public:
  // Priority of our `ip rule` (before main at 32766; clear of the usual 0/32766/32767).
  static constexpr std::uint32_t kRulePriority = 900;
  static constexpr int kGarpPairs = 3;

  // Validates what can be checked before touching the kernel (the config, the interfaces).
  // Applies nothing.
  static Result<std::unique_ptr<NftDatapath>> create(const Config& cfg);
  ~NftDatapath() override;

  DatapathError apply(const DesiredState& state) override;
  // Raw nf_tables batch (netlink_nft.h), not libnftables: ~0.1 ms whatever the set sizes.
  DatapathError refreshLease(Millis lease) override;
  Result<std::vector<std::string>> reconcile() override;
  Result<std::vector<RuleCounter>> counters() override;
  HealthInputs health() override;
  DatapathError removeAll() override;

  std::optional<IpAddress> egressIp() override;
  // One nft script in one transaction; the error carries nft's own message.
  DatapathError runScript(const std::string& script);
  // `nft -j list table <family> <table>`; terse leaves set elements out (cheap for big sets).
  Result<std::string> listTableJson(const std::string& family, bool terse);

 private:
  NftDatapath(Config cfg, nft_ctx* nft, std::unique_ptr<Netlink> nl, std::unique_ptr<NftLeaseSocket> lease);
  struct Resolved {
    DesiredState state;                 // with egressIp filled in for a master
    std::optional<IpAddress> gateway;   // next hop in our route table (none for NoMaster)
    int routeIfindex = 0;
  };
  Result<Resolved> resolve(const DesiredState& state);
  DatapathError applyWanted();
  DatapathError applyResolved(const Resolved& r);
  Status applyRouting(const Resolved& r);
  Status applyVip(const Resolved& r, bool announce);
  Millis remainingLease() const;
  FwmarkRule ourRule() const;
  std::vector<std::string> hostProblems();

  Config cfg_;
  nft_ctx* nft_;
  std::unique_ptr<Netlink> nl_;
  std::unique_ptr<NftLeaseSocket> lease_;  // the per-renewal fast path (see netlink_nft.h)
  std::optional<DesiredState> wanted_;  // last apply() request
  std::optional<Resolved> applied_;     // what the kernel should hold now
  std::string lastRuleset_;             // the nft text in the kernel (empty: unknown)
  std::chrono::steady_clock::time_point leaseEnd_{};
  bool lastApplyOk_ = true;
  std::string lastApplyError_;
};

}  // namespace egw
