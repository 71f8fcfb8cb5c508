# The thin door to the meson build. Two commands matter:
#   make check   install what is missing, build, run every test
#   make bench   install what is missing, build, run the allocator comparison
BUILD   ?= build
MESON   ?= meson
PYTHON  ?= /usr/bin/python3
QUICK   ?=
BENCH_ARGS ?=

.PHONY: all deps build check bench test clean

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

bench: build
	$(PYTHON) bench/run $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
