"""perf stat counters: parsing perf's CSV, probing whether the PMU can be
read, and a run under a fake perf whose counts reach the run's record."""
import os
import stat
import subprocess
import tempfile
import unittest
import unittest.mock

import fakes
from runner import execute, perf
from runner.allocators import Allocator
from runner.workloads import Context, Synthetic

# What perf stat -x, prints on a machine without a PMU, and with one.
UNSUPPORTED = """
<not supported>,,dTLB-load-misses,0,100.00,,
<not supported>,,iTLB-load-misses,0,100.00,,
<not supported>,,cycles,0,100.00,,
<not supported>,,instructions,0,100.00,,
"""
COUNTED = """# started on Wed Dec  2 05:00:00 2026

1234,,dTLB-load-misses:u,1000,100.00,,
56,,iTLB-load-misses,1000,100.00,,
900000,,cycles,1000,100.00,,
1800000,,instructions,1000,100.00,2.00,insn per cycle
"""

# A stand-in for perf: writes COUNTED to the -o file, then runs the command
# after "--".
FAKE_PERF = """#!/bin/sh
out=
while [ $# -gt 0 ]; do
  case "$1" in -o) out=$2; shift;; --) shift; break;; esac
  shift
done
cat > "$out" <<'END'
%s
END
exec "$@"
""" % COUNTED


class Done:
    def __init__(self, rc, stderr):
        self.returncode = rc
        self.stderr = stderr.encode()


class ParseTest(unittest.TestCase):
    def test_counted(self):
        self.assertEqual(perf.parse_stat(COUNTED),
                         {"dTLB-load-misses": 1234, "iTLB-load-misses": 56,
                          "cycles": 900000, "instructions": 1800000})

    def test_not_supported_is_none(self):
        self.assertEqual(set(perf.parse_stat(UNSUPPORTED).values()), {None})

    def test_missing_events_are_none(self):
        got = perf.parse_stat("77,,cycles,1,100.00,,\n")
        self.assertEqual(got["cycles"], 77)
        self.assertIsNone(got["instructions"])


class ProbeTest(unittest.TestCase):
    def test_no_pmu_is_unavailable_with_the_reason(self):
        c = perf.probe("/usr/bin/perf", run=lambda *a, **k: Done(
            0, UNSUPPORTED))
        self.assertFalse(c.available)
        self.assertIn("cannot be read on this machine", c.why)
        self.assertIn("cycles", c.why)

    def test_failing_perf(self):
        c = perf.probe("/usr/bin/perf", run=lambda *a, **k: Done(
            255, "Error:\nAccess to performance monitoring is limited\n"))
        self.assertFalse(c.available)
        self.assertIn("exit status 255", c.why)
        self.assertIn("limited", c.why)

    def test_not_installed(self):
        with unittest.mock.patch("shutil.which", return_value=None):
            c = perf.probe()
        self.assertFalse(c.available)
        self.assertIn("linux-perf", c.why)

    def test_counting_machine(self):
        c = perf.probe("/usr/bin/perf", run=lambda *a, **k: Done(0, COUNTED))
        self.assertTrue(c.available)
        self.assertIsNone(c.why)

    def test_this_machine_answers_one_way_or_the_other(self):
        c = perf.probe()
        self.assertEqual(c.available, c.why is None)


class RunUnderPerfTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        path = os.path.join(self.tmp.name, "perf")
        with open(path, "w") as f:
            f.write(FAKE_PERF)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
        self.counters = perf.Counters(path, True)
        self.build = fakes.make_build(["ok", "crash"])

    def run_fake(self, name):
        w = Synthetic(name, os.path.join(self.build, "bench", "wl-" + name))
        ctx = Context(mode="quick", timeout=10, workdir=self.tmp.name,
                      perf=self.counters)
        w.prepare(ctx)
        return w.run(Allocator("glibc"), ctx, 1)

    def test_counts_reach_the_record(self):
        if execute.helper_problem():
            self.skipTest("no spawn helper: %s" % execute.helper_problem())
        r = self.run_fake("ok")
        self.assertTrue(r.ok, r.detail)
        self.assertEqual(r.perf["instructions"], 1800000)
        self.assertEqual(r.row()["dTLB-load-misses"], "1234")
        self.assertIsNotNone(r.majflt)

    def test_a_crash_under_perf_is_still_a_crash(self):
        if execute.helper_problem():
            self.skipTest("no spawn helper: %s" % execute.helper_problem())
        r = self.run_fake("crash")
        self.assertEqual(r.status, "crashed")
        self.assertEqual(r.row()["cycles"], "")


if __name__ == "__main__":
    unittest.main()
