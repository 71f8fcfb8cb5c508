"""CSV and Markdown from a fake list of runs."""
import csv
import os
import tempfile
import unittest

import fakes  # noqa: F401
from runner import report
from runner.record import CSV_FIELDS, Run


def run(w, a, n, wall=None, rss=None, ops=None, status="ok", live=None):
    r = Run(w, a, n)
    if status != "ok":
        r.fail(status, "killed by SIGSEGV")
        return r
    r.wall_s = wall
    r.cpu_s = wall
    r.peak_rss_kib = rss
    r.minflt = 100
    if ops is not None:
        r.ops, r.seconds, r.ops_per_s = ops, 1.0, float(ops)
    r.live_bytes = live
    r.samples = [(0.0, 100), (0.05, rss)]
    return r


def fake_runs():
    runs = []
    for n in (1, 2, 3):
        runs += [
            run("larson", "glibc", n, wall=2.0 + n * 0.1, rss=4096, ops=1000,
                live=2 << 20),
            run("larson", "jemalloc", n, wall=1.0, rss=8192, ops=2000,
                live=2 << 20),
            run("larson", "sable", n, wall=0.5, rss=2048, ops=4000,
                live=2 << 20),
            run("gcc", "glibc", n, wall=4.0, rss=10240),
            run("gcc", "jemalloc", n, wall=2.0, rss=20480),
        ]
    # sable crashed once on gcc: the whole cell is FAILED.
    runs += [run("gcc", "sable", 1, wall=0.1, rss=1024),
             run("gcc", "sable", 2, status="crashed"),
             run("gcc", "sable", 3, wall=0.1, rss=1024)]
    return runs


META = {
    "date": "2030-01-02 03:04", "command": "bench/run -r 3",
    "mode": "default", "reps": 3, "threads": 2, "timeout": 300,
    "machine": {"cpu": "Fake CPU", "cores": 2, "memory": "1.0 GiB",
                "kernel": "6.0", "debian": "12.0", "glibc": "glibc 2.36",
                "thp": "madvise"},
    "allocators": [("glibc", None, "glibc 2.36"),
                   ("jemalloc", "/usr/lib/libjemalloc.so.2", "5.3.0"),
                   ("sable", "build/libsable.so", "git abc")],
    "skipped": [("redis", "redis-server not installed")],
    "args": {"larson": "--threads 2", "gcc": "-O1 -c, 2000 functions"},
    "notes": {},
}


class SummaryTest(unittest.TestCase):
    def setUp(self):
        self.s = report.Summary(fake_runs(), ["larson", "gcc", "redis"],
                                ["glibc", "jemalloc", "sable"])

    def test_workloads_without_runs_are_dropped(self):
        self.assertEqual(self.s.workloads, ["larson", "gcc"])

    def test_medians(self):
        c = self.s.cells["larson"]["glibc"]
        self.assertAlmostEqual(c.get("wall_s"), 2.2)
        self.assertEqual(c.get("ops_per_s"), 1000)

    def test_ratios_to_best(self):
        row = self.s.cells["larson"]
        self.assertAlmostEqual(row["sable"].ratios["wall_s"], 1.0)
        self.assertAlmostEqual(row["glibc"].ratios["wall_s"], 4.4)
        self.assertAlmostEqual(row["jemalloc"].ratios["ops_per_s"], 2.0)
        self.assertAlmostEqual(row["jemalloc"].ratios["peak_rss_kib"], 4.0)

    def test_failed_cell_has_no_numbers_and_is_not_best(self):
        row = self.s.cells["gcc"]
        self.assertTrue(row["sable"].failed)
        self.assertIsNone(row["sable"].get("wall_s"))
        self.assertIsNone(row["sable"].ratios["wall_s"])
        # jemalloc is the best of the allocators that did not fail.
        self.assertAlmostEqual(row["jemalloc"].ratios["wall_s"], 1.0)
        self.assertAlmostEqual(row["glibc"].ratios["wall_s"], 2.0)

    def test_geometric_means(self):
        g = self.s.geomeans
        self.assertAlmostEqual(g["glibc"]["wall_s"], (4.4 * 2.0) ** 0.5)
        self.assertAlmostEqual(g["jemalloc"]["wall_s"], 2.0 ** 0.5)
        # sable only counts larson, where it was best.
        self.assertAlmostEqual(g["sable"]["wall_s"], 1.0)
        self.assertEqual(g["sable"]["failed"], 1)
        self.assertEqual(g["sable"]["n"], 1)
        self.assertAlmostEqual(g["jemalloc"]["peak_rss_kib"],
                               (4.0 * 2.0) ** 0.5)


