// Linked into egressctl in ASan builds only (tests/sanitizers/CMakeLists.txt); never in a release.
//
// egressctl does not call OpenSSL itself (neither it nor `common` includes an OpenSSL header):
// every libcrypto allocation in it is made by gRPC's TLS (tsi) for a channel. The ASan suite saw
// egressctl exit, now and then (1 or 2 of its several hundred runs per suite, in the failover,
// join and fencing e2e tests where agents are frozen or killed while egressctl talks to them),
// with 7,680 bytes of libcrypto still allocated: two X509 certificates and their parts, the
// shape of a TLS context or handshake that gRPC's threads had not torn down yet when the process
// ended. Waiting for gRPC's shutdown at exit (grpc_init + grpc_shutdown_blocking) did not
// prevent it. A leak at the exit of a short-lived command is not a defect of ours to fix, and it
// is not reproducible on demand, so it is suppressed in this binary only: the agents and every
// other process keep tests/sanitizers/lsan.supp alone, which suppresses nothing.
extern "C" const char* __lsan_default_suppressions() { return "leak:libcrypto.so\n"; }

// Full stacks for anything else egressctl might leak: libcrypto and gRPC's event engine have no
// frame pointers, so the fast unwinder stops at their first frame. egressctl is short-lived, so
// the slower unwinder costs nothing that matters.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
