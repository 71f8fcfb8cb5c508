# Sourced by every preload test. Usage of a test: <test>.sh path/to/libsable.so
#
# A test defines a function `workload DIR` that runs real programs, writing
# its results (checksums, program output) to stdout and its scratch files to
# DIR. compare_runs runs it twice, once plainly and once with every program it
# starts under LD_PRELOAD=libsable.so and SABLE_CONF=confirm_conf:true, then
# requires: both succeed, the two stdouts are identical, and sable announced
# itself ("sable: ... options: ...") on stderr, with no other sable message.
# Exit codes follow meson: 0 pass, 1 fail, 77 skip.
set -euo pipefail

SABLE_LIB=${1:-${SABLE_LIB:-}}
if [ -z "$SABLE_LIB" ] || [ ! -f "$SABLE_LIB" ]; then
    echo "usage: $0 path/to/libsable.so (got '${SABLE_LIB}')" >&2
    exit 1
fi
SABLE_LIB=$(realpath "$SABLE_LIB")
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

source "$(dirname "${BASH_SOURCE[0]}")/../verdict.sh"

need() {
    for prog in "$@"; do
        command -v "$prog" >/dev/null 2>&1 || skip "$prog is not installed"
    done
}

# Checks a stderr file of a run under sable: the confirm_conf line is there,
# the library was preloaded, and sable reported nothing else.
check_sable_stderr() {
    local err=$1
    if grep -q "ERROR: ld.so" "$err"; then
        grep "ERROR: ld.so" "$err" | head -3 >&2
        fail "the dynamic loader did not preload $SABLE_LIB"
    fi
    if ! grep -q '^sable: .*options:' "$err"; then
        echo "--- stderr of the run under sable (first lines):" >&2
        head -20 "$err" >&2
        fail "no 'sable: ... options:' line: sable did not run (or confirm_conf is not implemented)"
    fi
    if grep '^sable: ' "$err" | grep -v 'options:' | grep -q .; then
        grep '^sable: ' "$err" | grep -v 'options:' | head -5 >&2
        fail "sable reported a problem"
    fi
}

compare_runs() {
    local plain=$SCRATCH/plain sable=$SCRATCH/sable status
    mkdir -p "$plain/work" "$sable/work"

    set +e
    (workload "$plain/work") >"$plain/out" 2>"$plain/err"
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        tail -20 "$plain/err" >&2
        fail "the workload fails without sable (exit $status)"
    fi

    set +e
    (
        export LD_PRELOAD=$SABLE_LIB SABLE_CONF=confirm_conf:true
        workload "$sable/work"
    ) >"$sable/out" 2>"$sable/err"
    status=$?
    set -e
    if [ "$status" -ne 0 ]; then
        grep -v '^sable: .*options:' "$sable/err" | tail -20 >&2
        fail "the workload fails under sable (exit $status)"
    fi

    if ! cmp -s "$plain/out" "$sable/out"; then
        echo "--- output differs (plain vs sable):" >&2
        diff "$plain/out" "$sable/out" | head -20 >&2
        fail "output under sable differs from the plain run"
    fi
    check_sable_stderr "$sable/err"
    echo "ok: $(wc -l <"$plain/out") lines of identical output;" \
        "$(grep -c '^sable: .*options:' "$sable/err") processes ran under sable"
}

# Prints "libsable mapped" or "libsable NOT mapped" for process $1 to stderr.
report_mapped() {
    if grep -q libsable "/proc/$1/maps" 2>/dev/null; then
        echo "libsable mapped in $1" >&2
    else
        echo "libsable NOT mapped in $1" >&2
    fi
}
