#pragma once
// The systemd readiness protocol (sd_notify(3)) without libsystemd: one datagram with
// newline-separated assignments ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to the
// AF_UNIX socket named by $NOTIFY_SOCKET. A name starting with '@' is in the abstract namespace.
//
// Contract: without $NOTIFY_SOCKET (not started by systemd with Type=notify) nothing is sent and
// the result is NotConfigured, so callers may notify unconditionally. The send never blocks
// (MSG_DONTWAIT); a full or missing socket is an error the caller may log and otherwise ignore.
#include <string>
#include <string_view>

#include "egw/result.h"

namespace egw {

enum class NotifyResult { Sent, NotConfigured };

// Sends `state` to the socket named by $NOTIFY_SOCKET (read on every call).
Result<NotifyResult> sdNotify(std::string_view state);

// Sends `state` to the socket `address` ("/run/..." or "@abstract"); empty: NotConfigured.
Result<NotifyResult> sdNotifyTo(const std::string& address, std::string_view state);

}  // namespace egw
