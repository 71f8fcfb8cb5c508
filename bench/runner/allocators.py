"""The allocators to compare and where their libraries are.

glibc is the baseline and needs no preload. The Debian packages' libraries
are looked up in the multiarch library directory; sable is the build's
libsable.so. An allocator whose library is missing is reported and skipped.
"""
import os

from . import sysinfo

# name -> shared object name in the multiarch directory (Debian packages).
DEBIAN_LIBS = [
    ("jemalloc", "libjemalloc.so.2"),
    ("tcmalloc", "libtcmalloc_minimal.so.4"),
    ("mimalloc", "libmimalloc.so.2"),
]
DEFAULT_ORDER = ["glibc", "jemalloc", "tcmalloc", "mimalloc", "sable"]


class Allocator:
    def __init__(self, name, path=None, version=None, env=None):
        self.name = name
        self.path = path          # None for glibc: nothing to preload
        self.version = version
        self.env = dict(env or {})  # set in the workload's environment

    @property
    def is_glibc(self):
        return self.path is None

    def __repr__(self):
        return "Allocator(%r, %r)" % (self.name, self.path)


def sable_lib(build_dir):
    return os.path.join(build_dir, "libsable.so")


def candidates(build_dir, extra=()):
    """Every allocator the runner knows: (name, path or None) in report
    order; path is the library it would preload (it may not exist)."""
    out = [("glibc", None)]
    for name, soname in DEBIAN_LIBS:
        path = sysinfo.find_lib(soname)
        if path is None:
            # Report where it was expected, for the "missing" message.
            dirs = sysinfo.lib_dirs()
            path = os.path.join(dirs[0], soname)
        out.append((name, path))
    out.append(("sable", sable_lib(build_dir)))
    for name, path in extra:
        out = [(n, p) for n, p in out if n != name]
        out.append((name, os.path.abspath(path)))
    return out


def version_of(name, path, repo_root=None):
    if path is None:
        return sysinfo.glibc_version()
    if name == "sable" and repo_root:
        desc = sysinfo.git_describe(repo_root)
        return "git " + desc if desc else None
    return sysinfo.version_of_file(path)


def resolve(build_dir, selected=None, extra=(), repo_root=None, confs=()):
    """Returns (allocators, missing): the selected allocators whose library
    exists, and (name, reason) for the ones that cannot run. selected is a
    list of names or None for all; unknown names are reported as missing."""
    # --conf NAME=VALUE: sable again, with SABLE_CONF=VALUE.
    conf_env = {name: {"SABLE_CONF": value} for name, value in confs}
    known = candidates(build_dir, list(extra) +
                       [(name, sable_lib(build_dir)) for name, _ in confs])
    names = [n for n, _ in known]
    if selected is None:
        selected = names
    allocs, missing = [], []
    for name in selected:
        if name not in names:
            missing.append((name, "unknown allocator (use --lib %s=PATH)"
                            % name))
            continue
        path = dict(known)[name]
        if path is not None and not os.path.exists(path):
            missing.append((name, "library not found: %s" % path))
            continue
        version = version_of("sable" if name in conf_env else name, path,
                             repo_root)
        if name in conf_env:
            version = "%s, SABLE_CONF=%s" % (version,
                                              conf_env[name]["SABLE_CONF"])
        allocs.append(Allocator(name, path, version, conf_env.get(name)))
    return allocs, missing
