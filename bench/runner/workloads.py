"""The workloads: the suite's C programs (<build>/bench/wl-<name>) and real
programs from Debian (python3, sqlite3, gcc, redis).

Every workload turns one (allocator, repetition) into a record.Run. A run
that crashed, failed, timed out or produced a wrong result is marked so and
carries no numbers. Real programs are checked against their output under
glibc (a reference run made once per invocation of the runner)."""
import array
import copy
import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import time

from . import execute, programs, sysinfo
from .record import Run

# The agreed names, in report order. Other wl-* binaries found in the build
# are run too, after these.
SYNTHETIC = ["larson", "prodcons", "cache-scratch", "cache-thrash",
             "thread-churn", "realloc-growth", "fragmentation", "free-all",
             "rcu", "large", "espresso", "tlb", "big-buffers-calloc",
             "big-buffers-memset", "trim-churn", "latency", "balloon",
             "many-threads"]
# Run only with --full (or when named in --workloads): they add minutes to a
# default suite that must stay under 10 minutes on 2 cores.
FULL_ONLY = {"latency", "balloon", "redis-frag", "perl", "git", "lua"}
# Assumed to take --threads N when their --help cannot be read.
THREADED = {"larson", "prodcons", "cache-scratch", "cache-thrash",
            "thread-churn", "rcu"}
# Take --threads, but as the population the workload is about (1,000 mostly
# idle threads), not as workers to scale with the CPUs: never given the
# harness's count, so neither --threads nor the scaling sweep changes them.
OWN_THREAD_COUNT = {"many-threads"}
PROGRAMS = ["python3", "sqlite3", "gcc", "perl", "git", "lua", "redis",
            "redis-frag"]

# Extra arguments of the suite's C workloads per mode, on top of --quick
# (quick and smoke) and --threads N (threaded ones).
# The default suite must finish in < 15 minutes on 2 cores: 5 allocators x 3
# repetitions = 15 runs per workload, so each workload is sized to take
# 1-4 s under glibc on 2 idle cores (their own defaults take up to 50 s). The sizes that
# change are the fixed amounts of work; the shapes (object sizes, live set,
# thread counts) stay the workloads' defaults.
SYNTHETIC_ARGS = {
    "default": {
        "cache-scratch": ["--repetitions", "4000"],
        "cache-thrash": ["--repetitions", "4000"],
        "prodcons": ["--messages", "10000000"],
        "thread-churn": ["--total-threads", "20000"],
        "rcu": ["--lookups", "4000000", "--updates", "1000000"],
        "large": ["--steps", "500"],
        "tlb": ["--bytes", "256m", "--steps", "5000000"],
        "latency": ["--requests", "100000"],
    },
    "quick": {},
    # Smoke runs only check that everything works: keep the idle tail short.
    "smoke": {
        "free-all": ["--linger", "0.2"],
        "latency": ["--requests", "5000", "--idle", "0.05"],
        "balloon": ["--peak", "8m", "--idle", "0.1"],
        "many-threads": ["--threads", "50", "--idle", "0.05"],
    },
}

# Problem sizes of the real programs per mode.
PROGRAM_SIZES = {
    # records per round (four rounds)
    "python3": {"default": 15000, "quick": 2000, "smoke": 1000},
    # rows inserted
    "sqlite3": {"default": 200000, "quick": 20000, "smoke": 10000},
    # functions in the generated C file
    "gcc": {"default": 1000, "quick": 150, "smoke": 60},
    # records per round (three rounds)
    "perl": {"default": 20000, "quick": 5000, "smoke": 2000},
    "lua": {"default": 20000, "quick": 5000, "smoke": 2000},
    # generated files
    "git": {"default": 500, "quick": 150, "smoke": 50},
    # requests per redis-benchmark test (four tests)
    "redis": {"default": 100000, "quick": 20000, "smoke": 5000},
    # keys filled, seconds idle
    "redis-frag": {"default": (100000, 3.0), "quick": (20000, 1.0),
                   "smoke": (5000, 0.3)},
}

ALLOCATOR_LIBS = ("libjemalloc", "libtcmalloc", "libmimalloc")


