# Sourced by the package tier's tests (man.sh, install.sh, deb.sh): what an
# installed sable must provide, checked in a tree of installed files under a
# temporary root (a meson DESTDIR, or Debian packages unpacked with dpkg -x).
# Exit codes follow meson: 0 pass, 1 fail, 77 skip. CC and CXX name the
# compilers (default cc and c++).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
CC=${CC:-cc}
CXX=${CXX:-c++}

source "$HERE/../verdict.sh"

# render_man PAGE OUT: man(1) renders PAGE (roff, or gzipped roff) as text
# into OUT, at lintian's width and with groff's warnings on; any warning or
# error fails.
render_man() {
    local page=$1 out=$2 err=$SCRATCH/man.err
    if ! LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$page" \
        >"$out" 2>"$err"; then
        cat "$err" >&2
        fail "man -l $page failed"
    fi
    if [ -s "$err" ]; then
        cat "$err" >&2
        fail "man -l $page printed warnings"
    fi
    grep -q '^NAME' "$out" || fail "man -l $page rendered no NAME section"
}

# words FILE: the words of a rendered page, one per line, without the
# punctuation around them.
words() {
    tr -s ' \t,;()|' '\n' <"$1" | sed 's/\.$//; s/^\*//' | sort -u
}

# check_consumers ROOT LIBDIR INCLUDEDIR: C and C++ programs compiled against
# the files under ROOT through pkg-config, linked dynamically and statically,
# and run; each proves that its malloc (operator new) is the installed
# sable's.
check_consumers() {
    local root=$1 libdir=$2 includedir=$3 lib=$1$2/libsable.so.0
    # The system directories' flags are kept: under the sysroot they are ROOT's.
    export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root$libdir/pkgconfig
    export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
    pkg-config --exists sable || fail "pkg-config finds no sable.pc in $PKG_CONFIG_LIBDIR"
    local cflags libs libs_l
    cflags=$(pkg-config --cflags sable)
    libs=$(pkg-config --libs sable)
    libs_l=$(pkg-config --libs-only-L sable)
    case " $cflags " in *" -I$root$includedir "*) ;; *) fail "sable.pc's Cflags ($cflags) miss $root$includedir" ;; esac
    [ -f "$root$includedir/sable.h" ] || fail "no $includedir/sable.h"

    local src
    for src in consumer.c consumer.cc; do
        local exe=$SCRATCH/${src/./-} compiler=$CC
        [ "$src" = consumer.cc ] && compiler=$CXX
        # shellcheck disable=SC2086 # flags are words
        $compiler -o "$exe-shared" "$HERE/$src" -I"$HERE" $cflags $libs ||
            fail "$src does not build against the shared library"
        # The README's static link: the archive, the rest dynamic.
        # shellcheck disable=SC2086
        $compiler -o "$exe-static" "$HERE/$src" -I"$HERE" $cflags $libs_l \
            -Wl,-Bstatic -lsable -Wl,-Bdynamic -lpthread ||
            fail "$src does not build against the static library"
        readelf -d "$exe-shared" | grep -q 'NEEDED.*\[libsable\.so\.0\]' ||
            fail "$src (shared) does not need libsable.so.0"
        if readelf -d "$exe-static" | grep -q 'NEEDED.*libsable'; then
            fail "$src (static) needs libsable.so"
        fi
        LD_LIBRARY_PATH=$root$libdir "$exe-shared" shared "$lib" || fail "$src (shared) failed"
        "$exe-static" static || fail "$src (static) failed"
    done
    unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS
    unset PKG_CONFIG_ALLOW_SYSTEM_LIBS
}

