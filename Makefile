# The thin door to the meson build. Two commands matter:
#   make check   install what is missing, build, run every test
#   make bench   install what is missing, build, run the allocator comparison
# and make deb builds the Debian packages.
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

# AArch64 cross build (Debian's gcc-aarch64-linux-gnu), tests under qemu-user.
AARCH64_CROSS   = scripts/cross/aarch64-linux-gnu.ini
AARCH64_SYSROOT = $(BUILD)-aarch64-sysroot

.PHONY: all deps build check check-asan check-tsan check-aarch64 bench fuzz test deb clean

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
	$(MAKE) check-aarch64

# AddressSanitizer + UndefinedBehaviorSanitizer: unit, api and stress tiers.
check-asan: deps
	[ -f $(BUILD)-asan/build.ninja ] || $(MESON) setup $(BUILD)-asan $(SAN_OPTS) -Db_sanitize=address,undefined
	$(MESON) test -C $(BUILD)-asan --print-errorlogs --num-processes 2

# ThreadSanitizer (clang): the stress tier.
check-tsan: deps
	[ -f $(BUILD)-tsan/build.ninja ] || CC=clang CXX=clang++ $(MESON) setup $(BUILD)-tsan $(SAN_OPTS) -Db_sanitize=thread
	$(MESON) test -C $(BUILD)-tsan --print-errorlogs --num-processes 2

# AArch64 under user-mode emulation (qemu-user): the whole cross build
# (-Werror), then the unit and api tiers. The others are left out: preload and
# static run host programs (python3, gcc, ...); under qemu-user 7.2, fork from
# a threaded process trips an assertion of the emulator (stress-fork), RSS
# bounds count the emulator's own memory (stress, memory) and RLIMIT_AS is not
# applied to the target; ctl and hardening start target programs through a
# shell or an execve of /proc/self/exe.
check-aarch64: deps
	scripts/cross/criterion-sysroot arm64 $(AARCH64_SYSROOT)
	[ -f $(BUILD)-aarch64/build.ninja ] || $(MESON) setup $(BUILD)-aarch64 \
		--cross-file $(AARCH64_CROSS) -Dbench=false \
		-Dpkg_config_path=$(abspath $(AARCH64_SYSROOT))/pkgconfig
	$(MESON) compile -C $(BUILD)-aarch64
	$(MESON) test -C $(BUILD)-aarch64 --suite unit --suite api --print-errorlogs --num-processes 2

# Fuzz the prefixed API's call sequences for FUZZ_SECONDS (see tests/fuzz/README.md).
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

# Debian packages (libsable0, libsable-dev, sable-tools) built from a clean
# copy of the tree, into $(BUILD)-deb/, and checked with lintian.
deb: deps
	scripts/build-deb $(BUILD)-deb

bench: build
	$(PYTHON) bench/run $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-aarch64 $(AARCH64_SYSROOT) $(BUILD)-deb
