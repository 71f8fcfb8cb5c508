"""Tests of bench/icount: the N/2N arithmetic, callgrind parsing, the loop
subtraction, the Markdown tables and the marker rewriting. No valgrind
needed."""
import contextlib
import importlib.machinery
import io
import importlib.util
import os
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(HERE), "icount")


def load_icount():
    loader = importlib.machinery.SourceFileLoader("icount", SCRIPT)
    spec = importlib.util.spec_from_loader("icount", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


icount = load_icount()


def profile_text(n, malloc_cost=18, free_cost=53, loop_cost=12, startup=1000000,
                 compressed=False):
    """A callgrind output for `n` iterations of a malloc/free loop, laid out
    the way callgrind 3.19 writes it."""
    fn_loop = "(1) loop_malloc_free" if compressed else "loop_malloc_free"
    cfn_malloc = "(2) malloc" if compressed else "malloc"
    cfn_free = "(3) free" if compressed else "free"
    total = startup + n * (malloc_cost + free_cost + loop_cost)
    return f"""# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 1
cmd:  micro-count malloc_free {n}
part: 1

positions: line
events: Ir
summary: {total}

ob=/lib/ld.so
fn=_dl_start
0 {startup}

ob=libsable.so
fn={"(2) malloc" if compressed else "malloc"}
0 {n * malloc_cost}

fn={"(3) free" if compressed else "free"}
0 {n * free_cost}

ob=micro-count
fn={fn_loop}
0 {n * loop_cost - 5}
cob=libsable.so
cfn={cfn_malloc}
calls={n} 0
0 {n * malloc_cost}
0 5
cob=libsable.so
cfn={"(3)" if compressed else cfn_free}
calls={n} 0
0 {n * free_cost}

totals: {total}
"""


class PerOpTest(unittest.TestCase):
    def test_difference_over_n(self):
        self.assertEqual(icount.per_op(1000 + 83 * 100, 1000 + 83 * 200, 100), 83.0)

    def test_pairs_per_iteration_divide(self):
        # batch: 1000 pairs per iteration
        self.assertAlmostEqual(icount.per_op(5_000, 5_000 + 40 * 1000 * 10, 10, 1000), 40.0)

    def test_startup_cancels(self):
        a = icount.per_op(7 + 50 * 10, 7 + 50 * 20, 10)
        b = icount.per_op(10 ** 9 + 50 * 10, 10 ** 9 + 50 * 20, 10)
        self.assertEqual(a, b)

    def test_fractional_result(self):
        self.assertAlmostEqual(icount.per_op(100, 100 + 795, 10), 79.5)

    def test_bad_iters(self):
        with self.assertRaises(ValueError):
            icount.per_op(1, 2, 0)
        with self.assertRaises(ValueError):
            icount.per_op(1, 2, 5, 0)

    def test_scaling_ratio(self):
        self.assertAlmostEqual(icount.scaling(1.0, 1.0), 2.0)
        self.assertAlmostEqual(icount.scaling(1.0, 2.0), 1.0)


class ParseCallgrindTest(unittest.TestCase):
    def test_totals_and_self_costs(self):
        p = icount.parse_callgrind(profile_text(1000))
        self.assertEqual(p.total, 1_000_000 + 83 * 1000)
        self.assertEqual(p.self_cost["malloc"], 18_000)
        self.assertEqual(p.self_cost["free"], 53_000)
        # the lines after calls= are inclusive call costs, not self cost
        self.assertEqual(p.self_cost["loop_malloc_free"], 12_000)
        self.assertEqual(p.call_cost[("loop_malloc_free", "free")], 53_000)

    def test_compressed_names(self):
        p = icount.parse_callgrind(profile_text(1000, compressed=True))
        self.assertEqual(p.self_cost["loop_malloc_free"], 12_000)
        self.assertEqual(p.self_cost["free"], 53_000)
        self.assertEqual(p.call_cost[("loop_malloc_free", "free")], 53_000)

    def test_total_without_totals_line_is_sum(self):
        text = "events: Ir\nfn=a\n0 10\n0 5\nfn=b\n3 7\n"
        self.assertEqual(icount.parse_callgrind(text).total, 22)

    def test_summary_used_when_no_totals(self):
        text = "events: Ir\nsummary: 99\nfn=a\n0 10\n"
        self.assertEqual(icount.parse_callgrind(text).total, 99)

    def test_harness_adds_sched_yield_calls(self):
        text = ("events: Ir\nfn=xfreer\n0 100\ncfn=sched_yield\ncalls=3 0\n0 60\n"
                "cfn=free\ncalls=10 0\n0 500\nfn=sched_yield\n0 60\nfn=free\n0 500\n")
        p = icount.parse_callgrind(text)
        self.assertEqual(p.harness(("loop_cross_thread", "xfreer")), 160)


class MeasureTest(unittest.TestCase):
    def test_raw_loop_and_net(self):
        pat = icount.PATTERN_BY_NAME["malloc_free"]._replace(iters=1000)
        a = icount.parse_callgrind(profile_text(1000))
        b = icount.parse_callgrind(profile_text(2000))
        raw, loop, net = icount.measure_from_profiles(pat, a, b)
        self.assertEqual(raw, 83.0)
        self.assertEqual(loop, 12.0)
        self.assertEqual(net, 71.0)

    def test_missing_loop_symbol_leaves_raw_only(self):
        pat = icount.PATTERN_BY_NAME["malloc_free"]._replace(iters=10)
        a = icount.parse_callgrind("events: Ir\nfn=x\n0 100\ntotals: 100\n")
        b = icount.parse_callgrind("events: Ir\nfn=x\n0 300\ntotals: 300\n")
        self.assertEqual(icount.measure_from_profiles(pat, a, b), (20.0, None, None))

    def test_function_split(self):
        a = icount.parse_callgrind(profile_text(1000))
        b = icount.parse_callgrind(profile_text(2000))
        rows = icount.function_split(a, b, 1000, exclude=("loop_malloc_free",))
        self.assertEqual(rows, [("free", 53.0), ("malloc", 18.0)])


class MarkdownTest(unittest.TestCase):
    def test_table_layout(self):
        t = icount.markdown_table(["a", "b"], [["x", "1.0"]])
        self.assertEqual(t, "| a | b |\n| --- | ---: |\n| x | 1.0 |")

    def test_count_table_cells(self):
        pats = [icount.PATTERN_BY_NAME["malloc_free"], icount.PATTERN_BY_NAME["large"],
                icount.PATTERN_BY_NAME["realloc_growth"]]
        results = {
            ("malloc_free", "glibc"): {"raw": 141.0, "loop": 12.0, "net": 129.0},
            ("malloc_free", "sable"): {"raw": 83.0, "loop": 12.0, "net": 71.0},
            ("large", "glibc"): {"error": "boom"},
            ("realloc_growth", "sable"): {"raw": 50.0, "loop": None, "net": None},
        }
        net = icount.count_table(results, pats, ["glibc", "sable"], "net").splitlines()
        self.assertEqual(net[0], "| pattern | glibc | sable | target |")
        self.assertEqual(net[2], "| `malloc_free` | 129.0 | 71.0 | ≤ 45 |")
        self.assertEqual(net[3], "| `large` | failed | — | — |")
        # no loop figure: the raw figure stands in
        self.assertEqual(net[4], "| `realloc_growth` (per realloc) | — | 50.0 | — |")
        raw = icount.count_table(results, pats, ["glibc", "sable"], "raw").splitlines()
        self.assertEqual(raw[0], "| pattern | glibc | sable | loop |")
        self.assertEqual(raw[2], "| `malloc_free` | 141.0 | 83.0 | 12.0 |")

    def test_fmt(self):
        self.assertEqual(icount.fmt(None), "—")
        self.assertEqual(icount.fmt(79.46), "79.5")
        self.assertEqual(icount.fmt("x"), "x")


class MarkersTest(unittest.TestCase):
    B, E = icount.BEGIN, icount.END

    def test_replaces_only_between_markers(self):
        text = f"intro\n{self.B}\nold\nlines\n{self.E}\noutro\n"
        new = icount.replace_between(text, self.B, self.E, "new table\n")
        self.assertEqual(new, f"intro\n{self.B}\nnew table\n{self.E}\noutro\n")

    def test_idempotent(self):
        text = f"a\n{self.B}\nx\n{self.E}\nb\n"
        once = icount.replace_between(text, self.B, self.E, "body")
        self.assertEqual(icount.replace_between(once, self.B, self.E, "body"), once)

    def test_markers_on_one_line(self):
        text = f"a {self.B}{self.E} b"
        self.assertEqual(icount.replace_between(text, self.B, self.E, "t"),
                         f"a {self.B}\nt\n{self.E} b")

    def test_missing_marker(self):
        with self.assertRaises(ValueError):
            icount.replace_between(f"{self.B}\nno end\n", self.B, self.E, "x")
        with self.assertRaises(ValueError):
            icount.replace_between("nothing", self.B, self.E, "x")

    def test_reversed_markers(self):
        with self.assertRaises(ValueError):
            icount.replace_between(f"{self.E}\n{self.B}\n", self.B, self.E, "x")

    def test_duplicate_marker(self):
        with self.assertRaises(ValueError):
            icount.replace_between(f"{self.B}\n{self.E}\n{self.B}\n{self.E}\n", self.B, self.E, "x")

    def test_native_section_left_alone(self):
        nb, ne = icount.NATIVE_BEGIN, icount.NATIVE_END
        text = f"{self.B}\nold\n{self.E}\n{nb}\nnative\n{ne}\n"
        new = icount.replace_between(text, self.B, self.E, "counts")
        self.assertIn(f"{nb}\nnative\n{ne}", new)
        self.assertIn("counts", new)

    def test_publish_rewrites_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "performance.md")
            with open(path, "w", encoding="utf-8") as f:
                f.write(f"# t\n{self.B}\n(not measured yet)\n{self.E}\nend\n")
            icount.publish(path, self.B, self.E, "| a |")
            with open(path, encoding="utf-8") as f:
                self.assertEqual(f.read(), f"# t\n{self.B}\n| a |\n{self.E}\nend\n")


