"""Running children: exit statuses, signals, timeouts, RSS sampling."""
import os
import sys
import tempfile
import time
import unittest
from unittest import mock

import fakes
from runner import execute, record
from runner.allocators import Allocator
from runner.workloads import Context, Synthetic

GLIBC = Allocator("glibc")


def fake(name):
    build = fakes.make_build([name])
    return Synthetic(name, os.path.join(build, "bench", "wl-" + name))


class ProcessTest(unittest.TestCase):
    def test_exit_zero_is_no_failure(self):
        res = execute.run(["/bin/true"], timeout=10, sample=False)
        self.assertEqual(res.exit_code, 0)
        self.assertIsNone(execute.failure_of(res))
        self.assertIsNotNone(res.cpu_s)
        self.assertGreater(res.peak_rss_kib, 0)

    def test_signal_is_crash(self):
        res = execute.run(["/bin/sh", "-c", "kill -SEGV $$"], timeout=10)
        self.assertEqual(res.signal, 11)
        status, detail = execute.failure_of(res)
        self.assertEqual(status, "crashed")
        self.assertIn("SIGSEGV", detail)

    def test_nonzero_exit_is_failure_with_stderr(self):
        res = execute.run(["/bin/sh", "-c", "echo broken heap >&2; exit 3"],
                          timeout=10)
        status, detail = execute.failure_of(res)
        self.assertEqual(status, "failed")
        self.assertIn("exit status 3", detail)
        self.assertIn("broken heap", detail)

    def test_timeout_kills_process_group(self):
        t = time.monotonic()
        res = execute.run(["/bin/sh", "-c", "sleep 30 & sleep 30"],
                          timeout=0.5)
        self.assertLess(time.monotonic() - t, 10)
        self.assertTrue(res.timed_out)
        self.assertEqual(execute.failure_of(res)[0], "timeout")

    def test_output_is_captured(self):
        res = execute.run(["/bin/sh", "-c", "echo out; echo err >&2"],
                          timeout=10, sample=False)
        self.assertEqual(res.stdout, b"out\n")
        self.assertEqual(res.stderr, b"err\n")


class RssSamplingTest(unittest.TestCase):
    def test_samples_follow_a_growing_child(self):
        code = ("import time\nb = bytearray(64 << 20)\n"
                "for i in range(0, len(b), 4096): b[i] = 1\n"
                "time.sleep(0.4)\n")
        res = execute.run([sys.executable, "-c", code], timeout=30)
        self.assertEqual(res.exit_code, 0)
        self.assertGreaterEqual(len(res.samples), 4)
        times = [t for t, _ in res.samples]
        self.assertEqual(times, sorted(times))
        peak = max(k for _, k in res.samples)
        self.assertGreater(peak, 60 * 1024)
        # ru_maxrss agrees with the sampled peak.
        self.assertGreaterEqual(res.peak_rss_kib, peak * 0.9)

    def test_tree_sampling_counts_descendants(self):
        code = ("import time\nb = bytearray(48 << 20)\n"
                "for i in range(0, len(b), 4096): b[i] = 1\n"
                "time.sleep(0.5)\n")
        res = execute.run(["/bin/sh", "-c", '"$0" -c "$1"; true',
                           sys.executable, code], timeout=30, tree=True)
        self.assertEqual(res.exit_code, 0)
        self.assertGreater(max(k for _, k in res.samples), 45 * 1024)

    def test_vmrss_of_a_missing_process_is_none(self):
        self.assertIsNone(execute.read_vmrss_kib(2 ** 22 + 12345))


