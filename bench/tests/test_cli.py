"""The runner end to end on fake workloads: results directory, CSVs,
report, exit status, smoke mode, --publish."""
import csv
import os
import re
import tempfile
import unittest
from unittest import mock

import fakes
from runner import cli, plots, suite
from runner.allocators import Allocator
from runner.record import Run


def main(args):
    with mock.patch("sys.stderr"):
        return cli.main(args)


class EndToEndTest(unittest.TestCase):
    def setUp(self):
        self.build = fakes.make_build()
        self.out = tempfile.TemporaryDirectory()
        self.addCleanup(self.out.cleanup)

    def read_results(self):
        with open(os.path.join(self.out.name, "results.csv")) as f:
            return list(csv.DictReader(f))

    def test_failures_are_reported_not_timed(self):
        rc = main(["--build", self.build, "--allocators", "glibc",
                   "--workloads", "ok,crash,fail,nojson", "-r", "2",
                   "--out", self.out.name, "--no-plots"])
        self.assertEqual(rc, 1)
        rows = self.read_results()
        self.assertEqual(len(rows), 8)
        status = {r["workload"]: r["status"] for r in rows}
        self.assertEqual(status, {"ok": "ok", "crash": "crashed",
                                  "fail": "failed", "nojson": "wrong"})
        for r in rows:
            self.assertEqual(r["wall_s"] == "", r["status"] != "ok")
        with open(os.path.join(self.out.name, "report.md")) as f:
            md = f.read()
        self.assertIn("| glibc | FAILED |", md)
        self.assertIn("killed by SIGSEGV", md)
        self.assertTrue(os.path.exists(os.path.join(self.out.name,
                                                    "rss.csv")))

    def test_timed_out_workload_is_not_run_again(self):
        rc = main(["--build", self.build, "--allocators", "glibc",
                   "--workloads", "sleep,ok", "-r", "3", "--timeout", "0.3",
                   "--out", self.out.name, "--no-plots"])
        self.assertEqual(rc, 1)
        rows = self.read_results()
        self.assertEqual([(r["workload"], r["status"]) for r in rows],
                         [("sleep", "timeout"), ("ok", "ok"), ("ok", "ok"),
                          ("ok", "ok")])

    def test_rotation_and_alternation(self):
        steps = suite.plan(["w1", "w2"], ["a", "b", "c"], 2)
        self.assertEqual(len(steps), 12)
        self.assertEqual([a for _, w, a, _ in steps[:3]], ["a", "b", "c"])
        self.assertEqual([a for _, w, a, _ in steps[3:6]], ["b", "c", "a"])
        self.assertEqual([r for r, _, _, _ in steps], [1] * 6 + [2] * 6)
        firsts = {steps[i][2] for i in (0, 3, 6, 9)}
        self.assertEqual(firsts, {"a", "b", "c"})

    @unittest.skipUnless(plots.available(), "matplotlib not installed")
    def test_plots_are_written(self):
        rc = main(["--build", self.build, "--allocators", "glibc",
                   "--workloads", "ok,mem", "--out", self.out.name, "-r",
                   "1"])
        self.assertEqual(rc, 0)
        for f in ("time-ratio.png", "rss-ratio.png"):
            path = os.path.join(self.out.name, f)
            with open(path, "rb") as fh:
                self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")

    @unittest.skipUnless(plots.available(), "matplotlib not installed")
    def test_scaling_plot_is_written(self):
        rc = main(["--build", self.build, "--allocators", "glibc",
                   "--workloads", "threads", "--threads", "1,2",
                   "--out", self.out.name, "-r", "1"])
        self.assertEqual(rc, 0)
        with open(os.path.join(self.out.name, "scaling-threads.png"),
                  "rb") as fh:
            self.assertEqual(fh.read(8), b"\x89PNG\r\n\x1a\n")

    def test_missing_matplotlib_only_warns(self):
        with mock.patch.object(plots, "available", return_value=False):
            rc = main(["--build", self.build, "--allocators", "glibc",
                       "--workloads", "ok", "--out", self.out.name])
        self.assertEqual(rc, 0)
        self.assertTrue(os.path.exists(os.path.join(self.out.name,
                                                    "report.md")))
        self.assertFalse(os.path.exists(os.path.join(self.out.name,
                                                     "time-ratio.png")))

    def test_missing_allocator_is_skipped_and_reported(self):
        rc = main(["--build", self.build, "--allocators", "glibc,sable",
                   "--workloads", "ok", "--out", self.out.name,
                   "--no-plots"])
        self.assertEqual(rc, 0)
        with open(os.path.join(self.out.name, "report.md")) as f:
            md = f.read()
        self.assertIn("allocator sable: library not found", md)
        self.assertEqual({r["allocator"] for r in self.read_results()},
                         {"glibc"})

    def test_extra_lib(self):
        lib = os.path.join(self.build, "libfake.so")
        open(lib, "w").close()
        rc = main(["--build", self.build, "--allocators", "fake",
                   "--lib", "fake=" + lib, "--workloads", "env",
                   "--out", self.out.name, "--no-plots"])
        self.assertEqual(rc, 0)
        self.assertEqual(self.read_results()[0]["checksum"], lib)

    def test_discovery_ignores_directories_and_plain_files(self):
        from runner import workloads
        bench = os.path.join(self.build, "bench")
        os.mkdir(os.path.join(bench, "wl-ok.p"))
        open(os.path.join(bench, "wl-notes.txt"), "w").close()
        names = [w.name for w in workloads.discover(self.build)]
        self.assertIn("ok", names)
        self.assertNotIn("ok.p", names)
        self.assertNotIn("notes.txt", names)
        # The agreed workloads come first, then others, then programs.
        self.assertEqual(names[:2], ["larson", "prodcons"])
        self.assertEqual(names[-4:], ["python3", "sqlite3", "gcc", "redis"])

    def test_extra_args_are_passed_and_checked(self):
        rc = main(["--build", self.build, "--allocators", "glibc",
                   "--workloads", "threads", "--args",
                   "threads=--threads 7", "--out", self.out.name,
                   "--no-plots"])
        self.assertEqual(rc, 0)
        self.assertEqual(self.read_results()[0]["threads"], "7")
        self.assertEqual(main(["--build", self.build, "--workloads", "ok",
                               "--args", "nosuch=--x", "--out",
                               self.out.name]), 2)

    def test_thread_sweep_runs_every_count(self):
        rc = main(["--build", self.build, "--allocators", "glibc,fake",
                   "--lib", "fake=" + self.fake_lib(), "--workloads",
                   "threads,ok", "--threads", "4,1,2", "-r", "1", "--out",
                   self.out.name, "--no-plots"])
        self.assertEqual(rc, 0)
        rows = self.read_results()
        sweep = sorted((r["allocator"], r["threads"]) for r in rows
                       if r["workload"] == "threads")
        self.assertEqual(sweep, [(a, t) for a in ("fake", "glibc")
                                 for t in ("1", "2", "4")])
        # The unthreaded workload runs once per allocator, not per count.
        self.assertEqual(len([r for r in rows if r["workload"] == "ok"]), 2)
        with open(os.path.join(self.out.name, "report.md")) as f:
            md = f.read()
        self.assertIn("## Scaling", md)
        self.assertIn("| allocator | 1 thr | 2 thr | 4 thr | 4 ÷ 1 |", md)
        # The fake reports 10 ops in 1 s at every count: no speed-up.
        self.assertIn("| glibc | 10 | 10 | 10 | 1.00 |", md)

    def fake_lib(self):
        lib = os.path.join(self.build, "libfake.so")
        open(lib, "w").close()
        return lib

    def test_thread_plan(self):
        self.assertEqual(cli.thread_plan(None, False, 2), (2, None))
        self.assertEqual(cli.thread_plan(None, False, 1), (2, None))
        self.assertEqual(cli.thread_plan(None, True, 2), (2, [1, 2, 4]))
        self.assertEqual(cli.thread_plan(None, True, 3), (3, [1, 2, 3, 4, 6]))
        self.assertEqual(cli.thread_plan(None, True, 1), (2, [1, 2]))
        self.assertEqual(cli.thread_plan([7], True, 2), (7, None))
        self.assertEqual(cli.thread_plan([1, 8], False, 4), (1, [1, 8]))
        self.assertEqual(cli.thread_plan([1, 2, 4], False, 4), (4,
                                                               [1, 2, 4]))
        self.assertEqual(cli.thread_list("4,1,2,2"), [1, 2, 4])
        for bad in ("0", "x", "", "2,-1"):
            with self.assertRaises(Exception):
                cli.thread_list(bad)

    def test_report_names_no_repository_paths(self):
        with mock.patch.object(cli, "REPO_ROOT", os.path.dirname(
                self.build)):
            rc = main(["--build", self.build, "--allocators", "glibc,sable",
                       "--workloads", "ok,crash", "--out", self.out.name,
                       "--no-plots"])
        self.assertEqual(rc, 1)
        with open(os.path.join(self.out.name, "report.md")) as f:
            md = f.read()
        self.assertIn("library not found", md)
        self.assertNotIn(os.path.dirname(self.build) + os.sep, md)

    def test_unknown_workload_is_an_error(self):
        self.assertEqual(main(["--build", self.build, "--workloads",
                               "nosuch", "--out", self.out.name]), 2)

    def test_smoke_fails_on_failed_run_and_writes_nothing(self):
        with mock.patch.object(cli, "BENCH_DIR", self.out.name):
            rc = main(["--build", self.build, "--smoke", "--allocators",
                       "glibc", "--workloads", "ok,crash"])
            self.assertEqual(rc, 1)
            rc = main(["--build", self.build, "--smoke", "--allocators",
                       "glibc", "--workloads", "ok"])
            self.assertEqual(rc, 0)
        self.assertEqual(os.listdir(self.out.name), [])

    def test_smoke_fails_when_an_allocator_is_missing(self):
        rc = main(["--build", self.build, "--smoke", "--allocators",
                   "glibc,sable", "--workloads", "ok"])
        self.assertEqual(rc, 1)

    def test_default_results_dir_and_latest_link(self):
        with mock.patch.object(cli, "BENCH_DIR", self.out.name):
            rc = main(["--build", self.build, "--allocators", "glibc",
                       "--workloads", "ok", "--no-plots"])
        self.assertEqual(rc, 0)
        results = os.path.join(self.out.name, "results")
        latest = os.path.join(results, "latest")
        self.assertTrue(os.path.islink(latest))
        target = os.readlink(latest)
        self.assertRegex(target, r"^\d{4}-\d\d-\d\d-\d{4}-")
        self.assertTrue(os.path.exists(os.path.join(latest, "report.md")))

    def test_publish_writes_docs_with_relative_images(self):
        root = tempfile.TemporaryDirectory()
        self.addCleanup(root.cleanup)
        with mock.patch.object(cli, "REPO_ROOT", root.name):
            rc = main(["--build", self.build, "--allocators", "glibc",
                       "--workloads", "ok,mem", "--out", self.out.name,
                       "--publish"])
        self.assertEqual(rc, 0)
        with open(os.path.join(root.name, "docs", "benchmarks.md")) as f:
            md = f.read()
        self.assertIn("generated by `bench/run`", md)
        self.assertIn("Do not edit", md)
        if plots.available():
            self.assertIn("](img/benchmarks-time-ratio.png)", md)
            self.assertTrue(os.path.exists(os.path.join(
                root.name, "docs", "img", "benchmarks-time-ratio.png")))
        self.assertNotIn(self.build, md)