class MarkdownTest(unittest.TestCase):
    def setUp(self):
        self.s = report.Summary(fake_runs(), ["larson", "gcc"],
                                ["glibc", "jemalloc", "sable"])
        self.md = report.markdown(self.s, META, [("time", "time.png")])

    def table_row(self, workload, allocator):
        section = self.md.split("### %s" % workload, 1)[1]
        for line in section.splitlines():
            if line.startswith("| %s |" % allocator):
                return [c.strip() for c in line.strip("|").split("|")]
        self.fail("no row for %s in %s" % (allocator, workload))

    def test_failed_cell(self):
        row = self.table_row("gcc", "sable")
        self.assertEqual(row[1], "FAILED")
        self.assertNotIn("0.100", row)
        self.assertIn("FAILED: sable run 2: crashed", self.md)

    def test_ratios_in_table(self):
        row = self.table_row("larson", "glibc")
        self.assertEqual(row[1], "2.200")   # median time
        self.assertEqual(row[2], "9%")      # (2.3 - 2.1) / 2.2
        self.assertEqual(row[3], "4.40")    # × best
        row = self.table_row("gcc", "glibc")
        self.assertEqual(row[3], "2.00")

    def test_ops_column_only_where_known(self):
        larson = self.md.split("### larson")[1].split("###")[0]
        gcc = self.md.split("### gcc")[1]
        self.assertIn("ops/s", larson)
        self.assertNotIn("ops/s", gcc.split("\n\n")[1])

    def test_fragmentation_column(self):
        row = self.table_row("larson", "sable")
        # 2048 KiB peak RSS over 2 MiB live.
        self.assertIn("1.00", row)

    def test_machine_command_plots_and_skips(self):
        for text in ("Fake CPU", "glibc 2.36", "`bench/run -r 3`",
                     "![time](time.png)", "redis: redis-server not "
                     "installed", "2030-01-02 03:04"):
            self.assertIn(text, self.md)

    def test_geomean_table_counts_failures(self):
        self.assertIn("1 of 2, 1 FAILED", self.md)

    def test_img_prefix_and_header(self):
        md = report.markdown(self.s, META, [("time", "t.png")],
                             img_prefix="img/", header="# Generated")
        self.assertTrue(md.startswith("# Generated"))
        self.assertIn("](img/t.png)", md)


class CsvTest(unittest.TestCase):
    def test_results_and_rss_csv(self):
        runs = fake_runs()
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "results.csv")
            report.write_results_csv(p, runs)
            with open(p) as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), len(runs))
            self.assertEqual(list(rows[0].keys()), CSV_FIELDS)
            for col in ("workload", "allocator", "run", "wall_s", "cpu_s",
                        "ops_per_s", "peak_rss_kib", "minflt", "live_bytes",
                        "status"):
                self.assertIn(col, CSV_FIELDS)
            crashed = [r for r in rows if r["status"] == "crashed"]
            self.assertEqual(len(crashed), 1)
            self.assertEqual(crashed[0]["wall_s"], "")
            self.assertEqual(crashed[0]["detail"], "killed by SIGSEGV")
            first = rows[0]
            self.assertEqual(first["ops_per_s"], "1000.0")
            self.assertEqual(first["peak_rss_kib"], "4096")

            p = os.path.join(d, "rss.csv")
            report.write_rss_csv(p, runs)
            with open(p) as f:
                rows = list(csv.reader(f))
            self.assertEqual(rows[0], ["workload", "allocator", "run", "t_s",
                                       "rss_kib"])
            self.assertEqual(rows[1], ["larson", "glibc", "1", "0.000",
                                       "100"])


if __name__ == "__main__":
    unittest.main()


