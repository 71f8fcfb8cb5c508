"""Running one child process and measuring it.

A child runs in its own session (so a timeout kills its whole process group)
with stdout/stderr going to temporary files (no pipe can fill up and stall
it). It is forked by a tiny C helper (spawn.c) that reports the wait4()
rusage: user+sys CPU, ru_maxrss (peak RSS of the child and its waited-for
descendants) and ru_minflt; see spawn.c for why the runner does not fork it
itself. The main thread blocks in os.wait4() on the helper. A sampler
thread reads VmRSS from /proc/<pid>/status every ~50 ms; a timer thread
kills the group on timeout.
"""
import atexit
import os
import shutil
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
    wall and CPU seconds, peak RSS, minor faults, output, RSS samples."""

    def __init__(self):
        self.exit_code = None      # set when it exited normally
        self.signal = None         # set when a signal ended it
        self.timed_out = False
        self.wall_s = None
        self.cpu_s = None
        self.peak_rss_kib = None   # ru_maxrss (Linux reports KiB)
        self.minflt = None
        self.majflt = None
        self.perf = None           # {event: count} when counted with perf
        self.stdout = b""
        self.stderr = b""
        self.samples = []


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


# The spawn helper (spawn.c beside this file), compiled once per runner
# process into a temporary directory. Without a C compiler children are
# started directly and their peak RSS includes what they inherited from the
# runner at fork time.
_helper = {"done": False, "path": None, "why": None}


def helper_path():
    if _helper["done"]:
        return _helper["path"]
    _helper["done"] = True
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spawn.c")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        _helper["why"] = "no C compiler to build the spawn helper"
        return None
    tmp = tempfile.mkdtemp(prefix="sable-bench-spawn-")
    atexit.register(shutil.rmtree, tmp, True)
    exe = os.path.join(tmp, "spawn")
    try:
        r = subprocess.run([cc, "-O2", "-o", exe, src],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        _helper["why"] = "building the spawn helper failed: %s" % e
        return None
    if r.returncode != 0:
        _helper["why"] = "building the spawn helper failed: %s" % \
            r.stdout.decode("utf-8", "replace").strip()[:300]
        return None
    _helper["path"] = exe
    return exe


def helper_problem():
    """Why children run without the helper (None if they do not)."""
    helper_path()
    return _helper["why"]


class Child:
    """A started child. popen is our direct child: the spawn helper, or the
    command itself without a helper. pid() is the command's own pid."""

    def __init__(self, popen, out, err, t0, result_path):
        self.popen = popen
        self.out = out
        self.err = err
        self.t0 = t0
        self.result_path = result_path
        self._pid = None if result_path else popen.pid

    def pid(self, limit=5.0):
        """The command's pid; with the helper, waits for it to be known.
        None if the helper ended before reporting it."""
        deadline = time.monotonic() + limit
        while self._pid is None and time.monotonic() < deadline:
            report = read_report(self.result_path)
            if "pid" in report:
                self._pid = int(report["pid"])
                break
            if self.popen.poll_done():
                break
            time.sleep(0.001)
        return self._pid

    def alive(self):
        """True while our direct child has not exited. It is not reaped, so
        wait() can still collect it."""
        try:
            info = os.waitid(os.P_PID, self.popen.pid,
                             os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return info is None


class _Popen(subprocess.Popen):
    def poll_done(self):
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG |
                             os.WNOWAIT) is not None
        except ChildProcessError:
            return True


def read_report(path):
    """The helper's result file as a dict of strings ({} if empty)."""
    out = {}
    try:
        with open(path) as f:
            for line in f:
                words = line.split()
                for k, v in zip(words[::2], words[1::2]):
                    out[k] = v
    except OSError:
        pass
    return out


def start(cmd, env=None, cwd=None, stdin_path=None, use_helper=True,
          perf=None):
    """Start cmd in a new session with output to temporary files. An
    LD_PRELOAD in env applies to cmd only, not to the helper. With perf (a
    perf.Counters that is available) and the helper, `perf stat` runs the
    helper, which runs cmd: the counters cover cmd (and the tiny helper),
    while the rusage, peak RSS included, is still cmd's own. Returns a
    Child; see wait()."""
    env = dict(os.environ if env is None else env)
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    helper = helper_path() if use_helper else None
    result_path = perf_path = None
    if helper:
        fd, result_path = tempfile.mkstemp(prefix="sable-bench-run-")
        os.close(fd)
        preload = env.pop("LD_PRELOAD", None) or "-"
        cmd = [helper, result_path, preload] + list(cmd)
        if perf is not None and perf.available:
            fd, perf_path = tempfile.mkstemp(prefix="sable-bench-perf-")
            os.close(fd)
            cmd = perf.wrap(cmd, perf_path)
    else:
        perf = None
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    try:
        p = _Popen(cmd, stdout=out, stderr=err, stdin=stdin, env=env,
                   cwd=cwd, start_new_session=True)
    finally:
        if stdin_path:
            stdin.close()
    child = Child(p, out, err, t0, result_path)
    child.perf_path = perf_path if perf is not None and perf.available \
        else None
    child.perf = perf
    return child


def wait(child, timeout, sampler=None):
    """Block in wait4() until the child ends or the timeout kills its
    process group; returns a ProcResult."""
    p = child.popen
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
        wall = time.monotonic() - child.t0
        # Popen must not try to reap the pid again.
        p.returncode = os.waitstatus_to_exitcode(status)
        res.timed_out = timed_out.is_set()
        if child.result_path is None:
            set_status(res, status)
            res.wall_s = wall
            res.cpu_s = ru.ru_utime + ru.ru_stime
            res.peak_rss_kib = ru.ru_maxrss
            res.minflt = ru.ru_minflt
            res.majflt = ru.ru_majflt
        else:
            report = read_report(child.result_path)
            if "status" in report:
                set_status(res, int(report["status"]))
                res.wall_s = float(report["wall"])
                res.cpu_s = float(report["utime"]) + float(report["stime"])
                res.peak_rss_kib = int(report["maxrss_kib"])
                res.minflt = int(report["minflt"])
                res.majflt = int(report.get("majflt", 0))
            else:
                # The helper itself was killed (timeout) or failed.
                set_status(res, status)
                res.wall_s = wall
    finally:
        if timer:
            timer.cancel()
        if sampler is not None:
            sampler.stop()
            res.samples = sampler.samples
        for f, attr in ((child.out, "stdout"), (child.err, "stderr")):
            f.seek(0)
            setattr(res, attr, f.read())
            f.close()
        if getattr(child, "perf_path", None):
            try:
                with open(child.perf_path) as f:
                    res.perf = child.perf.parse(f.read())
            except OSError:
                res.perf = None
        for path in (child.result_path, getattr(child, "perf_path", None)):
            if path:
                try:
                    os.unlink(path)
                except OSError:
                    pass
    return res


def run(cmd, env=None, cwd=None, timeout=None, stdin_path=None,
        sample=True, tree=False, interval=SAMPLE_INTERVAL_S,
        use_helper=True, perf=None):
    """Run cmd to completion, measuring it (with perf's counters when perf
    is given and available); returns a ProcResult."""
    child = start(cmd, env=env, cwd=cwd, stdin_path=stdin_path,
                  use_helper=use_helper, perf=perf)
    sampler = None
    if sample:
        pid = child.pid()
        if pid is not None:
            sampler = RssSampler(pid, t0=child.t0, interval=interval,
                                 tree=tree)
            sampler.start()
    return wait(child, timeout, sampler)


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