class WorkloadListTest(unittest.TestCase):
    """The runner's list of C workloads (SYNTHETIC) names exactly what
    bench/meson.build builds as wl-<name>, each from a source that exists."""

    def meson_workloads(self):
        bench = os.path.dirname(fakes.HERE)
        with open(os.path.join(bench, "meson.build")) as f:
            text = f.read()
        names = {}
        for table in ("bench_workloads", "bench_variants"):
            m = re.search(r"^%s = \{\n(.*?)^\}" % table, text,
                          re.M | re.S)
            self.assertIsNotNone(m, "%s not found in meson.build" % table)
            for name, value in re.findall(r"^\s*'([^']+)' : (.*)$",
                                          m.group(1), re.M):
                src = re.match(r"\['([^']+)'", value)
                names[name] = src.group(1) if table == "bench_variants" \
                    else name
        return bench, names

    def test_runner_and_meson_agree(self):
        from runner import workloads
        bench, names = self.meson_workloads()
        self.assertEqual(sorted(names), sorted(workloads.SYNTHETIC))
        for name, src in names.items():
            self.assertTrue(os.path.exists(os.path.join(
                bench, "workloads", src + ".c")), name)

    def test_readme_lists_every_workload(self):
        from runner import workloads
        bench = os.path.dirname(fakes.HERE)
        with open(os.path.join(bench, "README.md")) as f:
            text = f.read()
        listed = text.split("## Workloads", 1)[1].split("Their contract", 1)[0]
        for name in workloads.SYNTHETIC:
            self.assertRegex(listed, r"\b%s\b" % re.escape(name))