class Context:
    """What every run needs to know: mode (default, quick or smoke), thread
    count for threaded workloads, the thread counts of the scaling sweep
    (None: no sweep), per-run time limit, a scratch directory, per-workload
    extra arguments from the command line, and whether to count with perf
    (a perf.Counters, or None)."""

    def __init__(self, mode="default", threads=2, timeout=300.0,
                 workdir=None, extra_args=None, sweep=None, perf=None):
        self.mode = mode
        self.threads = threads
        self.timeout = timeout
        self.workdir = workdir
        self.extra_args = extra_args or {}
        self.sweep = list(sweep) if sweep else None
        self.perf = perf

    def with_threads(self, n):
        """The same context with threaded workloads at n threads."""
        c = copy.copy(self)
        c.threads = n
        return c

    def thread_counts(self, workload):
        """The thread counts a workload runs at: every count of the sweep
        for a threaded workload, else only the main count (None for an
        unthreaded one)."""
        if not getattr(workload, "threaded", False):
            return [None]
        if not workload.sweeps:
            return [self.threads]
        return self.sweep or [self.threads]


# glibc debugging aids that change its speed; meson test sets
# MALLOC_PERTURB_ for every test. Other allocators' settings (MALLOC_CONF,
# MIMALLOC_*, SABLE_CONF, GLIBC_TUNABLES...) are passed on deliberately.
DROPPED_ENV = ("LD_PRELOAD", "MALLOC_PERTURB_", "MALLOC_CHECK_")


def child_env(preload, extra=None):
    env = dict(os.environ)
    for name in DROPPED_ENV:
        env.pop(name, None)
    if preload:
        env["LD_PRELOAD"] = preload
    if extra:
        env.update(extra)
    return env


def linked_allocator(binary):
    """Name of a non-glibc allocator library the binary links, or None."""
    try:
        out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.decode("utf-8", "replace").splitlines():
        name = line.strip().split(" ", 1)[0]
        if name.startswith(ALLOCATOR_LIBS):
            return name
    return None


def last_json_line(stdout):
    """The JSON object on the last non-empty stdout line, or None."""
    lines = [l for l in stdout.decode("utf-8", "replace").splitlines()
             if l.strip()]
    if not lines:
        return None
    try:
        obj = json.loads(lines[-1])
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def fill_measurements(rec, res):
    rec.wall_s = res.wall_s
    rec.cpu_s = res.cpu_s
    rec.peak_rss_kib = res.peak_rss_kib
    rec.minflt = res.minflt
    rec.majflt = res.majflt
    rec.perf = res.perf
    rec.samples = res.samples


def check_exit(rec, res):
    """Mark rec failed if the process did not end well; True if it did."""
    failure = execute.failure_of(res)
    if failure:
        rec.fail(*failure)
        return False
    return True


class Workload:
    kind = "program"
    # Real programs compare their output with a reference run under glibc.
    needs_reference = False
    sample_tree = False

    def __init__(self, name):
        self.name = name
        self.reference = None       # expected output, from glibc
        self.libc_preload = None    # preloaded for "glibc" if the program
                                    # links another allocator itself
        self.note = None            # said in the report under its table

    def unavailable(self):
        """None if the workload can run here, else why not."""
        return None

    def prepare(self, ctx):
        """Write inputs into ctx.workdir before the first run."""

    def preload_for(self, alloc):
        if alloc.path is None:
            return self.libc_preload
        return alloc.path

    def env_for(self, alloc, extra=None):
        """The child's environment: the allocator's preload and its own
        settings (e.g. SABLE_CONF for a --conf variant), then extra."""
        env = dict(alloc.env)
        env.update(extra or {})
        return child_env(self.preload_for(alloc), env)

    def run(self, alloc, ctx, run_no):
        raise NotImplementedError

    def compare(self, rec):
        if rec.ok and self.reference is not None and \
                rec.output != self.reference:
            rec.fail("wrong", "output differs from glibc's (%s, expected %s)"
                     % (short(rec.output), short(self.reference)))

    def describe_args(self, ctx):
        return ""

    def executable(self):
        return getattr(self, "exe", None) or getattr(self, "server", None)

    def version(self):
        """Package and version of the program, for the report."""
        exe = self.executable()
        return sysinfo.version_of_file(exe) if exe else None