class ReadmeSectionTest(unittest.TestCase):
    def test_section_between_markers_is_replaced_and_the_rest_kept(self):
        from runner import report
        text = "intro\n%s\nold table\n%s\noutro\n" % (report.README_BEGIN,
                                                        report.README_END)
        new = report.replace_between(text, report.README_BEGIN,
                                     report.README_END, "new table")
        self.assertIn("new table", new)
        self.assertNotIn("old table", new)
        self.assertTrue(new.startswith("intro\n"))
        self.assertTrue(new.endswith("outro\n"))

    def test_missing_markers_raise(self):
        from runner import report
        with self.assertRaises(ValueError):
            report.replace_between("no markers", report.README_BEGIN,
                                   report.README_END, "x")


class LatencyTest(unittest.TestCase):
    def runs(self):
        out = []
        for n in (1, 2):
            a = run("latency", "glibc", n, wall=1.0, rss=1024)
            # 1..1000 ns split over the two runs: pooled, p99 is 990.
            a.latency = {"malloc": list(range(n, 1001, 2)),
                         "free": [10] * 999 + [10 ** 6]}
            b = run("latency", "sable", n, wall=1.0, rss=1024)
            b.latency = {"malloc": [20] * 500, "free": [30] * 500}
            out += [a, b]
        out.append(run("latency", "jemalloc", 1, status="crashed"))
        return out

    def test_percentiles_are_pooled_over_runs(self):
        s = report.Summary(self.runs(), ["latency"],
                           ["glibc", "jemalloc", "sable"])
        cells = report.latency_cells(s)["latency"]
        self.assertEqual(cells["glibc"]["malloc"],
                         {50: 500, 99: 990, 99.9: 999, 100: 1000})
        self.assertEqual(cells["glibc"]["free"][99.9], 10)
        self.assertEqual(cells["glibc"]["free"][100], 10 ** 6)
        self.assertEqual(cells["jemalloc"], "FAILED")
        md = "\n".join(report.latency_section(s))
        self.assertIn("| glibc | 500 | 990 | 999 | 1,000 | 10 | 10 | 10 | "
                      "1,000,000 | 1000 + 2000 |", md)
        self.assertIn("| jemalloc | FAILED |", md)

    def test_latency_csv(self):
        s = report.Summary(self.runs(), ["latency"],
                           ["glibc", "jemalloc", "sable"])
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "latency.csv")
            report.write_latency_csv(path, s)
            with open(path) as f:
                rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 2 * 2 * 4)
        self.assertIn({"workload": "latency", "allocator": "sable",
                       "call": "free", "percentile": "99.9", "ns": "30"},
                      rows)


class CostsTest(unittest.TestCase):
    def summary(self):
        runs = fake_runs()
        for r in runs:
            r.majflt = 2
            if r.ok:
                r.perf = {"dTLB-load-misses": 10, "iTLB-load-misses": 1,
                          "cycles": 1000, "instructions": 2500}
        return report.Summary(runs, ["larson", "gcc"],
                              ["glibc", "jemalloc", "sable"])

    def test_not_available_says_so_and_keeps_the_faults(self):
        md = "\n".join(report.costs_section(self.summary(), {
            "perf": (False, "perf stat counts no cycles")}))
        self.assertIn("not available on this machine: perf stat counts no "
                      "cycles.", md)
        self.assertIn("| allocator | minflt | majflt |", md)
        self.assertNotIn("dTLB", md.split("###")[1])
        self.assertIn("| glibc | 100 | 2 |", md)

    def test_counters_and_ipc(self):
        md = "\n".join(report.costs_section(self.summary(),
                                            {"perf": (True, None)}))
        self.assertIn("| glibc | 100 | 2 | 10 | 1 | 1,000 | 2,500 | 2.50 |",
                      md)
        self.assertIn("| sable | FAILED |", md)


class ABTest(unittest.TestCase):
    def summary(self, new_walls):
        runs = []
        for n, (o, w) in enumerate(zip([1.0, 1.02, 0.98, 1.01, 0.99, 1.0],
                                       new_walls), 1):
            runs += [run("larson", "old", n, wall=o, rss=1000),
                     run("larson", "new", n, wall=w, rss=1000)]
        return report.Summary(runs, ["larson"], ["old", "new"])

    def test_slower_build_is_significant(self):
        s = self.summary([1.5, 1.52, 1.48, 1.51, 1.49, 1.5])
        rows = report.ab_rows(s, "old", "new")
        (w, label, ci, verdict), rss = rows
        self.assertEqual((w, label, verdict), ("larson", "time",
                                               "new is slower"))
        self.assertAlmostEqual(ci[0], 1.5)
        self.assertGreater(ci[1], 1.0)
        # Equal RSS everywhere: the ratio is exactly 1.
        self.assertEqual(rss[3], "not significant")

    def test_noise_is_not_significant(self):
        s = self.summary([1.01, 0.99, 1.0, 1.02, 0.98, 1.0])
        self.assertEqual(report.ab_rows(s, "old", "new")[0][3],
                         "not significant")
        md = "\n".join(report.ab_section(s, {"ab": ("old", "new")}))
        self.assertIn("## A/B: new against old", md)
        self.assertIn("| larson | time | 1.000 |", md)
        self.assertEqual(report.ab_section(s, {"ab": None}), [])


