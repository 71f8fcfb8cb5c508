#!/usr/bin/env bash
# The Debian packages: built by scripts/build-deb (dpkg-buildpackage -us -uc
# -b in a clean copy of the tree), then
#   - the build's log has no compiler warning (the package build does not
#     use -Werror, so that a newer compiler still builds it);
#   - every lintian tag is given its reason in debian/README.source;
#   - libsable0's symbols file lists exactly the library's dynamic symbols;
#   - the -dev and tools packages depend on this libsable0;
#   - unpacked with dpkg -x into a temporary root, the packages hold what
#     an installation must (common.sh's check_tree: programs built through
#     pkg-config against them run on sable, python3 runs through sable-run).
# Skipped, with the reason, on a machine without dpkg-buildpackage or
# debhelper.
#
# usage: deb.sh SOURCE_ROOT
source "$(dirname "$0")/common.sh"
[ $# -eq 1 ] || fail "usage: $0 SOURCE_ROOT"
top=$1
command -v dpkg-buildpackage >/dev/null 2>&1 || skip "dpkg-buildpackage is not installed (Debian's dpkg-dev)"
command -v dh >/dev/null 2>&1 || skip "dh is not installed (Debian's debhelper)"
command -v pkg-config >/dev/null 2>&1 || skip "pkg-config is not installed"
if ! (cd "$top" && dpkg-checkbuilddeps) 2>"$SCRATCH/deps"; then
    skip "build dependencies are missing: $(cat "$SCRATCH/deps")"
fi

out=$SCRATCH/out
"$top/scripts/build-deb" "$out" 2>"$SCRATCH/build-deb.err" ||
    { cat "$SCRATCH/build-deb.err" >&2; fail "scripts/build-deb failed"; }

if grep -E '(warning|error): ' "$out/build.log" | grep -v '^dpkg-' | grep -q .; then
    grep -E '(warning|error): ' "$out/build.log" | grep -v '^dpkg-' | head -20 >&2
    fail "the package build printed compiler warnings"
fi

if [ -f "$out/lintian.txt" ]; then
    tags=$(sed -n 's/^[EWIPX]: [^ ]*\( [a-z]*\)\?: \([a-z0-9][a-z0-9+.-]*\).*/\2/p' "$out/lintian.txt" | sort -u)
    unexplained=""
    for tag in $tags; do
        grep -q -- "\`$tag\`" "$top/debian/README.source" || unexplained="$unexplained $tag"
    done
    [ -z "$unexplained" ] || { cat "$out/lintian.txt" >&2; fail "lintian tags without a reason in debian/README.source:$unexplained"; }
    echo "lintian: $(echo $tags | wc -w) tags, each explained in debian/README.source"
else
    echo "note: lintian is not installed: not run"
fi

ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
root=$SCRATCH/root
for pkg in libsable0 libsable-dev sable-tools; do
    deb=$(ls "$out/${pkg}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || fail "no $pkg package was built"
    dpkg -x "$deb" "$root"
    eval "deb_${pkg//-/_}=\$deb"
done
version=$(dpkg-deb -f "$deb_libsable0" Version)
for pkg in "$deb_libsable_dev" "$deb_sable_tools"; do
    dpkg-deb -f "$pkg" Depends | grep -q "libsable0 (= $version)" ||
        fail "$(basename "$pkg") does not depend on libsable0 (= $version)"
done

# The symbols file against the library's dynamic symbols.
dpkg-deb --ctrl-tarfile "$deb_libsable0" | tar -xO ./symbols >"$SCRATCH/symbols" ||
    fail "libsable0 has no symbols file"
awk '/^ / { sub(/@.*/, "", $1); print $1 }' "$SCRATCH/symbols" | sort >"$SCRATCH/listed"
nm -D --defined-only "$root/usr/lib/$ma/libsable.so.0" | awk '{ print $3 }' | sort >"$SCRATCH/exported"
if ! cmp -s "$SCRATCH/listed" "$SCRATCH/exported"; then
    diff "$SCRATCH/listed" "$SCRATCH/exported" >&2 || true
    fail "the symbols file (<) and the library's symbols (>) differ"
fi

check_tree "$root" /usr/bin "/usr/lib/$ma" /usr/include /usr/share/man
echo "ok: $(cd "$out" && ls -- *.deb | tr '\n' ' ')built, unpacked and checked"
