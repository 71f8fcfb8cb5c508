#!/bin/sh
# tests/fuzz/build.sh — builds the libFuzzer target over the prefixed API.
#
#   tests/fuzz/build.sh            -> build-fuzz/fuzz_calls
#
# libFuzzer needs clang, so this stays outside the gcc meson build: the
# size-class tables are generated into a temporary directory with
# src/sizeclass/gen_tables.c, then the allocator's core sources (the
# `core_sources` list of the top-level meson.build) and fuzz_calls.c are
# compiled with -fsanitize=fuzzer,address,undefined.
#
# Environment: FUZZ_BUILD_DIR (default <source root>/build-fuzz), FUZZ_CC
# (default: clang, else clang-14), FUZZ_CFLAGS (extra flags).
# Exit status 77 (meson's "skipped") when no clang with libFuzzer is found.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$root/build-fuzz}

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
    for c in clang clang-14; do
        if command -v "$c" >/dev/null 2>&1; then cc=$c; break; fi
    done
fi
if [ -z "$cc" ]; then
    echo "build.sh: clang not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 77
fi

cd "$root"

# The core sources, as meson builds them: the lines between
# "core_sources = files(" and the closing parenthesis.
sources=$(awk '/^core_sources *= *files\(/ { inside = 1; next }
               inside && /^\)/ { exit }
               inside' meson.build | grep -o "'[^']*'" | tr -d "'")
if [ -z "$sources" ]; then
    echo "build.sh: cannot find core_sources in meson.build" >&2
    exit 1
fi
for f in $sources; do
    [ -f "$f" ] || { echo "build.sh: $f (from meson.build) does not exist" >&2; exit 1; }
done

mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sable-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# A probe: does this clang have the libFuzzer runtime?
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
    >"$tmp/probe.c"
if ! "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/probe" "$tmp/probe.c" 2>"$tmp/probe.err"; then
    echo "build.sh: $cc cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev):" >&2
    cat "$tmp/probe.err" >&2
    exit 77
fi

# Size-class tables, as meson's sc_gen custom target makes them.
"$cc" -D_GNU_SOURCE -Iinclude -Isrc -O1 -o "$tmp/sc_gen" src/sizeclass/gen_tables.c
"$tmp/sc_gen" "$tmp/sc_tables.h"

# The library's own flags (meson.build's lib_c_args, less visibility, which
# does not matter in an executable), then the sanitizers. UBSan findings
# abort instead of printing and going on.
set -- -std=c17 -g -O1 -fno-omit-frame-pointer \
    -D_GNU_SOURCE -DSABLE_TLS_MODEL=\"initial-exec\" -ftls-model=initial-exec \
    -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
    -Iinclude -Isrc -I"$tmp" \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wall -Wextra -Wno-unused-parameter
# shellcheck disable=SC2086
"$cc" "$@" ${FUZZ_CFLAGS:-} -o "$tmp/fuzz_calls" $sources tests/fuzz/fuzz_calls.c -lpthread
mv -f "$tmp/fuzz_calls" "$out/fuzz_calls"
echo "build.sh: built $out/fuzz_calls"
