#!/usr/bin/env bash
# The generated man pages: man(1) renders sable(3) and sable-run(1) without
# a warning, and sable(3) names every SABLE_CONF option and every mallctl
# name (as package-names lists them from the option table and the control
# tree), and every function libsable.so exports (its dynamic symbols; the
# C++ operators, mangled, as "operator new" and "operator delete").
#
# usage: man.sh SABLE.3 SABLE-RUN.1 PACKAGE-NAMES LIBSABLE.SO
source "$(dirname "$0")/common.sh"
[ $# -eq 4 ] || fail "usage: $0 SABLE.3 SABLE-RUN.1 PACKAGE-NAMES LIBSABLE.SO"
page=$1 run_page=$2 names=$3 lib=$4
command -v man >/dev/null 2>&1 || skip "man is not installed (Debian's man-db)"
command -v nm >/dev/null 2>&1 || skip "nm is not installed (Debian's binutils)"

render_man "$run_page" "$SCRATCH/sable-run.txt"
grep -q -- '--conf' "$SCRATCH/sable-run.txt" || fail "sable-run(1) does not describe --conf"
render_man "$page" "$SCRATCH/sable.txt"
words "$SCRATCH/sable.txt" >"$SCRATCH/have"

"$names" | sort -u >"$SCRATCH/names"
[ "$(wc -l <"$SCRATCH/names")" -gt 50 ] || fail "package-names listed $(wc -l <"$SCRATCH/names") names"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ && $3 !~ /^_Z/ { print $3 }' | sort -u >"$SCRATCH/symbols"
[ -s "$SCRATCH/symbols" ] || fail "no exported functions found in $lib"

missing=$(comm -23 "$SCRATCH/names" "$SCRATCH/have")
[ -z "$missing" ] || fail "sable(3) lacks these options or mallctl names: $(echo $missing)"
missing=$(comm -23 "$SCRATCH/symbols" "$SCRATCH/have")
[ -z "$missing" ] || fail "sable(3) lacks these exported functions: $(echo $missing)"
if nm -D --defined-only "$lib" | grep -q ' _Z'; then
    grep -q 'operator new' "$SCRATCH/sable.txt" && grep -q 'operator delete' "$SCRATCH/sable.txt" ||
        fail "sable(3) does not mention the C++ operators the library exports"
fi
echo "ok: sable(3) names $(wc -l <"$SCRATCH/names") options and mallctl names and" \
    "$(wc -l <"$SCRATCH/symbols") functions; both pages render without warnings"
