"""The real-program workloads at their smoke sizes, under glibc only (each
is skipped where the program is not installed), and their parsers."""
import shutil
import tempfile
import unittest

import fakes  # noqa: F401
from runner import suite, workloads
from runner.allocators import Allocator

GLIBC = Allocator("glibc")


class ProgramTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.ctx = workloads.Context(mode="smoke", timeout=60,
                                     workdir=self.tmp.name)

    def check(self, w):
        why = w.unavailable()
        if why:
            self.skipTest(why)
        w.prepare(self.ctx)
        self.assertEqual(suite.make_references([w], self.ctx,
                                               lambda s: None), [])
        self.assertIsNotNone(w.reference)
        r = w.run(GLIBC, self.ctx, 1)
        self.assertEqual(r.status, "ok", r.detail)
        self.assertGreater(r.peak_rss_kib, 0)
        self.assertGreater(r.wall_s, 0)
        # A different expected output makes the same run wrong.
        w.reference = "something else"
        r = w.run(GLIBC, self.ctx, 2)
        self.assertEqual(r.status, "wrong")
        self.assertIn("differs from glibc", r.detail)
        return r

    def test_python3(self):
        self.check(workloads.Python("python3"))

    def test_sqlite3(self):
        self.check(workloads.Sqlite("sqlite3"))

    def test_gcc(self):
        self.check(workloads.Gcc("gcc"))

    def test_redis(self):
        w = workloads.Redis("redis")
        r = self.check(w)
        self.assertEqual(r.ops, 4 * workloads.PROGRAM_SIZES["redis"]["smoke"])
        self.assertGreater(r.ops_per_s, 0)
        self.assertEqual(sorted(r.extra), ["rps_get", "rps_lpop",
                                           "rps_lpush", "rps_set"])

    def program(self, name):
        return next(w for w in workloads.discover("/nonexistent", [name]))

    def test_perl(self):
        self.check(self.program("perl"))

    def test_lua(self):
        self.check(self.program("lua"))

    def test_git(self):
        w = self.program("git")
        r = self.check(w)
        self.assertGreater(r.peak_rss_kib, 0)

    def test_broken_interpreter_script_fails(self):
        w = workloads.Interpreter("perl", ["perl"], "die 'broken'")
        if w.unavailable():
            self.skipTest(w.unavailable())
        w.prepare(self.ctx)
        r = w.run(GLIBC, self.ctx, 1)
        self.assertEqual(r.status, "failed")
        self.assertIn("broken", r.detail)

    def test_redis_frag(self):
        w = workloads.RedisFrag("redis-frag")
        r = self.check(w)
        n = workloads.PROGRAM_SIZES["redis-frag"]["smoke"][0]
        left = n - n * 85 // 100
        self.assertTrue(r.output.startswith("keys=%d,%d,%d,%d " % (
            n, left, left, left + n * 85 // 100 // 2)), r.output)
        for stage in workloads.RedisFrag.STAGES:
            # RSS includes the server's code and buffers: above used_memory.
            self.assertGreater(r.extra["frag_" + stage], 1.0)
            self.assertGreater(r.extra["used_%s_kib" % stage], 0)
        # Deleting 85 % of the keys lowers used_memory.
        self.assertLess(r.extra["used_delete_kib"],
                        r.extra["used_fill_kib"] / 2)


class ParserTest(unittest.TestCase):
    def test_redis_benchmark_csv(self):
        out = (b'"test","rps","avg_latency_ms"\n'
               b'"SET","1000.00","0.5"\n"GET","2000.50","0.4"\n'
               b'"LPUSH (needed to benchmark LPOP)","500","1"\n')
        self.assertEqual(workloads.parse_benchmark_csv(out),
                         {"SET": 1000.0, "GET": 2000.5, "LPUSH": 500.0})

    def test_last_json_line(self):
        self.assertEqual(workloads.last_json_line(b'x\n{"a":1}\n\n'),
                         {"a": 1})
        self.assertIsNone(workloads.last_json_line(b'{"a":1}\nbye\n'))
        self.assertIsNone(workloads.last_json_line(b'[1,2]\n'))
        self.assertIsNone(workloads.last_json_line(b''))

    @unittest.skipUnless(shutil.which("ldd"), "ldd missing")
    def test_linked_allocator(self):
        self.assertIsNone(workloads.linked_allocator("/bin/sh"))


if __name__ == "__main__":
    unittest.main()
