// Force-included (-include) into every C++ file of an EGW_TSAN build (cmake/ProjectOptions.cmake).
//
// protobuf 3.21's map_field.h gives MapFieldBase two extra members (seq1_, seq2_) when
// __SANITIZE_THREAD__ is defined, which gcc does for -fsanitize=thread. Debian's libprotobuf is
// built without it, so its out-of-line MapFieldBase functions (InternalSwap, SetMapDirty,
// SyncMapWithRepeatedField, ...) and our TSan-compiled code disagree on where arena_,
// repeated_field_, state_ and the Map of every map<> field live (72 vs 80 bytes). The result was
// not a race report but garbage: every egress-agent under TSan died with a SEGV while protobuf
// serialized ElectionMessage.known_events (the only map<> field) in PeerClients::send.
// Including map_field.h first with the macro hidden fixes its layout to the library's for the
// whole translation unit (include guards keep later includes from seeing the macro). Nothing
// else is affected: the macro is back for everything after this header (libstdc++, Qt, abseil
// and gRPC annotations), and no other protobuf header changes a layout under TSan.
#pragma once
#pragma push_macro("__SANITIZE_THREAD__")
#undef __SANITIZE_THREAD__
#include <google/protobuf/map_field.h>
#pragma pop_macro("__SANITIZE_THREAD__")
