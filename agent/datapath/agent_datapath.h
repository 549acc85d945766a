#pragma once
// The kernel datapath behind the driver's AgentDatapath port (agent/core/ports.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/core/ports.h"
#include "egw/config.h"

namespace egw {

// The real one (nftables + netlink on a worker thread). `report` is called from the worker.
Result<std::unique_ptr<AgentDatapath>> makeKernelDatapath(const Config& cfg, std::function<void(DatapathReport)> report);

}  // namespace egw