def short(v):
    s = str(v)
    return s if len(s) <= 24 else s[:21] + "..."


class Synthetic(Workload):
    """A workload of the suite: <build>/bench/wl-<name>, JSON on its last
    stdout line. It checks itself; a checksum it reports is compared across
    allocators afterwards (see runner.check_checksums)."""
    kind = "synthetic"
    sweeps = True           # part of the scaling sweep when threaded

    def __init__(self, name, binary):
        super().__init__(name)
        self.binary = binary
        self.threaded = None

    def unavailable(self):
        if not os.access(self.binary, os.X_OK):
            return "not built: %s" % self.binary
        return None

    def prepare(self, ctx):
        self.threaded = self._takes_threads()

    def _takes_threads(self):
        try:
            r = subprocess.run([self.binary, "--help"],
                               stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=5)
            text = r.stdout.decode("utf-8", "replace")
        except (OSError, subprocess.SubprocessError):
            text = ""
        if self.name in OWN_THREAD_COUNT:
            return False
        if "--" in text:
            return "--threads" in text
        return self.name in THREADED

    def args(self, ctx):
        args = []
        if ctx.mode in ("quick", "smoke"):
            args.append("--quick")
        if self.threaded:
            args += ["--threads", str(ctx.threads)]
        args += SYNTHETIC_ARGS.get(ctx.mode, {}).get(self.name, [])
        args += ctx.extra_args.get(self.name, [])
        return args

    def describe_args(self, ctx):
        return " ".join(self.args(ctx))

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        if self.threaded:
            rec.threads_asked = ctx.threads
        res = execute.run([self.binary] + self.args(ctx),
                          env=self.env_for(alloc),
                          cwd=ctx.workdir, timeout=ctx.timeout,
                          perf=ctx.perf)
        fill_measurements(rec, res)
        if not check_exit(rec, res):
            return rec
        obj = last_json_line(res.stdout)
        if obj is None:
            rec.fail("wrong", "no JSON object on the last stdout line")
            return rec
        rec.set_from_json(obj)
        if rec.ops is None or not rec.seconds:
            rec.fail("wrong", "JSON result lacks ops or seconds")
            return rec
        rec.output = rec.checksum
        return rec


class Latency(Synthetic):
    """wl-latency: the C workload, which also writes the latencies of the
    malloc and free calls it timed into a file; the run keeps them as
    rec.latency = {"malloc": [ns...], "free": [ns...]}. A file that is
    missing or shorter than its header says makes the run wrong. It runs at
    the main thread count only: its throughput includes the timer's."""
    sweeps = False

    def run(self, alloc, ctx, run_no):
        self.samples_path = os.path.join(
            ctx.workdir, "latency-%s-%d.bin" % (alloc.name, run_no))
        try:
            rec = super().run(alloc, ctx, run_no)
            if rec.ok:
                try:
                    rec.latency = read_latency_samples(self.samples_path)
                except (OSError, ValueError) as e:
                    rec.fail("wrong", "latency samples: %s" % e)
            return rec
        finally:
            if os.path.exists(self.samples_path):
                os.unlink(self.samples_path)

    def args(self, ctx):
        path = getattr(self, "samples_path", None)
        return super().args(ctx) + (["--samples", path] if path else [])

    def describe_args(self, ctx):
        return super().describe_args(ctx) + " --samples FILE"