class ChecksumTest(unittest.TestCase):
    def run_(self, alloc, checksum, n=1):
        r = Run("w", alloc, n)
        r.checksum = checksum
        return r

    def test_checksum_differing_from_glibc_is_wrong(self):
        runs = [self.run_("glibc", "aa"), self.run_("glibc", "aa", 2),
                self.run_("sable", "aa"), self.run_("sable", "bb", 2)]
        notes = suite.check_checksums(runs)
        self.assertEqual([r.status for r in runs],
                         ["ok", "ok", "ok", "wrong"])
        self.assertEqual(notes, {})

    def test_nondeterministic_checksum_is_not_compared(self):
        runs = [self.run_("glibc", "aa"), self.run_("glibc", "cc", 2),
                self.run_("sable", "bb")]
        notes = suite.check_checksums(runs)
        self.assertTrue(all(r.ok for r in runs))
        self.assertIn("w", notes)


class ReferenceTest(unittest.TestCase):
    def test_program_output_differing_from_reference_is_wrong(self):
        from runner.workloads import Workload

        class Echo(Workload):
            needs_reference = True

            def __init__(self):
                super().__init__("echo")
                self.outputs = {"glibc": "42", "bad": "41", "good": "42"}

            def run(self, alloc, ctx, run_no):
                r = Run(self.name, alloc.name, run_no)
                r.output = self.outputs[alloc.name]
                self.compare(r)
                return r

        w = Echo()
        self.assertEqual(suite.make_references([w], None, lambda s: None),
                         [])
        self.assertEqual(w.reference, "42")
        self.assertEqual(w.run(Allocator("bad", "x"), None, 1).status,
                         "wrong")
        self.assertTrue(w.run(Allocator("good", "x"), None, 1).ok)


if __name__ == "__main__":
    unittest.main()
