#!/bin/sh
# tests/fuzz/run.sh SECONDS [libFuzzer flags...] — fuzzes the prefixed API.
#
# Builds build-fuzz/fuzz_calls if it is missing or older than the sources
# (tests/fuzz/build.sh), then runs it for SECONDS on one core over the
# committed seed corpus tests/fuzz/corpus/. New interesting inputs go to a
# scratch corpus (build-fuzz/corpus/, kept between runs, never committed);
# crashes go to build-fuzz/artifacts/.
#
# Exit status: 0 when nothing was found; 77 (skipped) without a clang that
# has libFuzzer; otherwise non-zero, with the path of the crashing input.
#
# Environment: FUZZ_BUILD_DIR (default <source root>/build-fuzz), and what
# build.sh reads (FUZZ_CC, FUZZ_CFLAGS).
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD_DIR:-$root/build-fuzz}
bin=$out/fuzz_calls

if [ $# -lt 1 ]; then
    echo "usage: $0 SECONDS [libFuzzer flags...]" >&2
    exit 2
fi
seconds=$1
shift
case $seconds in
    '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac

# Rebuild when the binary is missing or anything it is made of is newer.
stale=
if [ ! -x "$bin" ]; then
    stale=yes
elif [ -n "$(find "$root/src" "$root/include" "$root/meson.build" \
        "$here/fuzz_calls.c" "$here/build.sh" -newer "$bin" -print 2>/dev/null | head -n 1)" ]; then
    stale=yes
fi
if [ -n "$stale" ]; then
    "$here/build.sh"
    rc=$?
    [ $rc -eq 0 ] || exit $rc
fi

scratch=$out/corpus
artifacts=$out/artifacts
mkdir -p "$scratch" "$artifacts"
stamp=$out/.run-start
: >"$stamp"

# LeakSanitizer would only see the harness's own (libc) allocations, which it
# frees; sable's memory is its own mmaps. Crashes are written, not minimised.
ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:handle_abort=1:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# One process, one core: no -jobs/-workers, no -fork. libFuzzer's default
# exit status for a crash is 77, which meson reads as "skipped": use 1.
"$bin" -max_len=4096 -timeout=10 -rss_limit_mb=4096 -max_total_time="$seconds" \
    -error_exitcode=1 -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" \
    "$scratch" "$here/corpus"
rc=$?
[ $rc -ne 77 ] || rc=1

found=$(find "$artifacts" -type f -newer "$stamp" -print 2>/dev/null)
if [ $rc -ne 0 ] || [ -n "$found" ]; then
    echo "run.sh: FINDING (fuzzer exit status $rc)" >&2
    for f in $found; do
        echo "run.sh: crashing input: $f" >&2
        echo "run.sh: reproduce with: $bin $f" >&2
    done
    [ $rc -ne 0 ] || rc=1
    exit $rc
fi
echo "run.sh: no finding in $seconds s"
exit 0
