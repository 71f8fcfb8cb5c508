"""bench/run: command line, output directory, report, plots, --publish."""
import argparse
import datetime
import os
import shlex
import shutil
import sys
import tempfile
import time

from . import allocators as allocmod
from . import execute, perf as perfmod, plots, report, suite, sysinfo, \
    workloads as wlmod

BENCH_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO_ROOT = os.path.dirname(BENCH_DIR)

# The variant --full adds: sable with its background thread.
FULL_VARIANT = ("sable-bg", "background_thread:true")

QUICK_TIMEOUT_S = 60.0
SMOKE_TIMEOUT_S = 30.0
DEFAULT_TIMEOUT_S = 120.0


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Run sable's benchmark workloads under several "
        "allocators (LD_PRELOAD) and write results.csv, rss.csv, report.md "
        "and plots into bench/results/<date>-<host>/.")
    p.add_argument("--build", default=None, metavar="DIR",
                   help="meson build directory with libsable.so and "
                   "bench/wl-* (default: build)")
    p.add_argument("--allocators", metavar="A,B",
                   help="allocators to run (default: all found: "
                   "%s)" % ",".join(allocmod.DEFAULT_ORDER))
    p.add_argument("--workloads", metavar="W,X",
                   help="workloads to run (default: all available)")
    p.add_argument("--lib", action="append", default=[], metavar="NAME=PATH",
                   help="add (or replace) an allocator: a shared library "
                   "to preload; repeatable")
    p.add_argument("--conf", action="append", default=[],
                   metavar="NAME=SABLE_CONF",
                   help="add an allocator NAME: sable with SABLE_CONF set to "
                   "the value (e.g. decay0=dirty_decay_ms:0); repeatable")
    p.add_argument("-r", "--reps", type=int, default=None, metavar="N",
                   help="repetitions (default 3; 1 with --quick/--smoke)")
    p.add_argument("--quick", action="store_true",
                   help="every workload once at small sizes (< 3 min)")
    p.add_argument("--smoke", action="store_true",
                   help="every workload once at the smallest sizes; exit "
                   "non-zero if any run failed; writes no results unless "
                   "--out is given")
    p.add_argument("--threads", type=thread_list, default=None,
                   metavar="N[,M...]",
                   help="threads for threaded workloads (default: the "
                   "number of usable CPUs, at least 2); a list sweeps them: "
                   "every threaded workload runs at each count (default "
                   "with --full: powers of two from 1 to twice the CPUs)")
    p.add_argument("--full", action="store_true",
                   help="also the scaling sweep, the latency workload, "
                   "perf counters where the PMU can be read, and sable with "
                   "background_thread:true as the variant sable-bg")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="per-run time limit in seconds (default %d, quick "
                   "%d, smoke %d)" % (DEFAULT_TIMEOUT_S, QUICK_TIMEOUT_S,
                                      SMOKE_TIMEOUT_S))
    p.add_argument("--args", action="append", default=[],
                   metavar="WORKLOAD=ARGS",
                   help="extra arguments for one C workload, e.g. "
                   "--args 'larson=--seconds 5'; repeatable")
    p.add_argument("--out", metavar="DIR",
                   help="results directory (default: "
                   "bench/results/<YYYY-MM-DD-HHMM>-<host>)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    p.add_argument("--publish", nargs="?", const="benchmarks", default=None,
                   metavar="PAGE",
                   help="also write docs/PAGE.md (default: benchmarks) and "
                   "its plots in docs/img/PAGE-*.png")
    p.add_argument("--list", action="store_true",
                   help="list workloads and allocators and exit")
    a = p.parse_args(argv)
    if a.quick and a.smoke:
        p.error("--quick and --smoke exclude each other")
    if a.publish and a.smoke:
        p.error("--publish and --smoke exclude each other")
    if a.reps is not None and a.reps < 1:
        p.error("-r must be at least 1")
    return a


def thread_list(text):
    """--threads: one positive count or a comma-separated list of them
    (sorted, without repeats)."""
    try:
        counts = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        counts = []
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(
            "--threads takes positive counts, e.g. 4 or 1,2,4,8; got %r"
            % text)
    return counts


def powers_of_two(limit):
    """1, 2, 4, ... up to limit, and limit itself."""
    out, n = [], 1
    while n < limit:
        out.append(n)
        n *= 2
    return out + [limit]


