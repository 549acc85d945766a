#pragma once
// The datapath as a pure function: (config, desired state) -> nft text. No I/O, no clock: the
// remaining lease comes in as a number. NftDatapath applies the text in one transaction; the
// golden tests in tests/unit/ruleset pin its shape (docs/datapath.md explains it).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "egw/config.h"
#include "egw/ip.h"
#include "egw/result.h"

namespace egw {

enum class DatapathRole { NoMaster, Follower, Master };
std::string roleName(DatapathRole r);

// What the driver wants the kernel to look like. Plain value; the latest one wins.
struct DesiredState {
  DatapathRole role = DatapathRole::NoMaster;
  std::optional<IpAddress> masterAddress;  // the master's cluster address; required for Follower
  std::optional<IpAddress> egressIp;       // Master in primary-ip mode: SNAT target. Empty: NftDatapath
                                           // fills in node.egress.ip or the interface's primary IPv4
  Millis lease{0};                         // Master: remaining lease; 0 = no lease element (fenced)

  bool operator==(const DesiredState&) const = default;
};

// Names the renderer gives to kernel objects; shared with NftDatapath and the tests.
namespace ruleset {
inline constexpr const char* kLeaseSet = "lease";
inline constexpr const char* kSnatComment = "snat";
inline constexpr const char* kFenceComment = "fence";
inline constexpr const char* kEgressOnlyComment = "egress-only";
inline constexpr const char* kFollowerGuardComment = "follower-guard";
inline constexpr const char* kSourceGuardComment = "source-guard";
inline constexpr const char* kArpFenceComment = "arp-fence";
inline constexpr const char* kNoMasterForwardComment = "no-master-drop-forward";
inline constexpr const char* kNoMasterOutputComment = "no-master-drop-output";
// Per policy: "mark-prerouting:<policy>" and "mark-output:<policy>".
}  // namespace ruleset

// Checks what the renderer needs beyond the config loader's validation (an egress IP for a
// primary-ip master, a master address for a follower, names that are safe to quote).
Status checkRenderable(const Config& cfg, const DesiredState& state);

// The whole table `inet <datapath.table>` (and, in virtual-ip mode, `arp <datapath.table>`),
// as one nft script that replaces any previous version in one transaction. Its sets and chains
// depend on the config only; the role decides the rules in the chains and the lease element.
// Precondition: checkRenderable(cfg, state).ok().
std::string renderRuleset(const Config& cfg, const DesiredState& state);

// The same tables' change to `state` when the kernel already holds renderRuleset(cfg, any
// role): flush and refill every chain and the lease set, in one transaction. Unlike replacing
// the table, this is atomic for packets: the chains stay hooked, and a packet sees either the
// old rules or the new ones. (Replacing the table let selected packets through unmarked or
// unguarded while the hooks moved: tests/e2e/datapath roleChangesLetNothingThrough.)
std::string renderRoleChange(const Config& cfg, const DesiredState& state);

// One transaction that (re)creates the lease element with `lease` to live, whether or not the
// previous one is still there (add; delete; add). Fails only if our table is gone.
std::string renderLeaseRefresh(const Config& cfg, Millis lease);

// Deletes our tables (and nothing else). `nft` fails on a missing table, so each is created
// empty first: the script works whether or not they exist.
std::string renderRemoveAll(const Config& cfg);

// The number of rules renderRuleset produces in `inet <table>`; reconcile compares it with the
// kernel to notice a flushed table.
std::size_t expectedRuleCount(const Config& cfg, const DesiredState& state);

}  // namespace egw