class PhaseTest(unittest.TestCase):
    def test_balloon_phases_are_medians_in_mib(self):
        runs = []
        for n, kib in enumerate((1024, 3072, 2048), 1):
            r = run("balloon", "sable", n, wall=1.0, rss=4096)
            r.extra = {"rss_grow_kib": kib, "rss_shrink_kib": kib,
                       "rss_idle_kib": 512, "rss_regrow_kib": 4096}
            runs.append(r)
        runs.append(run("balloon", "glibc", 1, status="timeout"))
        s = report.Summary(runs, ["balloon"], ["glibc", "sable"])
        md = "\n".join(report.phase_section(s))
        self.assertIn("| allocator | grow | shrink | idle | regrow |", md)
        self.assertIn("| sable | 2.0 | 2.0 | 0.5 | 4.0 |", md)
        self.assertIn("| glibc | FAILED |", md)


class PickTest(unittest.TestCase):
    def test_picks_follow_the_numbers_and_skip_failures(self):
        s = report.Summary(fake_runs(), ["larson", "gcc"],
                           ["glibc", "jemalloc", "sable"])
        suites = {name: scores for name, _, _, scores in
                  report.suite_scores(s)}
        self.assertEqual(sorted(suites), ["multi-threaded", "real programs"])
        self.assertAlmostEqual(suites["multi-threaded"]["glibc"]["wall_s"],
                               2.2 / 0.5)
        self.assertEqual(suites["real programs"]["sable"]["failed"], 1)
        md = "\n".join(report.pick_section(s))
        # larson: sable is fastest and smallest.
        self.assertIn("| multi-threaded (1) | time | **sable** 1.00 | "
                      "jemalloc 2.00 |", md)
        self.assertIn("| multi-threaded (1) | peak RSS | **sable** 1.00 | "
                      "glibc 2.00 |", md)
        # gcc: sable FAILED, so jemalloc is picked although sable's ok runs
        # were faster.
        self.assertIn("| real programs (1) | time | **jemalloc** 1.00 | "
                      "glibc 2.00 |", md)
        self.assertIn("| real programs (1) | peak RSS | **glibc** 1.00 | "
                      "jemalloc 2.00 |", md)

    def test_first_screen_comes_before_the_machine(self):
        s = report.Summary(fake_runs(), ["larson", "gcc"],
                           ["glibc", "jemalloc", "sable"])
        md = report.markdown(s, META)
        self.assertLess(md.index("## Which allocator"), md.index("## Machine"))


class ScalingTest(unittest.TestCase):
    def test_failed_point_and_main_count(self):
        runs = []
        for t, ops in ((1, 100), (2, 180), (4, 200)):
            for a in ("glibc", "sable"):
                r = run("larson", a, 1, wall=1.0, rss=1024, ops=ops)
                if a == "sable" and t == 4:
                    r = run("larson", a, 1, status="timeout")
                r.threads_asked = t
                runs.append(r)
        s = report.Summary(runs, ["larson"], ["glibc", "sable"], 2)
        md = "\n".join(report.scaling_table(s, "larson"))
        self.assertIn("| glibc | 100 | 180 | 200 | 2.00 |", md)
        self.assertIn("| sable | 100 | 180 | FAILED | — |", md)
        # The main tables hold the runs at 2 threads only.
        self.assertEqual([len(c.runs) for c in s.cells["larson"].values()],
                         [1, 1])
        self.assertEqual(s.cells["larson"]["glibc"].get("ops_per_s"), 180)
        meta = dict(META, sweep=[1, 2, 4])
        self.assertIn("which has each of 1, 2, 4", report.markdown(s, meta))