def thread_plan(asked, full, cpus):
    """(main count, sweep or None). The main count is what every table but
    the scaling one uses: the usable CPUs (at least 2), or the asked count
    nearest to it. A sweep runs with several counts: the asked ones, or
    with --full the powers of two up to twice the CPUs, and the main
    count."""
    default = max(2, cpus)
    if asked is None:
        sweep = sorted(set(powers_of_two(2 * cpus)) | {default}) \
            if full else None
    elif len(asked) == 1:
        return asked[0], None
    else:
        sweep = asked
    if not sweep:
        return default, None
    main = min(sweep, key=lambda n: (abs(n - default), -n))
    return main, sweep


def ab_pair(args):
    """(old, new): the first two allocators given with --lib, or None."""
    names = [name for name, _ in parse_pairs(args.lib, "--lib")]
    return (names[0], names[1]) if len(names) >= 2 else None


def split_list(s):
    return [x.strip() for x in s.split(",") if x.strip()] if s else None


def parse_pairs(items, what):
    out = []
    for item in items:
        if "=" not in item:
            raise SystemExit("bench/run: %s needs NAME=VALUE, got %r"
                             % (what, item))
        k, v = item.split("=", 1)
        out.append((k.strip(), v))
    return out


def build_dir(arg):
    if arg is None:
        return os.path.join(REPO_ROOT, "build")
    return os.path.abspath(arg)


def rel(path):
    """path as a report may show it: relative to the repository root when
    inside it, as is under /usr and /lib (the same on every Debian), else
    only its last component (reports must not name this machine's
    directories)."""
    if not path:
        return path
    ap = os.path.abspath(path)
    if ap == REPO_ROOT or ap.startswith(REPO_ROOT + os.sep):
        return os.path.relpath(ap, REPO_ROOT)
    if not os.path.isabs(path):
        return path
    if ap.startswith(("/usr/", "/lib/", "/lib64/")):
        return ap
    return ".../" + os.path.basename(ap.rstrip(os.sep))


def scrub(text, workdir=None):
    """text without this machine's directories: paths in the repository
    become relative, the scratch directory becomes <workdir>."""
    if workdir:
        text = text.replace(workdir, "<workdir>")
    return text.replace(REPO_ROOT + os.sep, "")


def command_line(argv):
    parts = ["bench/run"]
    for arg in argv:
        if "=" in arg:
            k, v = arg.split("=", 1)
            parts.append("%s=%s" % (k, rel(v) if os.path.isabs(v) else v))
        elif os.path.isabs(arg):
            parts.append(rel(arg))
        else:
            parts.append(arg)
    return " ".join(shlex.quote(p) for p in parts)


def results_dir(host, when):
    base = os.path.join(BENCH_DIR, "results")
    stamp = when.strftime("%Y-%m-%d-%H%M")
    name = "%s-%s" % (stamp, host)
    path = os.path.join(base, name)
    n = 2
    while os.path.exists(path):
        path = os.path.join(base, "%s-%d" % (name, n))
        n += 1
    os.makedirs(path)
    return path


def update_latest(path):
    base = os.path.dirname(path)
    link = os.path.join(base, "latest")
    tmp = os.path.join(base, ".latest.%d" % os.getpid())
    os.symlink(os.path.basename(path), tmp)
    os.replace(tmp, link)


def list_things(workloads, allocs, missing):
    print("workloads:")
    for w in workloads:
        why = w.unavailable()
        print("  %-20s %s%s" % (w.name, w.kind,
                                "" if why is None else "  (%s)" % why))
    print("allocators:")
    for a in allocs:
        print("  %-20s %s" % (a.name, rel(a.path) or "(no preload)"))
    for name, why in missing:
        print("  %-20s (%s)" % (name, why))


class Selection:
    """What will run: allocators and workloads that can, what was skipped
    and why, and how many problems count against a smoke run."""

    def __init__(self):
        self.allocs = []
        self.workloads = []
        self.skipped = []
        self.problems = 0


