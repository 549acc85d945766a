#pragma once
// Protobuf `string` fields must hold valid UTF-8: a message with invalid UTF-8 serializes, but
// the receiver (or the journal on the next start) cannot parse it, and the whole message is
// lost. Text that goes into such fields from outside protobuf passes through here.
#include <string>
#include <string_view>

namespace egw {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool isValidUtf8(std::string_view s);

// `s` with every byte that does not start a well-formed sequence replaced by U+FFFD.
std::string toValidUtf8(std::string_view s);

}  // namespace egw
