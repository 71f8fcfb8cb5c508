"""Running one child process and measuring it.

A child runs in its own session (so a timeout kills its whole process group)
with stdout/stderr going to temporary files (no pipe can fill up and stall
it). The main thread blocks in os.wait4(), which gives the child's rusage:
user+sys CPU, ru_maxrss (peak RSS of the child and its waited-for
descendants) and ru_minflt. A sampler thread reads VmRSS from
/proc/<pid>/status every ~50 ms; a timer thread kills the group on timeout.
"""
import os
import signal
import subprocess
import tempfile
import threading
import time

SAMPLE_INTERVAL_S = 0.05


def read_vmrss_kib(pid):
    """VmRSS of pid in KiB, or None once the process is gone (or a zombie)."""
    try:
        with open("/proc/%d/status" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def descendants(root):
    """root and every live descendant of it, found by scanning /proc
    (/proc/<pid>/task/<tid>/children is not available on every kernel)."""
    children = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [root]
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after
        # the last ')'. Fields after it: state, ppid, ...
        rest = stat[stat.rfind(b")") + 2:].split()
        if len(rest) < 2:
            continue
        children.setdefault(int(rest[1]), []).append(int(name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


class RssSampler(threading.Thread):
    """Samples the RSS of a process (or of its whole process tree) until
    stop() is called. samples is a list of (seconds since t0, KiB)."""

    def __init__(self, pid, t0=None, interval=SAMPLE_INTERVAL_S, tree=False):
        super().__init__(daemon=True)
        self.pid = pid
        self.t0 = time.monotonic() if t0 is None else t0
        self.interval = interval
        self.tree = tree
        self.samples = []
        self._stop_event = threading.Event()

    def sample_once(self):
        if self.tree:
            vals = [read_vmrss_kib(p) for p in descendants(self.pid)]
            vals = [v for v in vals if v is not None]
            kib = sum(vals) if vals else None
        else:
            kib = read_vmrss_kib(self.pid)
        if kib is not None:
            self.samples.append((time.monotonic() - self.t0, kib))

    def run(self):
        while True:
            self.sample_once()
            if self._stop_event.wait(self.interval):
                return

    def stop(self):
        self._stop_event.set()
        if self.is_alive():
            self.join()

    @property
    def peak_kib(self):
        return max((k for _, k in self.samples), default=None)


class ProcResult:
    """What happened to one child: exit code or signal, whether it timed out,
    wall seconds, rusage, its output and the RSS samples."""

    def __init__(self):
        self.exit_code = None      # set when it exited normally
        self.signal = None         # set when a signal ended it
        self.timed_out = False
        self.wall_s = None
        self.rusage = None
        self.stdout = b""
        self.stderr = b""
        self.samples = []

    @property
    def cpu_s(self):
        if self.rusage is None:
            return None
        return self.rusage.ru_utime + self.rusage.ru_stime

    @property
    def peak_rss_kib(self):
        # Linux reports ru_maxrss in KiB.
        return None if self.rusage is None else self.rusage.ru_maxrss

    @property
    def minflt(self):
        return None if self.rusage is None else self.rusage.ru_minflt


def kill_group(pid, sig=signal.SIGKILL):
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def set_status(res, status):
    """Fill exit_code/signal of a ProcResult from a wait status."""
    if os.WIFSIGNALED(status):
        res.signal = os.WTERMSIG(status)
    else:
        res.exit_code = os.WEXITSTATUS(status)


def start(cmd, env=None, cwd=None, stdin_path=None):
    """Start cmd in a new session with output to temporary files. Returns
    (popen, stdout_file, stderr_file, t0); see wait()."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    try:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=stdin,
                             env=env, cwd=cwd, start_new_session=True)
    finally:
        if stdin_path:
            stdin.close()
    return p, out, err, t0


def wait(p, out, err, t0, timeout, sampler=None):
    """Block in wait4() until the child ends or the timeout kills it."""
    res = ProcResult()
    timed_out = threading.Event()

    def on_timeout():
        timed_out.set()
        kill_group(p.pid)

    timer = threading.Timer(timeout, on_timeout) if timeout else None
    if timer:
        timer.daemon = True
        timer.start()
    try:
        try:
            _, status, ru = os.wait4(p.pid, 0)
        except BaseException:
            kill_group(p.pid)
            os.wait4(p.pid, 0)
            p.returncode = -1
            raise
        res.wall_s = time.monotonic() - t0
        res.rusage = ru
        set_status(res, status)
        # Popen must not try to reap the pid again.
        p.returncode = res.exit_code if res.signal is None else -res.signal
        res.timed_out = timed_out.is_set()
    finally:
        if timer:
            timer.cancel()
        if sampler is not None:
            sampler.stop()
            res.samples = sampler.samples
        for f, attr in ((out, "stdout"), (err, "stderr")):
            f.seek(0)
            setattr(res, attr, f.read())
            f.close()
    return res


def run(cmd, env=None, cwd=None, timeout=None, stdin_path=None,
        sample=True, tree=False, interval=SAMPLE_INTERVAL_S):
    """Run cmd to completion, measuring it; returns a ProcResult."""
    p, out, err, t0 = start(cmd, env=env, cwd=cwd, stdin_path=stdin_path)
    sampler = None
    if sample:
        sampler = RssSampler(p.pid, t0=t0, interval=interval, tree=tree)
        sampler.start()
    return wait(p, out, err, t0, timeout, sampler)


def signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "signal %d" % sig


def failure_of(res, stderr_lines=2):
    """(status, detail) for a child that did not end well, else None."""
    if res.timed_out:
        return "timeout", "killed after the time limit (%.0f s)" % res.wall_s
    if res.signal is not None:
        return "crashed", "killed by %s%s" % (signal_name(res.signal),
                                               tail(res.stderr, stderr_lines))
    if res.exit_code != 0:
        return "failed", "exit status %d%s" % (res.exit_code,
                                               tail(res.stderr, stderr_lines))
    return None


def tail(data, n):
    lines = [l.strip() for l in data.decode("utf-8", "replace").splitlines()
             if l.strip()]
    if not lines or n <= 0:
        return ""
    return ": " + " / ".join(lines[-n:])[:300]
