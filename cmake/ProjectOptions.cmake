# One interface target carries the language level, warnings and Qt's safety defines.
add_library(project_options INTERFACE)
target_compile_features(project_options INTERFACE cxx_std_20)
target_compile_options(project_options INTERFACE -Wall -Wextra -Wpedantic)
target_compile_definitions(project_options INTERFACE
  QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_CONTEXTLESS_CONNECT
  QT_NO_URL_CAST_FROM_STRING QT_NO_NARROWING_CONVERSIONS_IN_CONNECT
  EGW_VERSION="${PROJECT_VERSION}")
# The sanitizer flags are a target of their own so that the generated protobuf/gRPC code (proto/,
# which does not take our warnings) is instrumented too: TSan sees races on messages, ASan
# overflows in them, and every file compiles the protobuf headers the same way.
add_library(sanitizer_options INTERFACE)
target_link_libraries(project_options INTERFACE sanitizer_options)
if(EGW_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "EGW_FUZZ needs clang (libFuzzer): cmake -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
endif()
if(EGW_SANITIZE OR EGW_FUZZ)
  target_compile_options(sanitizer_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(sanitizer_options INTERFACE -fsanitize=address,undefined)
endif()
# libFuzzer targets (tests/fuzz): with EGW_FUZZ every object also gets libFuzzer's coverage
# instrumentation (fuzzer-no-link), and only the fuzz executables link libFuzzer's main
# (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt). The other executables link as usual: the
# sanitizer runtime defines the coverage callbacks weakly. So one ASan build directory serves the
# ASan test run and the fuzzers (scripts/run-sanitizers.sh asan, scripts/run-fuzz.sh): the
# objects are compiled once.
if(EGW_FUZZ)
  target_compile_options(sanitizer_options INTERFACE -fsanitize=fuzzer-no-link)
endif()
if(EGW_TSAN)
  # tsan_protobuf_abi.h: keeps protobuf's MapFieldBase at the layout of the uninstrumented
  # libprotobuf (its header adds members under __SANITIZE_THREAD__); see the header.
  target_compile_options(sanitizer_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer
    $<$<COMPILE_LANGUAGE:CXX>:-include${CMAKE_CURRENT_LIST_DIR}/tsan_protobuf_abi.h>)
  target_link_options(sanitizer_options INTERFACE -fsanitize=thread)
endif()
if((EGW_SANITIZE OR EGW_FUZZ) AND EGW_TSAN)
  message(FATAL_ERROR "ASan (EGW_SANITIZE, EGW_FUZZ) and EGW_TSAN cannot be combined; use separate build directories")
endif()
