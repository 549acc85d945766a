// Linked into the test drivers that start egress-agent processes (QProcess: fork, then exec) in
// TSan builds only; see tests/sanitizers/CMakeLists.txt and README "Development".
//
// gRPC 1.51's event engine registers pthread_atfork handlers, unconditionally, that stop its
// thread pool before every fork and start it again after (in the parent and in the child). In a
// process that forks while its gRPC client channels connect and fail (agents being killed and
// restarted), TSan then reports races between gRPC core's own threads: connect handshakes, the
// executor's closure lists, channel args, completion queues. Every one of them has gRPC core on
// both sides and none has a frame of ours; no process that does not fork reports any of them
// (the in-process API and console client tests and every agent run clean with the same gRPC).
//
// These suppressions apply to this process only: TSan reads __tsan_default_suppressions() from the
// binary it runs in, so the agents these drivers start are checked with tests/sanitizers/tsan.supp
// alone, and so are the tests that do not fork. Our own code in a driver runs on its main thread
// (blocking gRPC calls, QProcess); a race of its with gRPC's threads would be hidden here.
extern "C" const char* __tsan_default_suppressions() {
  return "race:libgrpc.so\n"
         "race:libgpr.so\n";
}
