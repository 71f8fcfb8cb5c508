"""Fake workloads for the runner's tests: tiny shell and Python scripts laid
out like a meson build directory (<build>/bench/wl-<name>)."""
import os
import stat
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

PY = sys.executable or "/usr/bin/python3"

SCRIPTS = {
    "ok": """#!/bin/sh
case "$*" in *--help*) echo "usage: wl-ok [--quick]"; exit 0;; esac
echo "warming up"
echo '{"workload":"ok","ops":1000,"seconds":0.5,"live_bytes":1048576,"threads":1,"checksum":"abc"}'
""",
    "threads": """#!/bin/sh
case "$*" in *--help*) echo "usage: wl-threads [--quick] [--threads N]"; exit 0;; esac
n=0
while [ $# -gt 0 ]; do
  if [ "$1" = "--threads" ]; then n=$2; fi
  shift
done
echo "{\\"workload\\":\\"threads\\",\\"ops\\":10,\\"seconds\\":1,\\"threads\\":$n}"
""",
    "crash": """#!/bin/sh
echo "about to crash" >&2
kill -SEGV $$
""",
    "fail": """#!/bin/sh
echo '{"workload":"fail","ops":1,"seconds":1}'
echo "self-check failed: block 7 corrupted" >&2
exit 1
""",
    "nojson": """#!/bin/sh
echo "all done, 1000 ops"
""",
    "sleep": """#!/bin/sh
case "$*" in *--help*) echo "usage: wl-sleep [--quick]"; exit 0;; esac
exec sleep 30
""",
    "env": """#!/bin/sh
echo "{\\"workload\\":\\"env\\",\\"ops\\":1,\\"seconds\\":1,\\"checksum\\":\\"${LD_PRELOAD:-none}\\"}"
""",
    "mem": """#!%s
import json, sys, time
block = bytearray(64 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
time.sleep(0.4)
print(json.dumps({"workload": "mem", "ops": 1, "seconds": 0.4,
                  "live_bytes": len(block)}))
""" % PY,
}


def make_build(names=None):
    """A temporary directory laid out like a build dir with the named fake
    workloads (all by default). Returns its path (a TemporaryDirectory
    object is kept on the function to clean up at exit)."""
    tmp = tempfile.TemporaryDirectory(prefix="sable-bench-test-")
    make_build.keep.append(tmp)
    bench = os.path.join(tmp.name, "bench")
    os.makedirs(bench)
    for name in names or SCRIPTS:
        path = os.path.join(bench, "wl-" + name)
        with open(path, "w") as f:
            f.write(SCRIPTS[name])
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP |
                 stat.S_IXOTH)
    return tmp.name


make_build.keep = []
