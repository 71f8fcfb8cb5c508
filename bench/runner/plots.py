"""PNG plots with matplotlib (Agg backend). If matplotlib cannot be
imported, available() is False and the runner skips the plots."""
import os

from . import report

RSS_OVER_TIME = ["fragmentation", "free-all", "balloon", "redis-frag"]


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def available():
    try:
        _pyplot()
        return True
    except Exception:   # ImportError, or a broken installation
        return False


def _ratio_bars(plt, summary, key, title, ylabel, path):
    ws = summary.workloads
    allocs = summary.allocators
    if not ws or not allocs:
        return False
    width = 0.8 / len(allocs)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(ws) + 2), 4.2))
    for i, a in enumerate(allocs):
        xs, ys, failed = [], [], []
        for j, w in enumerate(ws):
            c = summary.cells[w].get(a)
            x = j - 0.4 + width * (i + 0.5)
            if c is None:
                continue
            if c.failed or c.ratios.get(key) is None:
                if c.failed:
                    failed.append(x)
                continue
            xs.append(x)
            ys.append(c.ratios[key])
        bars = ax.bar(xs, ys, width, label=a)
        color = bars.patches[0].get_facecolor() if bars.patches else None
        for x in failed:
            ax.text(x, 1.0, "FAILED", rotation=90, ha="center",
                    va="bottom", fontsize=6, color=color or "red")
    ratios = [c.ratios.get(key) for w in ws for c in summary.cells[w].values()
              if not c.failed and c.ratios.get(key) is not None]
    if ratios and max(ratios) > 4:
        # One outlier would flatten every other bar: use a log scale, with
        # the best (1.0) still visible as a short bar.
        from matplotlib.ticker import NullFormatter
        ax.set_yscale("log")
        ax.set_ylim(bottom=0.9, top=max(ratios) * 1.15)
        ticks = [t for t in (1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500)
                 if t <= max(ratios) * 1.15]
        ax.set_yticks(ticks)
        ax.set_yticklabels(["%g" % t for t in ticks])
        ax.yaxis.set_minor_formatter(NullFormatter())
        ylabel += " (log scale)"
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xticks(range(len(ws)))
    ax.set_xticklabels(ws, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=min(5, len(allocs)))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _rss_over_time(plt, summary, w, path):
    row = summary.cells.get(w)
    if not row:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    drawn = False
    for a in summary.allocators:
        c = row.get(a)
        if c is None or c.failed:
            continue
        r = c.median_run("peak_rss_kib")
        if r is None or not r.samples:
            continue
        ax.plot([t for t, _ in r.samples], [k / 1024.0 for _, k in
                                             r.samples], label=a)
        drawn = True
    if not drawn:
        plt.close(fig)
        return False
    return _finish(plt, fig, ax, "seconds", "RSS (MiB)",
                   "%s: RSS over time (median run)" % w, path)


def _finish(plt, fig, ax, xlabel, ylabel, title, path):
    """Label a one-axes figure, save it and close it; returns True."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _scaling(plt, summary, w, path):
    """ops/s against threads, one line per allocator (FAILED points left
    out), log2 thread axis."""
    fig, ax = plt.subplots(figsize=(6, 4))
    drawn = False
    for a in summary.allocators:
        row = summary.scaling[w].get(a, {})
        pts = [(t, c.get("ops_per_s")) for t, c in sorted(row.items())
               if not c.failed and c.get("ops_per_s")]
        if not pts:
            continue
        ax.plot([t for t, _ in pts], [v for _, v in pts], marker="o",
                label=a)
        drawn = True
    if not drawn:
        plt.close(fig)
        return False
    ax.set_xscale("log", base=2)
    counts = sorted({t for row in summary.scaling[w].values() for t in row})
    ax.set_xticks(counts)
    ax.set_xticklabels([str(t) for t in counts])
    ax.set_ylim(bottom=0)
    return _finish(plt, fig, ax, "threads", "ops/s (higher is better)",
                   "%s: throughput against threads" % w, path)


def _latency(plt, row, w, path):
    """The latency distribution: for each allocator, the fraction of calls
    slower than x (log-log), malloc and free side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, kind in zip(axes, ("malloc", "free")):
        for a, v in row.items():
            if v == "FAILED":
                continue
            xs = sorted(v["samples"][kind])
            n = len(xs)
            # Thin the curve to ~400 points, always keeping the tail.
            step = max(1, n // 400)
            idx = list(range(0, n, step)) + list(range(max(0, n - 50), n))
            idx = sorted(set(idx))
            ax.plot([max(xs[i], 1) for i in idx],
                    [(n - i) / n for i in idx], label=a)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("%s latency (ns)" % kind)
        ax.set_title("%s: %s" % (w, kind))
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("fraction of calls slower")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _suite(plt, summary, suite, path):
    """One suite's summary: per allocator, the geometric means of its time
    and peak-RSS ratios over the suite's workloads (FAILED ones left out,
    and the count of them written on the bar)."""
    name, desc, ws, scores = suite
    allocs = [a for a in summary.allocators if a in scores]
    if not allocs:
        return False
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(allocs) + 2), 3.8))
    for i, (key, label) in enumerate((("wall_s", "time"),
                                      ("peak_rss_kib", "peak RSS"))):
        xs = [j - 0.2 + 0.4 * i for j in range(len(allocs))]
        ys = [scores[a][key] or 0 for a in allocs]
        ax.bar(xs, ys, 0.4, label=label)
        for x, a in zip(xs, allocs):
            if scores[a]["failed"]:
                ax.text(x, 1.0, "%d FAILED" % scores[a]["failed"],
                        rotation=90, ha="center", va="bottom", fontsize=6)
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xticks(range(len(allocs)))
    ax.set_xticklabels(allocs)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("geometric mean of × best")
    ax.set_title("%s (%d workloads): lower is better" % (name, len(ws)))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def make_all(summary, outdir):
    """Draw every plot into outdir; returns [(title, filename)]."""
    plt = _pyplot()
    made = []
    for suite in report.suite_scores(summary):
        fname = "summary-%s.png" % suite[0].replace(" ", "-")
        if _suite(plt, summary, suite, os.path.join(outdir, fname)):
            made.append(("summary: %s" % suite[0], fname))
    for w, row in report.latency_cells(summary).items():
        fname = "latency-%s.png" % w
        if _latency(plt, row, w, os.path.join(outdir, fname)):
            made.append(("%s: latency distribution" % w, fname))
    for w in summary.scaling:
        fname = "scaling-%s.png" % w
        if _scaling(plt, summary, w, os.path.join(outdir, fname)):
            made.append(("%s: throughput against threads" % w, fname))
    if _ratio_bars(plt, summary, "wall_s", "Time, ratio to the best "
                   "(lower is better)", "time ÷ best",
                   os.path.join(outdir, "time-ratio.png")):
        made.append(("time ratio per workload", "time-ratio.png"))
    if _ratio_bars(plt, summary, "peak_rss_kib", "Peak RSS, ratio to the "
                   "best (lower is better)", "peak RSS ÷ best",
                   os.path.join(outdir, "rss-ratio.png")):
        made.append(("peak RSS ratio per workload", "rss-ratio.png"))
    for w in RSS_OVER_TIME:
        fname = "rss-over-time-%s.png" % w
        if _rss_over_time(plt, summary, w, os.path.join(outdir, fname)):
            made.append(("%s: RSS over time" % w, fname))
    return made