def select(args, build, mode):
    sel = Selection()
    extra_libs = parse_pairs(args.lib, "--lib")
    confs = parse_pairs(args.conf, "--conf")
    # --full compares sable with and without its background thread.
    if args.full and not any(n == FULL_VARIANT[0] for n, _ in confs) and \
            (args.allocators is None or
             "sable" in split_list(args.allocators)):
        confs.append(FULL_VARIANT)
    selected = split_list(args.allocators)
    if selected is not None:
        selected += [name for name, _ in confs if name not in selected]
    sel.allocs, missing = allocmod.resolve(
        build, selected, extra_libs, REPO_ROOT, confs)
    # A smoke run checks every workload, those of --full too.
    all_workloads = wlmod.discover(build, split_list(args.workloads),
                                   args.full or mode == "smoke")
    if args.list:
        list_things(all_workloads, sel.allocs, missing)
        return None
    for name, why in missing:
        log("bench/run: skipping allocator %s: %s" % (name, why))
        sel.skipped.append(("allocator " + name, why))
        if mode == "smoke":
            sel.problems += 1
    for w in all_workloads:
        why = w.unavailable()
        if why is None:
            sel.workloads.append(w)
            continue
        log("bench/run: skipping workload %s: %s" % (w.name, why))
        sel.skipped.append((w.name, why))
        # Real programs run where installed; the suite's own must exist.
        if mode == "smoke" and w.kind == "synthetic":
            sel.problems += 1
    return sel


def measure(sel, ctx, reps):
    """Prepare, make the reference runs, run the suite. Returns (runs,
    interrupted)."""
    try:
        for w in sel.workloads:
            w.prepare(ctx)
        for w, rec in suite.make_references(sel.workloads, ctx, log):
            sel.workloads.remove(w)
            sel.skipped.append((w.name, "reference run under glibc failed: "
                                "%s: %s" % (rec.status, rec.detail)))
            sel.problems += 1
        return suite.run_all(sel.workloads, sel.allocs, reps, ctx, log), \
            False
    except KeyboardInterrupt as e:
        log("bench/run: interrupted; writing what was measured")
        return getattr(e, "runs", []), True


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    mode = "smoke" if args.smoke else "quick" if args.quick else "default"
    reps = args.reps or (1 if mode != "default" else 3)
    timeout = args.timeout or {"default": DEFAULT_TIMEOUT_S,
                               "quick": QUICK_TIMEOUT_S,
                               "smoke": SMOKE_TIMEOUT_S}[mode]
    threads, sweep = thread_plan(args.threads, args.full,
                                 sysinfo.cpu_count())
    build = build_dir(args.build)
    try:
        sel = select(args, build, mode)
    except ValueError as e:
        log("bench/run: %s" % e)
        return 2
    if sel is None:         # --list
        return 0
    extra_args = {k: shlex.split(v) for k, v in
                  parse_pairs(args.args, "--args")}
    unknown = sorted(set(extra_args) - {w.name for w in sel.workloads})
    if unknown:
        log("bench/run: --args for workloads not run: %s" % ", ".join(unknown))
        return 2
    if not sel.allocs or not sel.workloads:
        log("bench/run: nothing to run (%d allocators, %d workloads)"
            % (len(sel.allocs), len(sel.workloads)))
        return 2
    warnings = []
    why = execute.helper_problem()
    if why:
        warnings.append("Workloads were forked by the runner itself (%s): "
                        "peak RSS includes what they inherited from it."
                        % why)
        log("bench/run: warning: %s" % warnings[-1])

    start = datetime.datetime.now()
    t0 = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="sable-bench-")
    counters = perfmod.probe() if args.full else None
    if counters is not None and not counters.available:
        log("bench/run: no perf counters: %s" % counters.why)
    if counters is not None and why:
        counters = perfmod.Counters(None, False, "runs are forked without "
                                    "the spawn helper")
    ctx = wlmod.Context(mode=mode, threads=threads, timeout=timeout,
                        workdir=workdir, extra_args=extra_args, sweep=sweep,
                        perf=counters)
    try:
        runs, interrupted = measure(sel, ctx, reps)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    notes = suite.check_checksums(runs, log)
    for w in sel.workloads:
        if w.note:
            notes[w.name] = (notes.get(w.name, "") + " " + w.note).strip()
    elapsed = time.monotonic() - t0
    failed = [r for r in runs if not r.ok]
    log("bench/run: %d runs, %d FAILED, %.0f s" % (len(runs), len(failed),
                                                    elapsed))
    for r in failed:
        log("  FAILED %s × %s run %d: %s: %s" % (r.workload, r.allocator,
                                                  r.run, r.status, r.detail))

    outdir = args.out
    if outdir is None and mode != "smoke":
        outdir = results_dir(sysinfo.describe()["host"], start)
    if outdir:
        os.makedirs(outdir, exist_ok=True)
        meta = {
            "date": start.strftime("%Y-%m-%d %H:%M"),
            "command": command_line(argv),
            "mode": mode, "reps": reps, "threads": threads,
            "sweep": sweep,
            # Two builds compared: the first two --lib names (old, new).
            "ab": ab_pair(args),
            # None: not asked for (no --full); else (available, why not).
            "perf": None if counters is None else (counters.available,
                                                   counters.why),
            "timeout": timeout,
            "machine": sysinfo.describe(),
            "allocators": [(a.name, rel(a.path), a.version)
                           for a in sel.allocs],
            "programs": [(w.name, w.version()) for w in sel.workloads
                         if w.kind == "program"],
            "skipped": sel.skipped + ([("rest of the suite", "interrupted")]
                                      if interrupted else []),
            "args": {w.name: w.describe_args(ctx) for w in sel.workloads},
            "notes": notes,
            "elapsed_s": elapsed,
            "warnings": warnings,
            "workdir": workdir,
        }
        write_outputs(outdir, runs, sel.workloads, sel.allocs, meta, args)
        if args.out is None:
            update_latest(outdir)
        log("bench/run: results in %s" % outdir)
    if interrupted:
        return 130
    return 1 if failed or sel.problems else 0