def read_latency_samples(path):
    """{"malloc": [...], "free": [...]} from wl-latency's samples file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 16:
        raise ValueError("file too short (%d bytes)" % len(data))
    nm, nf = struct.unpack("=QQ", data[:16])
    want = 16 + 4 * (nm + nf)
    if len(data) != want:
        raise ValueError("%d bytes, the header says %d" % (len(data), want))
    values = array.array("I")
    values.frombytes(data[16:])
    return {"malloc": values[:nm].tolist(), "free": values[nm:].tolist()}


class Python(Workload):
    """/usr/bin/python3 building, serialising and indexing records, with
    PYTHONMALLOC=malloc so its objects come from the allocator under test."""
    needs_reference = True
    exe = "/usr/bin/python3"

    def unavailable(self):
        return None if os.access(self.exe, os.X_OK) else \
            "%s not installed" % self.exe

    def size(self, ctx):
        return PROGRAM_SIZES["python3"][ctx.mode]

    def describe_args(self, ctx):
        return "%d records x 4 rounds, PYTHONMALLOC=malloc" % self.size(ctx)

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        env = self.env_for(alloc,
                           {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0",
                            "PYTHONDONTWRITEBYTECODE": "1"})
        res = execute.run([self.exe, "-c", programs.PYTHON_SCRIPT,
                           str(self.size(ctx))], env=env, cwd=ctx.workdir,
                          timeout=ctx.timeout, perf=ctx.perf)
        fill_measurements(rec, res)
        if not check_exit(rec, res):
            return rec
        obj = last_json_line(res.stdout)
        if obj is None or "checksum" not in obj:
            rec.fail("wrong", "no JSON result with a checksum")
            return rec
        rec.set_from_json(obj)
        rec.output = rec.checksum
        self.compare(rec)
        return rec


class Sqlite(Workload):
    """sqlite3 on an in-memory database: bulk insert, indexes, queries."""
    needs_reference = True

    def __init__(self, name):
        super().__init__(name)
        self.exe = shutil.which("sqlite3")
        self.script = None

    def unavailable(self):
        return None if self.exe else "sqlite3 not installed"

    def describe_args(self, ctx):
        return "%d rows, :memory:" % PROGRAM_SIZES["sqlite3"][ctx.mode]

    def prepare(self, ctx):
        self.libc_preload = libc_preload_if_needed(self.exe)
        self.script = os.path.join(ctx.workdir, "sqlite-bench.sql")
        with open(self.script, "w") as f:
            f.write(programs.sqlite_script(PROGRAM_SIZES["sqlite3"][ctx.mode]))

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        res = execute.run([self.exe, "-bail", ":memory:"],
                          env=self.env_for(alloc),
                          cwd=ctx.workdir, timeout=ctx.timeout,
                          stdin_path=self.script, perf=ctx.perf)
        fill_measurements(rec, res)
        if not check_exit(rec, res):
            return rec
        if res.stderr.strip():
            rec.fail("wrong", "sqlite3 wrote to stderr%s"
                     % execute.tail(res.stderr, 1))
            return rec
        rec.output = hashlib.sha256(res.stdout).hexdigest()[:16]
        self.compare(rec)
        return rec


class Interpreter(Workload):
    """A script interpreter from Debian (perl, lua) running one of
    programs.py's scripts with a size argument; its stdout must equal its
    stdout under glibc (compared as a SHA-256)."""
    needs_reference = True

    def __init__(self, name, candidates, script, env=None, script_file=None):
        super().__init__(name)
        self.exe = next((p for p in map(shutil.which, candidates) if p),
                        None)
        self.candidates = candidates
        self.script = script
        self.extra_env = env or {}
        self.script_file = script_file  # run from a file, not -e
        self.argv = None

    def unavailable(self):
        return None if self.exe else "%s not installed" % \
            " or ".join(self.candidates)

    def size(self, ctx):
        return PROGRAM_SIZES[self.name][ctx.mode]

    def describe_args(self, ctx):
        return "%d records x 3 rounds" % self.size(ctx)

    def prepare(self, ctx):
        self.libc_preload = libc_preload_if_needed(self.exe)
        if self.script_file:
            path = os.path.join(ctx.workdir, self.script_file)
            with open(path, "w") as f:
                f.write(self.script)
            self.argv = [self.exe, path]
        else:
            self.argv = [self.exe, "-e", self.script]

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        res = execute.run(self.argv + [str(self.size(ctx))],
                          env=self.env_for(alloc, self.extra_env),
                          cwd=ctx.workdir, timeout=ctx.timeout,
                          perf=ctx.perf)
        return self.finish(rec, res)

    def finish(self, rec, res):
        """Fill rec from res; its output is the SHA-256 of stdout."""
        fill_measurements(rec, res)
        if not check_exit(rec, res):
            return rec
        if not res.stdout.strip():
            rec.fail("wrong", "%s printed nothing%s"
                     % (self.name, execute.tail(res.stderr, 1)))
            return rec
        rec.output = hashlib.sha256(res.stdout).hexdigest()[:16]
        self.compare(rec)
        return rec


class Git(Interpreter):
    """git on generated files: init, add and commit them all, change a
    tenth and commit again, repack, print the history with --stat, count
    objects and fsck (GIT_SCRIPT), every git process under the allocator.
    Fixed identities and dates: the output, hashes included, must equal
    glibc's. RSS is sampled over the process tree; peak RSS is the largest
    single process."""
    sample_tree = True

    def __init__(self, name):
        super().__init__(name, ["git"], programs.GIT_SCRIPT,
                         env=programs.GIT_ENV)
        self.sh = shutil.which("sh")
        self.files = None

    def describe_args(self, ctx):
        return "%d files: init, add, commit x 2, repack, log --stat, fsck" \
            % self.size(ctx)

    def prepare(self, ctx):
        self.libc_preload = libc_preload_if_needed(self.exe)
        self.files = os.path.join(ctx.workdir, "git-files")
        for rel_path, text in programs.git_files(self.size(ctx)).items():
            path = os.path.join(self.files, rel_path)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        repo = os.path.join(ctx.workdir, "git-repo")
        shutil.rmtree(repo, ignore_errors=True)
        try:
            res = execute.run([self.sh, "-c", self.script, "sh", repo,
                               self.files],
                              env=self.env_for(alloc, self.extra_env),
                              cwd=ctx.workdir, timeout=ctx.timeout,
                              tree=self.sample_tree, perf=ctx.perf)
        finally:
            shutil.rmtree(repo, ignore_errors=True)
        return self.finish(rec, res)


class Gcc(Workload):
    """gcc -O1 -c on a generated C file; the object file must be identical
    to the one compiled under glibc. RSS is sampled over the process tree
    (the driver, cc1, as); peak RSS is the largest single process."""
    needs_reference = True
    sample_tree = True

    def __init__(self, name):
        super().__init__(name)
        self.exe = shutil.which("gcc")
        self.source = None

    def unavailable(self):
        return None if self.exe else "gcc not installed"

    def describe_args(self, ctx):
        return "-O1 -c, %d functions" % PROGRAM_SIZES["gcc"][ctx.mode]

    def prepare(self, ctx):
        self.libc_preload = libc_preload_if_needed(self.exe)
        self.source = os.path.join(ctx.workdir, "gcc-bench.c")
        with open(self.source, "w") as f:
            f.write(programs.c_source(PROGRAM_SIZES["gcc"][ctx.mode]))

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        obj = os.path.join(ctx.workdir, "gcc-bench.o")
        if os.path.exists(obj):
            os.unlink(obj)
        res = execute.run([self.exe, "-O1", "-frandom-seed=sable", "-c",
                           self.source, "-o", obj],
                          env=self.env_for(alloc),
                          cwd=ctx.workdir, timeout=ctx.timeout,
                          tree=self.sample_tree, perf=ctx.perf)
        fill_measurements(rec, res)
        if not check_exit(rec, res):
            return rec
        try:
            with open(obj, "rb") as f:
                rec.output = hashlib.sha256(f.read()).hexdigest()[:16]
        except OSError:
            rec.fail("wrong", "gcc wrote no object file")
            return rec
        self.compare(rec)
        return rec


class Redis(Workload):
    """redis-server under the allocator, driven by redis-benchmark (under
    glibc) over loopback. Time is the benchmark's wall time, CPU, peak RSS
    and faults are the server's; ops/s is the four tests' combined
    throughput. The output checked is the server's state afterwards."""
    needs_reference = True
    TESTS = "set,get,lpush,lpop"

    def __init__(self, name):
        super().__init__(name)
        self.server = shutil.which("redis-server")
        self.bench = shutil.which("redis-benchmark")

    def unavailable(self):
        if not self.server:
            return "redis-server not installed"
        if not self.bench:
            return "redis-benchmark not installed"
        return None

    def describe_args(self, ctx):
        return "-n %d -t %s -P 16" % (PROGRAM_SIZES["redis"][ctx.mode],
                                      self.TESTS)

    def prepare(self, ctx):
        self.libc_preload = libc_preload_if_needed(self.server)
        if self.libc_preload:
            self.note = ("redis-server links %s itself; its glibc row "
                         "preloads libc.so.6 so that glibc's malloc wins."
                         % linked_allocator(self.server))

    def run(self, alloc, ctx, run_no):
        rec = Run(self.name, alloc.name, run_no)
        server = RedisServer(self.server, alloc, ctx, self.env_for(alloc))
        try:
            problem = server.drive(lambda: self.drive(rec, ctx, server))
        finally:
            res = server.stop()
        fill_measurements(rec, res)
        failure = execute.failure_of(res)
        if failure:
            rec.fail(*failure)
            return rec
        if problem:
            rec.fail(*problem)
            return rec
        if rec.wall_s is None:
            rec.fail("failed", "redis-server exited before the benchmark")
            return rec
        self.compare(rec)
        return rec

    def drive(self, rec, ctx, server):
        """Run redis-benchmark against the server; fills rec; returns
        (status, detail) of a problem or None."""
        n = PROGRAM_SIZES["redis"][ctx.mode]
        port = server.port
        bench = execute.run(
            [self.bench, "-h", "127.0.0.1", "-p", str(port), "-q",
             "-n", str(n), "-t", self.TESTS, "-P", "16", "--csv"],
            env=child_env(None), cwd=ctx.workdir,
            timeout=ctx.timeout, sample=False)
        if bench.timed_out or bench.signal or bench.exit_code:
            return ("failed", "redis-benchmark: %s"
                    % execute.failure_of(bench)[1])
        rec.output = server_state(port)
        rps = parse_benchmark_csv(bench.stdout)
        if sorted(rps) != sorted(self.TESTS.upper().split(",")):
            return ("wrong", "redis-benchmark reported %s" %
                    (",".join(rps) or "nothing"))
        rec.wall_s = bench.wall_s
        rec.ops = n * len(rps)
        rec.seconds = sum(n / v for v in rps.values())
        rec.ops_per_s = rec.ops / rec.seconds
        rec.extra = {"rps_" + k.lower(): v for k, v in rps.items()}
        return None


