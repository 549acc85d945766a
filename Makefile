# Entry points for people: `make demo` runs the local cluster and the console, `make test` runs
# the suite. Both install missing Debian packages and build first.
BUILD ?= build/release
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test test-unit test-asan test-asan-full test-tsan fuzz demo bench package clean screenshot

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	scripts/run-tests.sh $(BUILD)

test-unit: build
	cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

# Sanitizers and fuzzing (README.md "Development"). build/asan (clang, ASan+UBSan, fuzz
# coverage) serves test-asan, test-asan-full and fuzz; build/tsan serves test-tsan.
test-asan: deps
	scripts/run-sanitizers.sh asan build/asan

test-asan-full: deps
	scripts/run-sanitizers.sh asan-full build/asan

test-tsan: deps
	scripts/run-sanitizers.sh tsan build/tsan

FUZZ_SECONDS ?= 20
fuzz: deps
	scripts/run-fuzz.sh build/asan $(FUZZ_SECONDS)

demo: build
	scripts/demo.sh $(BUILD)

bench: build
	scripts/bench.sh $(BUILD)

# The three Debian packages (egress-agent, egress-console, egressctl) into $(BUILD)/packages;
# dependencies come from dpkg-shlibdeps (cmake/Packaging.cmake). tests/package installs them.
package: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target egw_packaged
	cd $(BUILD) && cpack -G DEB
	@ls -1 $(BUILD)/packages/*.deb

clean:
	rm -rf build
