"""The measurement loop: reference runs, then for each repetition, for each
workload, every allocator in a rotated order (so slow drift on a noisy
machine spreads evenly over the allocators)."""
import sys

from .allocators import Allocator


def rotated(items, k):
    if not items:
        return []
    k %= len(items)
    return items[k:] + items[:k]


def plan(workloads, allocators, reps, counts=None):
    """[(rep, workload, allocator, threads)] in execution order. counts(w)
    gives the thread counts of workload w (a sweep runs each count as a
    point of its own, every allocator at each); [None] when not given."""
    out = []
    for rep in range(reps):
        k = rep
        for w in workloads:
            for t in (counts(w) if counts else [None]):
                for a in rotated(list(allocators), k):
                    out.append((rep + 1, w, a, t))
                k += 1
    return out


def fmt_progress(i, total, rec, reps):
    if rec.ok:
        tail = "%.2f s" % rec.wall_s
    else:
        tail = "FAILED (%s: %s)" % (rec.status, rec.detail)
    point = "" if rec.threads_asked is None else \
        " (%d threads)" % rec.threads_asked
    return "[%d/%d] %s%s × %s run %d/%d … %s" % (
        i, total, rec.workload, point, rec.allocator, rec.run, reps, tail)


def make_references(workloads, ctx, log=None):
    """Run each workload that needs one once under glibc, untimed, and
    store its output as the expected value. Returns [(workload, Run)] of the
    reference runs that failed (those workloads cannot be judged)."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    glibc = Allocator("glibc")
    bad = []
    for w in workloads:
        if not w.needs_reference:
            continue
        rec = w.run(glibc, ctx, 0)
        if rec.ok and rec.output is not None:
            w.reference = rec.output
            log("[ref] %s × glibc: expected output %s … %s"
                % (w.name, rec.output, "%.2f s" % rec.wall_s
                   if rec.wall_s is not None else "done"))
        else:
            if rec.ok:
                rec.fail("wrong", "no output to compare")
            log("[ref] %s × glibc … FAILED (%s: %s)"
                % (w.name, rec.status, rec.detail))
            bad.append((w, rec))
    return bad


def check_checksums(runs, log=None):
    """For workloads reporting a checksum: if glibc's ok runs all agree on
    one, mark every ok run with another checksum as wrong. Returns notes
    {workload: text} for checksums that could not be compared."""
    notes = {}
    by_workload = {}
    for r in runs:
        if r.checksum is not None and r.ok:
            by_workload.setdefault(r.workload, []).append(r)
    for w, rs in by_workload.items():
        ref = {r.checksum for r in rs if r.allocator == "glibc"}
        if len(ref) != 1:
            if len(ref) > 1:
                notes[w] = ("Its checksum differs between glibc's runs, so "
                            "checksums were not compared across allocators.")
            continue
        ref = ref.pop()
        for r in rs:
            if r.checksum != ref:
                r.fail("wrong", "checksum %s differs from glibc's %s"
                       % (r.checksum, ref))
                if log:
                    log("checksum: %s × %s run %d is wrong (%s, glibc %s)"
                        % (w, r.allocator, r.run, r.checksum, ref))
    return notes


def run_all(workloads, allocators, reps, ctx, log=None):
    """Run the plan, logging progress; returns the list of Runs. On
    KeyboardInterrupt the runs so far are attached to the exception as
    .runs and it is re-raised."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    steps = plan(workloads, allocators, reps, ctx.thread_counts)
    runs = []
    # A workload that timed out under an allocator is not run under it
    # again: its cell is FAILED already, and more timeouts would only blow
    # the time budget.
    timed_out = {}
    try:
        for i, (rep, w, a, t) in enumerate(steps, 1):
            key = (w.name, a.name, t)
            if key in timed_out:
                log("[%d/%d] %s × %s run %d/%d … skipped (run %d timed out)"
                    % (i, len(steps), w.name, a.name, rep, reps,
                       timed_out[key]))
                continue
            rec = w.run(a, ctx if t is None else ctx.with_threads(t), rep)
            runs.append(rec)
            if rec.status == "timeout":
                timed_out[key] = rep
            log(fmt_progress(i, len(steps), rec, reps))
    except KeyboardInterrupt as e:
        e.runs = runs
        raise
    return runs
