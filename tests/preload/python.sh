#!/usr/bin/env bash
# CPython (the system's /usr/bin/python3) with a dict/JSON/string workload.
source "$(dirname "$0")/common.sh"
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || skip "$PYTHON is not installed"

workload() {
    cat >"$1/work.py" <<'PY'
import hashlib, json, sys

def maps_report():
    with open("/proc/self/maps") as f:
        mapped = "libsable" in f.read()
    print("libsable mapped" if mapped else "libsable NOT mapped", file=sys.stderr)

maps_report()
h = hashlib.sha256()

# dicts: build, mutate, delete, rebuild
d = {}
for i in range(300000):
    d["key-%d" % i] = [i, str(i) * (i % 7), {"n": i % 13}]
for i in range(0, 300000, 3):
    del d["key-%d" % i]
h.update(repr(sorted(d.items())[:5000]).encode())
print("dict", len(d))

# JSON round trips of nested documents
docs = []
for i in range(20000):
    doc = {"id": i, "tags": ["t%d" % (i % 17), "u%d" % (i % 5)],
           "nested": {"a": list(range(i % 30)), "s": "x" * (i % 200)}}
    docs.append(json.dumps(doc, sort_keys=True))
back = [json.loads(s) for s in docs]
assert back[123]["id"] == 123
blob = json.dumps(back, sort_keys=True)
h.update(blob.encode())
print("json", len(blob))

# strings: joins, splits, replaces, formatting
parts = ["%08x" % (i * 2654435761 % 2**32) for i in range(200000)]
s = ",".join(parts)
s2 = s.replace("a", "AA").upper().split(",")
h.update("".join(sorted(s2)).encode())
print("strings", len(s2), sum(len(x) for x in s2))

# lots of small objects freed in bulk
objs = [tuple(range(i % 10)) for i in range(500000)]
del objs
sets = [set(range(i, i + 50)) for i in range(20000)]
total = len(set().union(*sets))
print("sets", total)
print("sha256", h.hexdigest())
PY
    PYTHONHASHSEED=0 "$PYTHON" "$1/work.py"
}

compare_runs
grep -q "libsable mapped" "$SCRATCH/sable/err" || fail "libsable.so was not mapped in python"
