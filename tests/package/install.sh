#!/usr/bin/env bash
# meson install into a temporary DESTDIR, then what an installation must
# provide (common.sh's check_tree): the files, the soname, man pages that
# render, C and C++ programs built through pkg-config against it (shared and
# static) that run on sable, and python3 run through the installed sable-run.
#
# usage: install.sh MESON BUILD_DIR BINDIR LIBDIR INCLUDEDIR MANDIR
# (the directories as configured, absolute)
source "$(dirname "$0")/common.sh"
[ $# -eq 6 ] || fail "usage: $0 MESON BUILD_DIR BINDIR LIBDIR INCLUDEDIR MANDIR"
meson=$1 build=$2
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
command -v readelf >/dev/null 2>&1 || skip "readelf is not installed (Debian's binutils)"

root=$SCRATCH/root
"$meson" install -C "$build" --no-rebuild --quiet --destdir "$root" >"$SCRATCH/install.log" 2>&1 ||
    { cat "$SCRATCH/install.log" >&2; fail "meson install failed"; }
check_tree "$root" "$3" "$4" "$5" "$6"
echo "ok: meson install --destdir: files, soname, man pages, C and C++ programs" \
    "(shared and static) and python3 through sable-run"
