#!/usr/bin/env bash
# Links full_static.c with -static and libsable.a at test time (a link failure
# is this test's failure, not the build's), then runs it.
# Usage: full_static.sh <cc> <full_static.c> <libsable.a> <include dir>
set -euo pipefail
cc=$1 src=$2 lib=$3 inc=$4
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || [ -f /usr/lib/libc.a ] || [ -f /usr/lib64/libc.a ] || {
    echo "SKIP: no static libc"
    exit 77
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
if ! $cc -std=c17 -D_GNU_SOURCE -O2 -static -I"$inc" "$src" "$lib" -pthread -o "$dir/prog" \
    2>"$dir/link.err"; then
    head -20 "$dir/link.err" >&2
    echo "FAIL: static link with libsable.a failed" >&2
    exit 1
fi
"$dir/prog"
