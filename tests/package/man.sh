#!/usr/bin/env bash
# The generated man pages: man(1) renders sable(3), sable-run(1) and
# sable-stat(1) without a warning; sable-stat(1) describes every option the
# program's usage lists; and sable(3) names every SABLE_CONF option and every mallctl
# name (as package-names lists them from the option table and the control
# tree), and every function libsable.so exports (its dynamic symbols; the
# C++ operators, mangled, as "operator new" and "operator delete").
#
# usage: man.sh SABLE.3 SABLE-RUN.1 PACKAGE-NAMES LIBSABLE.SO SABLE-STAT.1 SABLE-STAT
source "$(dirname "$0")/common.sh"
[ $# -eq 6 ] || fail "usage: $0 SABLE.3 SABLE-RUN.1 PACKAGE-NAMES LIBSABLE.SO SABLE-STAT.1 SABLE-STAT"
page=$1 run_page=$2 names=$3 lib=$4 stat_page=$5 stat=$6
command -v man >/dev/null 2>&1 || skip "man is not installed (Debian's man-db)"
command -v nm >/dev/null 2>&1 || skip "nm is not installed (Debian's binutils)"

render_man "$run_page" "$SCRATCH/sable-run.txt"
grep -q -- '--conf' "$SCRATCH/sable-run.txt" || fail "sable-run(1) does not describe --conf"
render_man "$stat_page" "$SCRATCH/sable-stat.txt"
# The options of sable-stat's usage (exit status 2), each in its page.
"$stat" >/dev/null 2>"$SCRATCH/usage" && fail "sable-stat without arguments succeeded"
grep -oE -- '(^|[[ |])--?[a-z]+' "$SCRATCH/usage" | sed 's/^[[ |]//' | sort -u >"$SCRATCH/stat-options"
[ "$(wc -l <"$SCRATCH/stat-options")" -ge 10 ] || fail "sable-stat's usage lists $(wc -l <"$SCRATCH/stat-options") options"
while read -r opt; do
    grep -q -- "$opt" "$SCRATCH/sable-stat.txt" || fail "sable-stat(1) does not describe $opt"
done <"$SCRATCH/stat-options"
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