class RedisServer:
    """redis-server on 127.0.0.1 at a free port, in the scratch directory,
    with no persistence, under an allocator; its RSS is sampled. drive()
    waits until it answers and calls a function; stop()
    ends it with SIGTERM and returns its ProcResult."""

    def __init__(self, exe, alloc, ctx, env):
        self.port = free_port()
        self.ctx = ctx
        cmd = [exe, "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--daemonize", "no",
               "--dir", ctx.workdir]
        self.child = execute.start(cmd, env=env, cwd=ctx.workdir)
        self.sampler = None
        self.pid = self.child.pid()
        if self.pid is not None:
            self.sampler = execute.RssSampler(self.pid, t0=self.child.t0)
            self.sampler.start()

    def drive(self, fn):
        """(status, detail) of a problem, or None (also when the server
        exited: its exit status tells what happened)."""
        try:
            problem = wait_ready(self.child, self.port,
                                 min(30.0, self.ctx.timeout))
            if problem is None and self.child.alive():
                return fn()
            return problem
        except (OSError, ValueError) as e:
            return ("failed", "talking to redis-server: %s" % e)

    def stop(self):
        if self.child.alive() and self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except OSError:
                pass
        return execute.wait(self.child, 30.0, self.sampler)


class RedisFrag(Redis):
    """Fragmentation in a real key-value store: fill keys of mixed sizes
    (strings of 16 B-4 KiB, some hashes and lists), delete 85 % of them in
    random order, stay idle, refill with larger values (1-4 KiB). At the end
    of each stage the server's RSS (VmRSS) is divided by redis's own
    used_memory (INFO memory). Commands go over one pipelined connection
    from the runner. Checked: the key count after each stage and a hash
    of sampled values."""
    STAGES = ["fill", "delete", "idle", "refill"]

    def unavailable(self):
        return None if self.server else "redis-server not installed"

    def describe_args(self, ctx):
        n, idle = PROGRAM_SIZES["redis-frag"][ctx.mode]
        return "%d keys, delete 85 %%, idle %.1f s, refill" % (n, idle)

    def drive(self, rec, ctx, server):
        n, idle = PROGRAM_SIZES["redis-frag"][ctx.mode]
        self.pid = server.pid
        port = server.port
        rng = random.Random(1234)
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            conn = s.makefile("rwb")
            cmds = [fill_command(rng, i) for i in range(n)]
            sent = pipeline(conn, cmds)
            counts, stage = [], {}
            stage["fill"] = self.measure(conn, counts)
            order = list(range(n))
            rng.shuffle(order)
            gone = order[:n * 85 // 100]
            sent += pipeline(conn, [["DEL", "k:%d" % i] for i in gone])
            stage["delete"] = self.measure(conn, counts)
            busy = time.monotonic() - t0
            time.sleep(idle)
            stage["idle"] = self.measure(conn, counts)
            t1 = time.monotonic()
            sent += pipeline(conn, [
                ["SET", "r:%d" % i, value(i, int(2 ** rng.uniform(10, 12)))]
                for i in range(len(gone) // 2)])
            stage["refill"] = self.measure(conn, counts)
            busy += time.monotonic() - t1
            sample = [read_key(conn, "k:%d" % i) for i in order[-20:]]
            sample += [read_key(conn, "r:%d" % i) for i in range(5)]
        rec.wall_s = time.monotonic() - t0
        rec.ops, rec.seconds = sent, busy
        rec.ops_per_s = sent / busy if busy > 0 else None
        for name, (rss, used) in stage.items():
            rec.extra["rss_%s_kib" % name] = rss
            rec.extra["used_%s_kib" % name] = used // 1024
            rec.extra["frag_" + name] = rss * 1024.0 / used if used else None
        rec.output = "keys=%s sample=%s" % (
            ",".join(map(str, counts)), hashlib.sha256(
                repr(sample).encode()).hexdigest()[:12])
        return None

    def measure(self, conn, counts):
        """(VmRSS KiB, used_memory bytes) now; appends DBSIZE to counts."""
        counts.append(redis_call(conn, ["DBSIZE"]))
        info = redis_call(conn, ["INFO", "memory"])
        used = None
        for line in info.splitlines():
            if line.startswith("used_memory:"):
                used = int(line.split(":", 1)[1])
        if used is None:
            raise ValueError("INFO memory has no used_memory")
        rss = execute.read_vmrss_kib(self.pid) if self.pid else None
        if rss is None:
            raise ValueError("cannot read the server's RSS")
        return rss, used


def read_key(conn, key):
    """A key's whole value, whatever its type (a hash's fields sorted: a
    large hash is a hash table, iterated in a random order)."""
    kind = redis_call(conn, ["TYPE", key])
    if kind == "hash":
        flat = redis_call(conn, ["HGETALL", key])
        return (kind, sorted(zip(flat[::2], flat[1::2])))
    cmd = {"string": ["GET", key], "list": ["LRANGE", key, "0", "-1"]}.get(
        kind)
    return (kind, redis_call(conn, cmd) if cmd else None)


def value(i, size):
    return chr(65 + i % 26) * size


def fill_command(rng, i):
    """Key k:<i>: 80 % strings of 16 B-4 KiB (log-uniform), 10 % hashes
    and 10 % lists of 4-16 members of 16-256 B."""
    kind = rng.random()
    key = "k:%d" % i
    if kind < 0.8:
        return ["SET", key, value(i, int(2 ** rng.uniform(4, 12)))]
    members = []
    for j in range(rng.randint(4, 16)):
        v = value(i + j, int(2 ** rng.uniform(4, 8)))
        members += (["f%d" % j, v] if kind < 0.9 else [v])
    return (["HSET", key] if kind < 0.9 else ["RPUSH", key]) + members


def encode(args):
    return ("*%d\r\n" % len(args) + "".join(
        "$%d\r\n%s\r\n" % (len(a.encode()), a) for a in args)).encode()


def read_reply(f):
    """One RESP reply from a binary file object: str, int, None or list."""
    line = f.readline().rstrip(b"\r\n").decode("utf-8", "replace")
    if not line:
        raise ValueError("no reply")
    kind, rest = line[0], line[1:]
    if kind == "+":
        return rest
    if kind == ":":
        return int(rest)
    if kind == "$":
        size = int(rest)
        if size < 0:
            return None
        return f.read(size + 2)[:size].decode("utf-8", "replace")
    if kind == "*":
        return [read_reply(f) for _ in range(int(rest))]
    raise ValueError("redis replied %r" % line)


def redis_call(conn, args):
    conn.write(encode(args))
    conn.flush()
    return read_reply(conn)


def pipeline(conn, cmds, batch=1000):
    """Send the commands in batches, reading every reply; returns how
    many were sent. An error reply raises ValueError."""
    for i in range(0, len(cmds), batch):
        part = cmds[i:i + batch]
        conn.write(b"".join(encode(c) for c in part))
        conn.flush()
        for _ in part:
            read_reply(conn)
    return len(cmds)


def libc_preload_if_needed(binary):
    """glibc's libc.so.6 if binary links another allocator (preloading libc
    puts its malloc first in the lookup order), else None."""
    if binary and linked_allocator(binary):
        return sysinfo.find_lib("libc.so.6")
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(child, port, limit):
    """None once the server answers PING (or has exited: its exit status
    tells what happened), else (status, detail)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if not child.alive():
            return None
        try:
            if redis_command(port, "PING") == "PONG":
                return None
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return ("timeout", "redis-server did not answer within %.0f s" % limit)


def redis_command(port, *args):
    """Send one command on a new connection, return the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        return redis_call(s.makefile("rwb"), list(args))


def server_state(port):
    return "dbsize=%s get=%s llen=%s" % (
        redis_command(port, "DBSIZE"),
        redis_command(port, "GET", "key:__rand_int__"),
        redis_command(port, "LLEN", "mylist"))


def parse_benchmark_csv(stdout):
    """{"SET": requests/s, ...} from redis-benchmark --csv output."""
    out = {}
    text = stdout.decode("utf-8", "replace")
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or row[0] == "test":
            continue
        try:
            out[row[0].split()[0].upper()] = float(row[1])
        except ValueError:
            continue
    return out


def discover(build_dir, selected=None, full=False):
    """All workloads in report order: the agreed C workloads, any other
    wl-* in <build>/bench, then the real programs; those of FULL_ONLY only
    when full is true. selected restricts to those names (in the order
    given, full or not); an unknown name raises ValueError."""
    bench_dir = os.path.join(build_dir, "bench")
    names = list(SYNTHETIC)
    try:
        # Executable files only: meson also puts wl-<name>.p/ directories
        # (object files) there.
        found = sorted(f[3:] for f in os.listdir(bench_dir)
                       if f.startswith("wl-") and
                       os.path.isfile(os.path.join(bench_dir, f)) and
                       os.access(os.path.join(bench_dir, f), os.X_OK))
    except OSError:
        found = []
    names += [n for n in found if n not in names]
    table = {n: (Latency if n == "latency" else Synthetic)(
        n, os.path.join(bench_dir, "wl-" + n)) for n in names}
    table["python3"] = Python("python3")
    table["sqlite3"] = Sqlite("sqlite3")
    table["gcc"] = Gcc("gcc")
    table["perl"] = Interpreter("perl", ["perl"], programs.PERL_SCRIPT,
                                env={"PERL_HASH_SEED": "0"})
    table["git"] = Git("git")
    table["lua"] = Interpreter("lua", ["lua5.4", "lua"], programs.LUA_SCRIPT,
                               script_file="bench.lua")
    table["redis"] = Redis("redis")
    table["redis-frag"] = RedisFrag("redis-frag")
    order = names + PROGRAMS
    if selected is None:
        return [table[n] for n in order if full or n not in FULL_ONLY]
    unknown = [n for n in selected if n not in table]
    if unknown:
        raise ValueError("unknown workload(s): %s (known: %s)"
                         % (", ".join(unknown), ", ".join(order)))
    return [table[n] for n in selected]
