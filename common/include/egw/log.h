#pragma once
// Logging: one spdlog logger per component ("agent", "election", "datapath", "api", "probe",
// "journal", "console.rpc", ...), all writing to stderr in one format: text or JSON lines.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "egw/config.h"

namespace egw::log {

// Configures the default sink and level; loggers made before or after share it.
// Returns false (and leaves logging as it was) for an unknown level.
bool setup(const std::string& level, LogFormat format);

// The logger for a component, created on first use with the current sink and level.
std::shared_ptr<spdlog::logger> get(const std::string& component);

// JSON-escapes a string (for the JSON format and for tests).
std::string jsonEscape(std::string_view s);

}  // namespace egw::log
