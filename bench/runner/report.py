"""results.csv, rss.csv and report.md from a list of record.Run.

summarise() reduces the runs to medians per (workload, allocator) and
ratios to the best; markdown() renders them. A (workload, allocator) with any
failed run is FAILED in the report, never a number, and is left out when the
best is chosen."""
import csv

from . import stats
from .record import CSV_FIELDS, PERF_EVENTS

# (key, label, higher is better) of the medians that get a ratio to the best.
RATIO_METRICS = [
    ("wall_s", "time", False),
    ("ops_per_s", "ops/s", True),
    ("peak_rss_kib", "peak RSS", False),
]
MEDIAN_METRICS = ["wall_s", "cpu_s", "ops_per_s", "peak_rss_kib", "minflt",
                  "majflt", "fragmentation", "final_rss_kib"]


def write_results_csv(path, runs):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in runs:
            w.writerow(r.row())


def write_rss_csv(path, runs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "allocator", "run", "t_s", "rss_kib"])
        for r in runs:
            for t, kib in r.samples:
                w.writerow([r.workload, r.allocator, r.run, "%.3f" % t, kib])


class Cell:
    """One (workload, allocator): its runs, medians and ratios."""

    def __init__(self, runs):
        self.runs = runs
        self.failures = [r for r in runs if not r.ok]
        self.failed = bool(self.failures)
        self.medians = {}
        self.ratios = {}
        if not self.failed and runs:
            for key in MEDIAN_METRICS:
                self.medians[key] = stats.median_or_none(
                    getattr(r, key) for r in runs)
            self.medians["wall_spread"] = stats.relative_spread(
                r.wall_s for r in runs)
            for e in PERF_EVENTS:
                self.medians[e] = stats.median_or_none(
                    (r.perf or {}).get(e) for r in runs)

    def get(self, key):
        return None if self.failed else self.medians.get(key)

    def median_run(self, key="peak_rss_kib"):
        """The ok run whose value of key is the median (lower middle)."""
        ok = [r for r in self.runs if r.ok and getattr(r, key) is not None]
        if not ok:
            return None
        ok.sort(key=lambda r: getattr(r, key))
        return ok[(len(ok) - 1) // 2]


def is_main(run, main_threads):
    """Whether a run counts in the main tables: runs of unthreaded workloads
    always, those of threaded ones at the main thread count."""
    return run.threads_asked is None or main_threads is None or \
        run.threads_asked == main_threads


class Summary:
    """cells[workload][allocator] (the runs at the main thread count) plus
    geometric means per allocator; scaling[workload][allocator][threads]
    when threaded workloads ran at several counts."""

    def __init__(self, runs, workloads, allocators, main_threads=None):
        self.all_runs = runs
        self.scaling = scaling_cells(runs, workloads, allocators)
        runs = [r for r in runs if is_main(r, main_threads)]
        self.workloads = [w for w in workloads
                          if any(r.workload == w for r in runs)]
        self.allocators = allocators
        self.cells = {}
        for w in self.workloads:
            row = {}
            for a in allocators:
                mine = [r for r in runs if r.workload == w and
                        r.allocator == a]
                if mine:
                    row[a] = Cell(mine)
            for key, _, higher in RATIO_METRICS:
                ratios = stats.ratios_to_best(
                    {a: c.get(key) for a, c in row.items()},
                    higher_is_better=higher)
                for a, c in row.items():
                    c.ratios[key] = ratios[a]
            self.cells[w] = row
        self.geomeans = {}
        for a in allocators:
            g = {"failed": 0, "n": 0}
            for key, _, _ in RATIO_METRICS:
                vals = [self.cells[w][a].ratios[key] for w in self.workloads
                        if a in self.cells[w]]
                g[key] = stats.geometric_mean(vals)
            for w in self.workloads:
                c = self.cells[w].get(a)
                if c is None:
                    continue
                if c.failed:
                    g["failed"] += 1
                elif c.ratios["wall_s"] is not None:
                    g["n"] += 1
            self.geomeans[a] = g


def scaling_cells(runs, workloads, allocators):
    """{workload: {allocator: {threads: Cell}}} for the workloads that ran
    at more than one thread count."""
    out = {}
    for w in workloads:
        mine = [r for r in runs if r.workload == w and
                r.threads_asked is not None]
        counts = sorted({r.threads_asked for r in mine})
        if len(counts) < 2:
            continue
        out[w] = {}
        for a in allocators:
            row = {t: Cell([r for r in mine if r.allocator == a and
                            r.threads_asked == t]) for t in counts}
            row = {t: c for t, c in row.items() if c.runs}
            if row:
                out[w][a] = row
    return out


def scaling_counts(summary, w):
    return sorted({t for row in summary.scaling[w].values() for t in row})


def scaling_table(summary, w):
    """Median ops/s per allocator (rows) and thread count (columns), and
    the ratio of the largest count's throughput to one thread's."""
    counts = scaling_counts(summary, w)
    rows = []
    for a in summary.allocators:
        row = summary.scaling[w].get(a)
        if row is None:
            continue
        cells = []
        for t in counts:
            c = row.get(t)
            cells.append("—" if c is None else "FAILED" if c.failed
                         else fmt_num(c.get("ops_per_s")))
        first, last = row.get(counts[0]), row.get(counts[-1])
        speedup = None
        if first and last and not first.failed and not last.failed and \
                first.get("ops_per_s") and last.get("ops_per_s"):
            speedup = last.get("ops_per_s") / first.get("ops_per_s")
        rows.append([a] + cells + [fmt(speedup, "%.2f")])
    return table(["allocator"] + ["%d thr" % t for t in counts] +
                 ["%d ÷ %d" % (counts[-1], counts[0])],
                 ["l"] + ["r"] * (len(counts) + 1), rows)


def scaling_section(summary):
    if not summary.scaling:
        return []
    out = ["## Scaling", "",
           "Throughput (ops/s as the workload measured it, median over the "
           "repetitions) of each threaded workload at each thread count; "
           "the last column is the throughput at the most threads ÷ at the "
           "fewest. Past the number of cores, threads share them: a flat "
           "or falling curve there is lock or cache-line contention, not a "
           "lack of cores alone.", ""]
    for w in summary.scaling:
        out += ["### %s" % w, ""] + scaling_table(summary, w) + [""]
    return out


LATENCY_PERCENTILES = [50, 99, 99.9, 100]


def latency_cells(summary):
    """{workload: {allocator: {"malloc": {p: ns}, "free": {p: ns}, "n":
    (malloc samples, free samples)} or "FAILED"}} for workloads whose runs
    carry latency samples; the samples of all an allocator's runs are
    pooled."""
    out = {}
    for w in summary.workloads:
        row = {}
        for a in summary.allocators:
            c = summary.cells[w].get(a)
            if c is None:
                continue
            if c.failed:
                row[a] = "FAILED"
                continue
            pooled = {"malloc": [], "free": []}
            for r in c.runs:
                for kind in pooled:
                    pooled[kind] += (r.latency or {}).get(kind, [])
            if not pooled["malloc"] or not pooled["free"]:
                continue
            row[a] = {kind: {p: stats.percentile(v, p)
                             for p in LATENCY_PERCENTILES}
                      for kind, v in pooled.items()}
            row[a]["n"] = (len(pooled["malloc"]), len(pooled["free"]))
            row[a]["samples"] = pooled
        if row and any(v != "FAILED" for v in row.values()):
            out[w] = row
    return out


def latency_table(row):
    pct = ["p50", "p99", "p99.9", "max"]
    rows = []
    for a, v in row.items():
        if v == "FAILED":
            rows.append([a] + ["FAILED"] * 9)
            continue
        rows.append([a] + [fmt_num(v[k][p]) for k in ("malloc", "free")
                           for p in LATENCY_PERCENTILES] +
                    ["%d + %d" % v["n"]])
    return table(["allocator"] + ["malloc " + p for p in pct] +
                 ["free " + p for p in pct] + ["samples"],
                 ["l"] + ["r"] * 9, rows)


def latency_section(summary):
    cells = latency_cells(summary)
    out = []
    for w, row in cells.items():
        out += ["## Latency of single calls (%s)" % w, "",
                "Nanoseconds per call, from calls timed one at a time "
                "(one in N at random, see the workload's arguments) "
                "through steady, burst, drain, idle and refill phases; "
                "percentiles by nearest rank over the samples of all "
                "repetitions. Each sample includes the timer's own cost "
                "(about %s ns here)." % timer_note(summary, w), ""]
        out += latency_table(row) + [""]
    return out


def timer_note(summary, w):
    vals = [r.extra.get("timer_ns") for c in summary.cells[w].values()
            for r in c.runs if r.ok and r.extra.get("timer_ns") is not None]
    return fmt_num(stats.median(vals)) if vals else "an unknown number of"


def write_latency_csv(path, summary):
    """latency.csv: workload,allocator,call,percentile,ns."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "allocator", "call", "percentile", "ns"])
        for wl, row in latency_cells(summary).items():
            for a, v in row.items():
                if v == "FAILED":
                    continue
                for kind in ("malloc", "free"):
                    for p in LATENCY_PERCENTILES:
                        w.writerow([wl, a, kind, "%g" % p, v[kind][p]])


def costs_section(summary, meta):
    """Page faults per run and, where perf could count them, TLB misses,
    cycles and instructions (medians), one table per workload."""
    perf = meta.get("perf")
    out = ["## Page faults and TLB misses", ""]
    if perf is None:
        note = ("Hardware counters were not asked for (`--full` counts "
                "them with `perf stat` where the PMU can be read).")
    elif not perf[0]:
        note = ("Hardware counters (dTLB-load-misses, iTLB-load-misses, "
                "cycles, instructions): not available on this machine: "
                "%s." % perf[1])
    else:
        note = ("Hardware counters from `perf stat` around each run "
                "(the workload and the small helper that forks it; "
                "medians over the repetitions). IPC is instructions ÷ "
                "cycles.")
    out += ["Minor and major page faults are the process's own "
            "(`wait4`'s rusage), medians over the repetitions. " + note, ""]
    events = PERF_EVENTS if perf and perf[0] else []
    for w in summary.workloads:
        def values(c):
            row = [fmt_num(c.get("minflt")), fmt_num(c.get("majflt"))]
            row += [fmt_num(c.get(e)) for e in events]
            if events:
                ipc = None
                if c.get("cycles") and c.get("instructions") is not None:
                    ipc = c.get("instructions") / c.get("cycles")
                row.append(fmt(ipc, "%.2f"))
            return row
        head = ["allocator", "minflt", "majflt"] + events + \
            (["IPC"] if events else [])
        rows = allocator_rows(summary, summary.cells[w], len(head) - 1,
                              values)
        out += ["### %s" % w, ""] + table(head, ["l"] + ["r"] *
                                          (len(head) - 1), rows) + [""]
    return out


AB_METRICS = [("wall_s", "time"), ("peak_rss_kib", "peak RSS")]


def ab_rows(summary, old, new):
    """[(workload, label, ci or None, verdict)] comparing allocator new
    with old: the ratio of medians new ÷ old with its 95 % bootstrap
    interval over the repetitions. verdict: "not significant" when the
    interval covers 1, "new is slower/larger" or "new is faster/smaller"
    when it does not, "FAILED" or "too few runs"."""
    out = []
    for w in summary.workloads:
        co, cn = summary.cells[w].get(old), summary.cells[w].get(new)
        if co is None or cn is None:
            continue
        for key, label in AB_METRICS:
            if co.failed or cn.failed:
                out.append((w, label, None, "FAILED"))
                continue
            ci = stats.bootstrap_ratio_ci([getattr(r, key) for r in co.runs],
                                          [getattr(r, key) for r in cn.runs])
            sig = stats.significant(ci)
            if sig is None:
                verdict = "too few runs"
            elif not sig:
                verdict = "not significant"
            elif ci[0] > 1:
                verdict = "%s is %s" % (new, "slower" if key == "wall_s"
                                        else "larger")
            else:
                verdict = "%s is %s" % (new, "faster" if key == "wall_s"
                                        else "smaller")
            out.append((w, label, ci, verdict))
    return out


def ab_section(summary, meta):
    ab = meta.get("ab")
    if not ab or ab[0] not in summary.allocators or \
            ab[1] not in summary.allocators:
        return []
    old, new = ab
    rows = [[w, label, fmt(ci and ci[0], "%.3f"),
             "—" if ci is None else "%.3f – %.3f" % (ci[1], ci[2]), v]
            for w, label, ci, v in ab_rows(summary, old, new)]
    out = ["## A/B: %s against %s" % (new, old), "",
           "The ratio of medians %s ÷ %s per workload, with a 95 %% "
           "percentile-bootstrap confidence interval over the repetitions "
           "(2,000 resamples of each side's runs). A difference whose "
           "interval covers 1 is not significant: it is within the noise "
           "of this machine. With few repetitions the interval is wide; "
           "use `-r 10` or more for a decision." % (new, old), ""]
    out += table(["workload", "metric", "ratio", "95 % interval",
                  "verdict"], ["l", "l", "r", "r", "l"], rows)
    return out + [""]


# Workloads that report memory at the end of each phase: (title, note,
# [(column, extra key, value of a run or None)]).
def _mib_of(key):
    return lambda r: mib(r.extra.get(key))


PHASES = {
    "balloon": ("RSS at the end of each phase (MiB)",
                "Grow to the peak, free 90 % in random order, stay idle "
                "(no call at all), grow again with larger sizes.", "%.1f",
                [(p, _mib_of(k)) for p, k in (
                    ("grow", "rss_grow_kib"), ("shrink", "rss_shrink_kib"),
                    ("idle", "rss_idle_kib"), ("regrow", "rss_regrow_kib"))]),
    "redis-frag": ("RSS ÷ used_memory at the end of each stage",
                   "redis-server's VmRSS divided by its own used_memory "
                   "(`INFO memory`): fill keys of mixed sizes, delete 85 % "
                   "in random order, stay idle, refill with larger values. "
                   "1.0 would be no fragmentation and no overhead.", "%.2f",
                   [(p, (lambda k: lambda r: r.extra.get(k))("frag_" + p))
                    for p in ("fill", "delete", "idle", "refill")]),
}


def phase_section(summary):
    out = []
    for w, (title, note, spec, cols) in PHASES.items():
        row = summary.cells.get(w)
        if not row:
            continue
        rows = allocator_rows(summary, row, len(cols), lambda c: [
            fmt(stats.median_or_none(f(r) for r in c.runs), spec)
            for _, f in cols])
        out += ["## %s: %s" % (w, title), "", note + " Medians over the "
                "repetitions.", ""]
        out += table(["allocator"] + [c for c, _ in cols],
                     ["l"] + ["r"] * len(cols), rows) + [""]
    return out


def allocator_rows(summary, row, width, values):
    """Table rows in report order for the allocators of row ({allocator:
    Cell}): a FAILED row of width cells for a failed cell, else the
    allocator and values(cell)."""
    out = []
    for a in summary.allocators:
        c = row.get(a)
        if c is None:
            continue
        out.append([a] + (["FAILED"] * width if c.failed else values(c)))
    return out


# The kinds of workload the first screen answers for, in order. A workload
# not listed (another wl-* found in the build) counts in no suite; latency
# has a row of its own (its time is mostly the timer's and the idle phase).
SUITES = [
    ("multi-threaded", "threaded C workloads", [
        "larson", "prodcons", "cache-scratch", "cache-thrash",
        "thread-churn", "rcu"]),
    ("single-threaded", "single-threaded C workloads", [
        "realloc-growth", "large", "espresso", "tlb", "big-buffers-calloc",
        "big-buffers-memset"]),
    ("memory phases", "workloads that free most of their memory and go on",
     ["fragmentation", "free-all", "trim-churn", "balloon", "redis-frag",
      "many-threads"]),
    ("real programs", "programs from Debian", [
        "python3", "sqlite3", "gcc", "perl", "git", "lua", "redis"]),
]


def suite_scores(summary):
    """[(suite, description, workloads run, {allocator: {"wall_s": gm,
    "peak_rss_kib": gm, "failed": n}})] for the suites with a workload
    in the summary: geometric means of the ratios to the best over the
    suite's workloads that did not fail."""
    out = []
    for name, desc, members in SUITES:
        ws = [w for w in members if w in summary.cells]
        if not ws:
            continue
        scores = {}
        for a in summary.allocators:
            cells = [summary.cells[w][a] for w in ws if a in summary.cells[w]]
            if not cells:
                continue
            scores[a] = {key: stats.geometric_mean(
                c.ratios.get(key) for c in cells if not c.failed)
                for key in ("wall_s", "peak_rss_kib")}
            scores[a]["failed"] = sum(1 for c in cells if c.failed)
        out.append((name, desc, ws, scores))
    return out


def best_of(scores, key):
    """(allocator, value) with the lowest score among the allocators that
    failed nowhere in the suite; None if there is none."""
    ok = [(v[key], a) for a, v in scores.items()
          if not v["failed"] and v[key] is not None]
    if not ok:
        return None
    v, a = min(ok)
    return a, v


def runner_up(scores, key, best):
    ok = sorted((v[key], a) for a, v in scores.items()
                if not v["failed"] and v[key] is not None and a != best)
    return ("%s %.2f" % (ok[0][1], ok[0][0])) if ok else "—"


def pick_section(summary):
    """The first screen: for each kind of workload, the allocator with the
    best geometric mean of time and of peak RSS (ratios to the best per
    workload), the next one, and where the tails and the scaling point."""
    rows = []
    for name, desc, ws, scores in suite_scores(summary):
        for key, what in (("wall_s", "time"), ("peak_rss_kib", "peak RSS")):
            b = best_of(scores, key)
            if b is None:
                continue
            rows.append(["%s (%d)" % (name, len(ws)), what,
                         "**%s** %.2f" % b, runner_up(scores, key, b[0])])
    lat = latency_cells(summary)
    for w, row in lat.items():
        ok = [(v["malloc"][99.9] + v["free"][99.9], a)
              for a, v in row.items() if v != "FAILED"]
        if ok:
            ok.sort()
            rows.append(["tail latency", "p99.9 malloc + free (ns)",
                         "**%s** %s" % (ok[0][1], fmt_num(ok[0][0])),
                         "%s %s" % (ok[1][1], fmt_num(ok[1][0]))
                         if len(ok) > 1 else "—"])
    for w in summary.scaling:
        top = scaling_counts(summary, w)[-1]
        ok = sorted(((c.get("ops_per_s"), a)
                     for a, r in summary.scaling[w].items()
                     for t, c in r.items() if t == top and not c.failed and
                     c.get("ops_per_s")), reverse=True)
        if ok:
            rows.append(["scaling: %s" % w, "ops/s at %d threads" % top,
                         "**%s** %s" % (ok[0][1], fmt_num(ok[0][0])),
                         "%s %s" % (ok[1][1], fmt_num(ok[1][0]))
                         if len(ok) > 1 else "—"])
    if not rows:
        return []
    out = ["## Which allocator for which workload", "",
           "From this run's numbers: per kind of workload, the allocator "
           "with the lowest geometric mean of its ratios to the best (1.00 "
           "= best on every workload of the kind), and the next one. An "
           "allocator that FAILED any workload of a kind is not picked for "
           "it. Differences smaller than the spread of the repetitions "
           "(in each workload's table) are noise.", ""]
    out += table(["kind (workloads)", "metric", "pick", "next"],
                 ["l", "l", "l", "l"], rows)
    return out + [""]


def fmt(v, spec):
    return "—" if v is None else spec % v


def fmt_num(v):
    if v is None:
        return "—"
    if v >= 100:
        return "{:,.0f}".format(v)
    return "%.3g" % v


def mib(kib):
    return None if kib is None else kib / 1024.0


def table(header, align, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join(":--" if a == "l" else "--:" for a in align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def workload_table(summary, w):
    row = summary.cells[w]
    cells = row.values()

    def any_value(key):
        return any(c.get(key) is not None for c in cells)

    cols = [("time (s)", lambda c: fmt(c.get("wall_s"), "%.3f"))]
    if any_value("wall_spread"):
        cols.append(("spread", lambda c: fmt(
            None if c.get("wall_spread") is None else
            100.0 * c.get("wall_spread"), "%.0f%%")))
    cols += [("× best", lambda c: fmt(c.ratios["wall_s"], "%.2f")),
            ("CPU (s)", lambda c: fmt(c.get("cpu_s"), "%.3f"))]
    if any_value("ops_per_s"):
        cols += [("ops/s", lambda c: fmt_num(c.get("ops_per_s"))),
                 ("× best", lambda c: fmt(c.ratios["ops_per_s"], "%.2f"))]
    cols += [("peak RSS (MiB)", lambda c: fmt(mib(c.get("peak_rss_kib")),
                                               "%.1f")),
             ("× best", lambda c: fmt(c.ratios["peak_rss_kib"], "%.2f")),
             ("minflt", lambda c: fmt_num(c.get("minflt")))]
    if any_value("fragmentation"):
        cols.append(("RSS / live", lambda c: fmt(c.get("fragmentation"),
                                                  "%.2f")))
    if any_value("final_rss_kib"):
        cols.append(("final RSS (MiB)",
                     lambda c: fmt(mib(c.get("final_rss_kib")), "%.1f")))
    rows = allocator_rows(summary, row, len(cols),
                          lambda c: [f(c) for _, f in cols])
    return table(["allocator"] + [h for h, _ in cols],
                 ["l"] + ["r"] * len(cols), rows)


def failure_lines(summary, w):
    out = []
    for a in summary.allocators:
        c = summary.cells[w].get(a)
        if c is None:
            continue
        for r in c.failures:
            out.append("- FAILED: %s run %d: %s (%s)" % (
                a, r.run, r.status, r.detail or "no detail"))
    return out


def geomean_table(summary):
    rows = []
    nw = len(summary.workloads)
    for a in summary.allocators:
        g = summary.geomeans[a]
        counted = "%d of %d" % (g["n"], nw)
        if g["failed"]:
            counted += ", %d FAILED" % g["failed"]
        rows.append([a, fmt(g["wall_s"], "%.3f"), fmt(g["peak_rss_kib"],
                                                       "%.3f"), counted])
    return table(["allocator", "time × best", "peak RSS × best",
                  "workloads"], ["l", "r", "r", "r"], rows)


README_BEGIN = "<!-- bench-summary:begin -->"
README_END = "<!-- bench-summary:end -->"


def readme_summary(summary, meta, machine):
    """The README's benchmark section: the summary table with its date and
    machine, pointing to the full page."""
    out = ["Generated by `bench/run --publish` on %s on %s; every workload, "
           "the RSS plots and the method are in "
           "[docs/benchmarks.md](docs/benchmarks.md). Geometric mean over "
           "workloads of each allocator's ratio to the best (1.00 = best on "
           "every workload):" % (meta["date"], machine), ""]
    out += geomean_table(summary)
    return "\n".join(out)


def replace_between(text, begin, end, body):
    """text with the part between the begin and end markers replaced by
    body; ValueError if the markers are missing."""
    i = text.index(begin) + len(begin)
    j = text.index(end, i)
    return text[:i] + "\n" + body + "\n" + text[j:]


def markdown(summary, meta, plots=(), img_prefix="", header=None):
    """The report. meta: dict with machine (dict), allocators (list of
    (name, library, version)), command, date, mode, reps, threads, timeout,
    skipped (list of (what, why)), args (workload -> description), notes
    (workload -> note), quick (bool). plots: [(title, filename)]."""
    out = []
    if header:
        out += [header, ""]
    else:
        out += ["# sable benchmark report", ""]
    took = ""
    if meta.get("elapsed_s") is not None:
        e = meta["elapsed_s"]
        took = (" It took %.0f s." % e if e < 120 else
                " It took %.1f minutes." % (e / 60.0))
    out += ["Date: %s. Command: `%s`.%s" % (meta["date"], meta["command"],
                                            took), ""]
    if meta.get("mode") in ("quick", "smoke"):
        out += ["**%s mode: tiny problem sizes, one run each; the numbers "
                "show that everything works, not how fast it is.**"
                % meta["mode"].capitalize(), ""]
    for warning in meta.get("warnings", ()):
        out += ["**Warning: %s**" % warning, ""]
    out += pick_section(summary)
    out += ["## Machine", ""]
    m = meta["machine"]
    out += table(["", ""], ["l", "l"], [
        ["CPU", m["cpu"]], ["cores", str(m["cores"])],
        ["memory", m["memory"]], ["kernel", m["kernel"]],
        ["Debian", m["debian"]], ["glibc", m["glibc"]],
        ["transparent huge pages", m["thp"]]])
    out += ["", "## Allocators", ""]
    out += table(["allocator", "library", "version"], ["l", "l", "l"],
                 [[n, "`%s`" % lib if lib else "(none: the C library's)",
                   v or "unknown"] for n, lib, v in meta["allocators"]])
    if meta.get("programs"):
        out += ["", "Real programs: " + ", ".join(
            "%s (%s)" % (n, v or "version unknown")
            for n, v in meta["programs"]) + "."]
    out += ["", "Each run starts the workload with `LD_PRELOAD` set to the "
            "library. Repetitions: %d; allocators take turns in a rotating "
            "order within each repetition. Threaded workloads get "
            "`--threads %d`%s. Per-run time limit: %.0f s." % (
                meta["reps"], meta["threads"],
                " in every table but Scaling, which has each of %s" %
                ", ".join(map(str, meta["sweep"])) if meta.get("sweep")
                else "", meta["timeout"]), ""]
    out += ["Cells are medians over the repetitions. `× best` is the ratio "
            "to the best allocator for that workload (1.00 is the best; for "
            "ops/s it is best ÷ value, so larger is worse everywhere). "
            "Time is the wall time of the whole process; ops/s is what the "
            "workload measured itself. Peak RSS is `ru_maxrss` from "
            "`wait4`. RSS / live is peak RSS ÷ the peak live bytes the "
            "workload reports. Spread is (slowest − fastest) ÷ median time "
            "over the repetitions: differences between allocators smaller "
            "than that are noise. A FAILED cell means at least one run "
            "crashed, failed, timed out or gave a wrong result; it is not "
            "counted.", ""]
    out += ["## Summary", "", "Geometric mean over workloads of each "
            "allocator's ratio to the best (1.00 would be best everywhere; "
            "FAILED workloads are left out of that allocator's mean).", ""]
    out += geomean_table(summary)
    out.append("")
    for title, fname in plots:
        out += ["![%s](%s%s)" % (title, img_prefix, fname), ""]
    out += ab_section(summary, meta)
    out += scaling_section(summary)
    out += latency_section(summary)
    out += phase_section(summary)
    if meta.get("perf") is not None:
        out += costs_section(summary, meta)
    out += ["## Workloads", ""]
    for w in summary.workloads:
        out += ["### %s" % w, ""]
        desc = meta.get("args", {}).get(w)
        if desc is not None:
            out += ["Arguments: `%s`." % desc if desc else
                    "Arguments: none (defaults).", ""]
        note = meta.get("notes", {}).get(w)
        if note:
            out += [note, ""]
        out += workload_table(summary, w)
        fl = failure_lines(summary, w)
        if fl:
            out += [""] + fl
        out.append("")
    if meta.get("skipped"):
        out += ["## Not run", ""]
        out += ["- %s: %s" % (what, why) for what, why in meta["skipped"]]
        out.append("")
    return "\n".join(out)
