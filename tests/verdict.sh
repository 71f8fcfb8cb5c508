# Sourced by the shell tests of every tier (preload/common.sh,
# package/common.sh): how a test ends, in meson's exit codes.
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

skip() {
    echo "SKIP: $*"
    exit 77
}
