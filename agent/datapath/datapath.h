#pragma once
// The kernel side of the datapath, one call per operation. Not thread-safe: DatapathWorker owns
// one on its own thread (nothing here may run on the election's thread: a kernel call can take
// milliseconds). NftDatapath is the real one (nftables + libnl); tests may fake it.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/health.h"
#include "agent/core/ruleset.h"
#include "egw/result.h"

namespace egw {

// Why an operation failed, so callers branch on a kind, never on message text.
enum class DatapathErrorKind { None, InvalidInput, NotFound, Kernel };

struct DatapathError {
  DatapathErrorKind kind = DatapathErrorKind::None;
  std::string message;  // with context: the object, the interface, errno or nft's own message
};

struct RuleCounter {
  std::string rule;  // the rule's comment, e.g. "snat", "mark-prerouting:partner-api"
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool operator==(const RuleCounter&) const = default;
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // Makes the kernel match `state`: nft table in one transaction, then policy routing and the
  // VIP. On failure the previous nft table stays as it was (one transaction) and the error says
  // which step failed.
  virtual DatapathError apply(const DesiredState& state) = 0;

  // The lease element now ends `lease` from now (0: ends it at once). One small transaction.
  virtual DatapathError refreshLease(Millis lease) = 0;

  // Compares the kernel with the last applied state and repairs what differs. Returns one line
  // per repair ("table inet egress_gateway missing", "ip rule fwmark ... missing"), empty if none.
  virtual Result<std::vector<std::string>> reconcile() = 0;

  // Per-rule counters of our table.
  virtual Result<std::vector<RuleCounter>> counters() = 0;

  // Interface up, egress IP present, last apply ok, host sysctls.
  virtual HealthInputs health() = 0;

  // The egress IP in use: node.egress.ip, else the egress interface's primary IPv4.
  virtual std::optional<IpAddress> egressIp() = 0;

  // Deletes our tables, our ip rule, our route table's routes and (if we added it) the VIP.
  virtual DatapathError removeAll() = 0;
};

}  // namespace egw