class GbenchTest(unittest.TestCase):
    def test_medians_from_items_per_second(self):
        doc = {"benchmarks": [
            {"name": "BM_malloc_free/64_mean", "run_name": "BM_malloc_free/64",
             "aggregate_name": "mean", "items_per_second": 1e8},
            {"name": "BM_malloc_free/64_median", "run_name": "BM_malloc_free/64",
             "aggregate_name": "median", "items_per_second": 2e8},
            {"name": "BM_cross_thread/64/real_time_median",
             "aggregate_name": "median", "items_per_second": 1e7},
        ]}
        self.assertEqual(icount.gbench_medians(doc),
                         {"BM_malloc_free/64": 5.0, "BM_cross_thread/64/real_time": 100.0})


class CommandLineTest(unittest.TestCase):
    def test_command_is_quoted(self):
        self.assertEqual(icount.command_line(["--publish", "--patterns", "a b"]),
                         "bench/icount --publish --patterns 'a b'")

    def test_unknown_pattern_rejected(self):
        err = io.StringIO()
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(err):
            icount.parse_args(["--patterns", "nope"])
        self.assertIn("unknown pattern nope", err.getvalue())

    def test_defaults(self):
        a = icount.parse_args([])
        self.assertEqual(a.build, "build")
        self.assertEqual(a.allocators, ["glibc", "jemalloc", "tcmalloc", "mimalloc", "sable"])
        self.assertIn("malloc_free_keep", a.patterns)


if __name__ == "__main__":
    unittest.main()
