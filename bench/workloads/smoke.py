#!/usr/bin/env python3
"""Smoke check of one workload: run it, require exit status 0 and a JSON
object on the last stdout line naming the workload, with numeric ops and a
positive numeric seconds.

usage: smoke.py <workload-name> <program> [args...]"""
import json
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, cmd = sys.argv[1], sys.argv[2:]
    res = subprocess.run(cmd, stdout=subprocess.PIPE)
    out = res.stdout.decode("utf-8", "replace")
    if res.returncode != 0:
        print("%s: exit status %d" % (name, res.returncode), file=sys.stderr)
        return 1
    lines = [l for l in out.splitlines() if l.strip()]
    if not lines:
        print("%s: no output" % name, file=sys.stderr)
        return 1
    try:
        obj = json.loads(lines[-1])
    except ValueError as e:
        print("%s: last line is not JSON (%s): %r" % (name, e, lines[-1]),
              file=sys.stderr)
        return 1
    problems = []
    if not isinstance(obj, dict):
        problems.append("not an object")
    else:
        if obj.get("workload") != name:
            problems.append("workload is %r" % obj.get("workload"))
        for key in ("ops", "seconds"):
            v = obj.get(key)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                problems.append("%s is %r" % (key, v))
        if isinstance(obj.get("seconds"), (int, float)) and not obj["seconds"] > 0:
            problems.append("seconds is not positive")
    if problems:
        print("%s: %s in %s" % (name, "; ".join(problems), lines[-1]),
              file=sys.stderr)
        return 1
    print(lines[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
