"""What machine this is: the multiarch library directory, CPU, memory,
kernel, Debian and glibc versions, and package versions from dpkg-query."""
import os
import platform
import subprocess


def _output(cmd, timeout=10):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    if r.returncode != 0:
        return None
    return r.stdout.decode("utf-8", "replace").strip() or None


def multiarch():
    """The Debian multiarch triplet (x86_64-linux-gnu, aarch64-linux-gnu…)."""
    return (_output(["gcc", "-print-multiarch"])
            or _output(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]))


def lib_dirs():
    """Directories where Debian puts shared libraries, most specific first."""
    dirs = []
    ma = multiarch()
    if ma:
        dirs += ["/usr/lib/" + ma, "/lib/" + ma]
    dirs += ["/usr/lib", "/lib"]
    return dirs


def find_lib(soname):
    for d in lib_dirs():
        p = os.path.join(d, soname)
        if os.path.exists(p):
            return p
    return None


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def cpu_model():
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name") or line.startswith("Model"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def mem_total_kib():
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return None


def debian_version():
    v = _read("/etc/debian_version").strip()
    if v:
        return v
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "unknown"


def glibc_version():
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError):
        return platform.libc_ver()[1] or "unknown"


def thp_mode():
    s = _read("/sys/kernel/mm/transparent_hugepage/enabled").strip()
    if "[" in s:
        return s[s.index("[") + 1:s.index("]")]
    return s or "unknown"


def package_of(path):
    """Debian package that ships path (following symlinks), or None."""
    for p in (path, os.path.realpath(path)):
        out = _output(["dpkg-query", "-S", p])
        if out:
            return out.split(":", 1)[0].split(",")[0].strip()
    # /lib is a symlink to /usr/lib on merged-usr systems: try the other.
    real = os.path.realpath(path)
    alt = real[4:] if real.startswith("/usr/") else "/usr" + real
    out = _output(["dpkg-query", "-S", alt])
    if out:
        return out.split(":", 1)[0].split(",")[0].strip()
    return None


def package_version(pkg):
    return _output(["dpkg-query", "-W", "-f=${Version}", pkg])


def version_of_file(path):
    """'package version' of the package shipping path, or None."""
    pkg = package_of(path)
    if not pkg:
        return None
    ver = package_version(pkg)
    return "%s %s" % (pkg, ver) if ver else pkg


def describe(hostname=None):
    """A dict describing the machine, for the report."""
    mem = mem_total_kib()
    return {
        "host": hostname or platform.node(),
        "cpu": cpu_model(),
        "cores": cpu_count(),
        "memory": "%.1f GiB" % (mem / 1048576.0) if mem else "unknown",
        "kernel": platform.release(),
        "debian": debian_version(),
        "glibc": glibc_version(),
        "thp": thp_mode(),
        "arch": multiarch() or platform.machine(),
    }


def git_describe(repo):
    return _output(["git", "-C", repo, "describe", "--always", "--dirty",
                    "--tags"])