def write_outputs(outdir, runs, workloads, allocs, meta, args):
    report.write_results_csv(os.path.join(outdir, "results.csv"), runs)
    report.write_rss_csv(os.path.join(outdir, "rss.csv"), runs)
    summary = report.Summary(runs, [w.name for w in workloads],
                             [a.name for a in allocs], meta["threads"])
    report.write_latency_csv(os.path.join(outdir, "latency.csv"), summary)
    made = []
    if not args.no_plots:
        if plots.available():
            made = plots.make_all(summary, outdir)
        else:
            log("bench/run: warning: matplotlib is not available "
                "(Debian: python3-matplotlib); no plots")
    with open(os.path.join(outdir, "report.md"), "w") as f:
        f.write(scrub(report.markdown(summary, meta, made),
                      meta.get("workdir")))
    if args.publish:
        publish(summary, meta, made, outdir, args.publish)



def publish(summary, meta, made, outdir, page="benchmarks"):
    if not page.replace("-", "").replace("_", "").isalnum():
        raise SystemExit("bench/run: --publish takes a plain page name, got %r"
                         % page)
    prefix = page + "-"
    docs = os.path.join(REPO_ROOT, "docs")
    img = os.path.join(docs, "img")
    os.makedirs(img, exist_ok=True)
    # Plots of an earlier publication that this one does not make again.
    for old in os.listdir(img):
        if old.startswith(prefix) and old.endswith(".png"):
            os.unlink(os.path.join(img, old))
    published = []
    for title, fname in made:
        shutil.copyfile(os.path.join(outdir, fname),
                        os.path.join(img, prefix + fname))
        published.append((title, prefix + fname))
    m = meta["machine"]
    machine = "%s (%d cores, %s), Debian %s, kernel %s" % (
        m["cpu"], m["cores"], m["memory"], m["debian"], m["kernel"])
    header = "\n".join([
        "<!-- Generated by bench/run --publish. Do not edit by hand. -->",
        "# Benchmarks" + ("" if page == "benchmarks" else ": " + page), "",
        "*This page was generated by `bench/run` on %s on %s. Do not edit "
        "it by hand: rerun the command below with `--publish%s` to update "
        "it.*" % (meta["date"], machine,
                  "" if page == "benchmarks" else " " + page)])
    text = report.markdown(summary, meta, published, img_prefix="img/",
                           header=header)
    with open(os.path.join(docs, page + ".md"), "w") as f:
        f.write(scrub(text, meta.get("workdir")))
    readme = os.path.join(REPO_ROOT, "README.md")
    if page == "benchmarks" and os.path.exists(readme):
        with open(readme) as f:
            old = f.read()
        try:
            new = report.replace_between(
                old, report.README_BEGIN, report.README_END,
                scrub(report.readme_summary(summary, meta, machine),
                      meta.get("workdir")))
        except ValueError:
            log("bench/run: README.md has no bench-summary markers; "
                "not updated")
        else:
            with open(readme, "w") as f:
                f.write(new)
    log("bench/run: published docs/%s.md and %d plots in docs/img/"
        % (page, len(published)))