class WorkloadFailureTest(unittest.TestCase):
    ctx = Context(mode="quick", threads=2, timeout=10)

    def run_fake(self, name, ctx=None):
        w = fake(name)
        self.assertIsNone(w.unavailable())
        w.prepare(ctx or self.ctx)
        return w.run(GLIBC, ctx or self.ctx, 1)

    def test_ok_run_has_numbers(self):
        r = self.run_fake("ok")
        self.assertEqual(r.status, record.OK)
        self.assertEqual(r.ops_per_s, 2000.0)
        self.assertEqual(r.live_bytes, 1048576)
        self.assertEqual(r.checksum, "abc")
        self.assertGreater(r.peak_rss_kib, 0)
        self.assertIsNotNone(r.wall_s)
        self.assertAlmostEqual(r.fragmentation,
                               r.peak_rss_kib * 1024 / 1048576)

    def test_crash_by_signal(self):
        r = self.run_fake("crash")
        self.assertEqual(r.status, "crashed")
        self.assertIn("SIGSEGV", r.detail)
        self.assertEqual(r.row()["wall_s"], "")

    def test_exit_one_is_failed_even_with_json(self):
        r = self.run_fake("fail")
        self.assertEqual(r.status, "failed")
        self.assertIn("block 7 corrupted", r.detail)
        self.assertEqual(r.row()["ops_per_s"], "")

    def test_no_json_is_wrong(self):
        r = self.run_fake("nojson")
        self.assertEqual(r.status, "wrong")
        self.assertIn("JSON", r.detail)

    def test_timeout(self):
        r = self.run_fake("sleep", Context(mode="quick", timeout=0.3))
        self.assertEqual(r.status, "timeout")

    def test_threads_passed_when_help_mentions_them(self):
        r = self.run_fake("threads", Context(mode="quick", threads=3,
                                             timeout=10))
        self.assertEqual(r.status, record.OK)
        self.assertEqual(r.threads, 3)

    def test_quick_flag_and_no_threads_for_unthreaded(self):
        w = fake("ok")
        w.prepare(self.ctx)
        self.assertEqual(w.args(self.ctx), ["--quick"])

    def test_preload_is_set_for_allocator_and_not_for_glibc(self):
        w = fake("env")
        w.prepare(self.ctx)
        r = w.run(GLIBC, self.ctx, 1)
        self.assertEqual(r.checksum, "none")
        lib = "/nonexistent/libfake.so"
        r = w.run(Allocator("fake", lib), self.ctx, 1)
        # ld.so warns about a missing preload and goes on.
        self.assertEqual(r.checksum, lib)

    def test_allocator_settings_reach_the_workload(self):
        w = fake("ok")
        env = w.env_for(Allocator("decay0", "/x.so",
                                  env={"SABLE_CONF": "dirty_decay_ms:0"}),
                        {"EXTRA": "1"})
        self.assertEqual(env["SABLE_CONF"], "dirty_decay_ms:0")
        self.assertEqual(env["LD_PRELOAD"], "/x.so")
        self.assertEqual(env["EXTRA"], "1")

    def test_conf_variant_is_sable_with_sable_conf(self):
        from runner import allocators
        build = fakes.make_build(["ok"])
        open(os.path.join(build, "libsable.so"), "w").close()
        allocs, missing = allocators.resolve(
            build, ["sable", "decay0"], confs=[("decay0", "dirty_decay_ms:0")])
        self.assertEqual(missing, [])
        by_name = {a.name: a for a in allocs}
        self.assertEqual(by_name["decay0"].path, by_name["sable"].path)
        self.assertEqual(by_name["decay0"].env,
                         {"SABLE_CONF": "dirty_decay_ms:0"})
        self.assertEqual(by_name["sable"].env, {})

    def test_glibc_debugging_variables_are_not_passed_on(self):
        from runner.workloads import child_env
        with mock.patch.dict(os.environ, {"MALLOC_PERTURB_": "165",
                                          "MALLOC_CONF": "narenas:1"}):
            env = child_env("/x.so")
        self.assertNotIn("MALLOC_PERTURB_", env)
        self.assertEqual(env["MALLOC_CONF"], "narenas:1")
        self.assertEqual(env["LD_PRELOAD"], "/x.so")

    def test_rss_of_fake_workload_is_sampled(self):
        r = self.run_fake("mem")
        self.assertEqual(r.status, record.OK)
        self.assertGreater(max(k for _, k in r.samples), 60 * 1024)
        self.assertGreater(r.fragmentation, 0.9)


if __name__ == "__main__":
    unittest.main()


class LatencySamplesTest(unittest.TestCase):
    def write(self, data):
        fd, path = tempfile.mkstemp()
        os.write(fd, data)
        os.close(fd)
        self.addCleanup(os.unlink, path)
        return path

    def test_reads_malloc_then_free(self):
        import struct
        from runner import workloads
        path = self.write(struct.pack("=QQ3I2I", 3, 2, 5, 6, 7, 80, 90))
        self.assertEqual(workloads.read_latency_samples(path),
                         {"malloc": [5, 6, 7], "free": [80, 90]})

    def test_truncated_file_is_an_error(self):
        import struct
        from runner import workloads
        for data in (b"", struct.pack("=QQ2I", 3, 0, 1, 2)):
            with self.assertRaises(ValueError):
                workloads.read_latency_samples(self.write(data))

    def test_many_threads_keeps_its_own_count(self):
        # Its --help lists --threads, but that is its population of idle
        # threads: the harness's worker count must never replace it.
        import stat
        from runner import workloads
        d = tempfile.mkdtemp()
        self.addCleanup(lambda: __import__("shutil").rmtree(d))
        binary = os.path.join(d, "wl-many-threads")
        with open(binary, "w") as f:
            f.write("#!/bin/sh\necho '--threads N  threads, all alive at once'\n")
        os.chmod(binary, os.stat(binary).st_mode | stat.S_IXUSR)
        ctx = workloads.Context(threads=2, sweep=[1, 2, 4])
        for name, threaded in (("many-threads", False), ("larson", True)):
            w = workloads.Synthetic(name, binary)
            w.prepare(ctx)
            self.assertEqual(w.threaded, threaded, name)
            self.assertEqual("--threads" in w.args(ctx), threaded, name)

    def test_latency_is_not_swept(self):
        from runner import workloads
        ctx = workloads.Context(threads=2, sweep=[1, 2, 4])
        lat = workloads.Latency("latency", "/nonexistent")
        lat.threaded = True
        syn = workloads.Synthetic("larson", "/nonexistent")
        syn.threaded = True
        plain = workloads.Synthetic("large", "/nonexistent")
        plain.threaded = False
        self.assertEqual(ctx.thread_counts(lat), [2])
        self.assertEqual(ctx.thread_counts(syn), [1, 2, 4])
        self.assertEqual(ctx.thread_counts(plain), [None])
