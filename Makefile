# The thin door to the meson build. Two commands matter:
#   make check   install what is missing, build, run every test
#   make bench   install what is missing, build, run the allocator comparison
BUILD   ?= build
MESON   ?= meson
PYTHON  ?= /usr/bin/python3
QUICK   ?=
BENCH_ARGS ?=

# Sanitizer builds of the prefixed API (no preload: a sanitizer owns malloc).
# They are also debug builds: the lock-order witness (src/os/lock.h) checks
# every acquire of the unit, api and stress tiers.
SAN_OPTS = -Dpreload=false -Dbench=false -Db_lundef=false --buildtype=debugoptimized -Ddebug_checks=true

FUZZ_SECONDS ?= 60

.PHONY: all deps build check check-asan check-tsan bench fuzz test clean

all: build

deps:
	@./scripts/install-deps

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=release -Doptimization=2

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

test: build
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2

check: build
	$(MESON) test -C $(BUILD) --print-errorlogs --num-processes 2
	$(MAKE) check-asan check-tsan

# AddressSanitizer + UndefinedBehaviorSanitizer: unit, api and stress tiers.
check-asan: deps
	[ -f $(BUILD)-asan/build.ninja ] || $(MESON) setup $(BUILD)-asan $(SAN_OPTS) -Db_sanitize=address,undefined
	$(MESON) test -C $(BUILD)-asan --print-errorlogs --num-processes 2

# ThreadSanitizer (clang): the stress tier.
check-tsan: deps
	[ -f $(BUILD)-tsan/build.ninja ] || CC=clang CXX=clang++ $(MESON) setup $(BUILD)-tsan $(SAN_OPTS) -Db_sanitize=thread
	$(MESON) test -C $(BUILD)-tsan --print-errorlogs --num-processes 2

# Fuzz the prefixed API's call sequences for FUZZ_SECONDS (see tests/fuzz/README.md).
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: build
	$(PYTHON) bench/run $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan
