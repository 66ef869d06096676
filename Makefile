# The commands people type. The work is in scripts/ and CMake; see README.md.
BUILD      ?= build
JOBS       ?= 2

.PHONY: all build deps test unit demo clean format

all: build

deps:
	scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# Everything: install what is missing, build under ASan+UBSan, unit tests, a sandbox for the
# integration tests (brought down also when a test fails), fuzz smoke runs. Non-zero on any failure.
test:
	scripts/test

# Unit tests only, in the sanitizer build (no servers needed).
unit:
	scripts/test --unit-only

demo:
	scripts/demo

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