# check_sable_run ROOT BINDIR LIBDIR: python3 through the installed sable-run,
# which finds the library under ROOT through LD_LIBRARY_PATH: sable is
# mapped, announces its options, and the program's exit status is
# sable-run's.
check_sable_run() {
    local root=$1 run=$1$2/sable-run lib=$1$3/libsable.so.0 status
    [ -x "$run" ] || fail "no executable $2/sable-run"
    local python=/usr/bin/python3
    [ -x "$python" ] || python=$(command -v python3) || fail "python3 is not installed"
    local found
    found=$(LD_LIBRARY_PATH=$root$3 "$run" --print-library) || fail "sable-run --print-library failed"
    [ "$found" = "$lib" ] || fail "sable-run would preload $found, not $lib"
    set +e
    LD_LIBRARY_PATH=$root$3 "$run" --conf confirm_conf:true --conf narenas:3 "$python" -c '
import sys
maps = open("/proc/self/maps").read()
lib = sys.argv[1]
print("mapped" if lib in maps else "NOT mapped: " + lib)
sys.exit(7)' "$lib" >"$SCRATCH/run.out" 2>"$SCRATCH/run.err"
    status=$?
    set -e
    [ "$status" -eq 7 ] || { cat "$SCRATCH/run.err" >&2; fail "sable-run exited $status, python3 7"; }
    grep -qx mapped "$SCRATCH/run.out" || fail "python3 under sable-run: $(cat "$SCRATCH/run.out")"
    grep -q '^sable: .*options:.*narenas:3' "$SCRATCH/run.err" ||
        { cat "$SCRATCH/run.err" >&2; fail "sable did not confirm --conf's options"; }
    set +e
    LD_LIBRARY_PATH=$root$3 "$run" /nonexistent/program 2>"$SCRATCH/missing.err"
    status=$?
    set -e
    [ "$status" -eq 127 ] || fail "a missing program: exit $status, not 127"
    grep -q '^sable-run: /nonexistent/program: not found$' "$SCRATCH/missing.err" ||
        fail "a missing program: $(cat "$SCRATCH/missing.err")"
    # Without LD_LIBRARY_PATH it finds the machine's own sable, if any:
    # the missing library's message is checked only where there is none.
    set +e
    found=$(env -u LD_LIBRARY_PATH "$run" --print-library 2>"$SCRATCH/none.err")
    status=$?
    set -e
    if [ "$status" -eq 0 ]; then
        echo "note: this machine has $found installed: the not-found message is not checked"
    else
        [ "$status" -eq 125 ] || fail "no library: exit $status, not 125"
        grep -q '^sable-run: cannot find libsable.so.0 ' "$SCRATCH/none.err" ||
            fail "no library: $(cat "$SCRATCH/none.err")"
        [ "$(wc -l <"$SCRATCH/none.err")" -eq 1 ] || fail "no library: more than one line"
    fi
}

# check_tree ROOT BINDIR LIBDIR INCLUDEDIR MANDIR: everything an
# installation holds, the directories as installed under ROOT.
check_tree() {
    local root=$1 bindir=$2 libdir=$3 includedir=$4 mandir=$5 f
    for f in "$libdir/libsable.so.0" "$libdir/libsable.so" "$libdir/libsable.a" \
        "$libdir/pkgconfig/sable.pc" "$includedir/sable.h" "$bindir/sable-run" \
        "$bindir/sable-stat"; do
        [ -e "$root$f" ] || fail "$f is not installed"
    done
    readelf -d "$root$libdir/libsable.so.0" | grep -q 'SONAME.*\[libsable\.so\.0\]' ||
        fail "libsable.so.0's soname is not libsable.so.0"
    # The library depends on the C library alone.
    local needed
    needed=$(readelf -d "$root$libdir/libsable.so.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    [ "$needed" = "libc.so.6 " ] || fail "libsable.so.0 needs more than libc.so.6: $needed"
    # sable-stat too, and it runs: -l lists the pages of this user.
    needed=$(readelf -d "$root$bindir/sable-stat" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    [ "$needed" = "libc.so.6 " ] || fail "sable-stat needs more than libc.so.6: $needed"
    "$root$bindir/sable-stat" -l >"$SCRATCH/stat.out" || fail "the installed sable-stat -l failed"
    grep -q '^ *PID  COMMAND' "$SCRATCH/stat.out" || fail "sable-stat -l: $(cat "$SCRATCH/stat.out")"
    local page
    for page in man3/sable.3 man1/sable-run.1 man1/sable-stat.1; do
        f=$root$mandir/$page
        [ -f "$f" ] || f=$f.gz # as Debian installs it
        [ -f "$f" ] || fail "$mandir/$page is not installed"
        if command -v man >/dev/null 2>&1; then
            render_man "$f" "$SCRATCH/page.txt"
        fi
    done
    check_consumers "$root" "$libdir" "$includedir"
    check_sable_run "$root" "$bindir" "$libdir"
}
