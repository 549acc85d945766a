# All third-party dependencies come from Debian 12 packages (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
if(EGW_TSAN AND gRPC_DIR MATCHES "^/usr/")
  # Debian's gRPC and abseil are not instrumented: TSan would report every hand-over through them.
  message(WARNING "EGW_TSAN with the system's gRPC (${gRPC_DIR}): TSan cannot see gRPC's "
    "synchronization and will report every hand-over through it. Use scripts/run-sanitizers.sh tsan, "
    "or EGW_TSAN_DEPS=$(scripts/build-tsan-deps.sh) cmake --preset tsan (README \"Development\").")
endif()
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(yaml-cpp CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBNL REQUIRED IMPORTED_TARGET libnl-3.0 libnl-route-3.0)
pkg_check_modules(NFTABLES REQUIRED IMPORTED_TARGET libnftables)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
find_package(Qt6 6.4 REQUIRED COMPONENTS Core Network Test)
if(EGW_BUILD_CONSOLE)
  find_package(Qt6 6.4 REQUIRED COMPONENTS Widgets Charts)
endif()
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
