"""Inputs for the real-program workloads: a Python script, an SQL script and
a generated C file. Each is deterministic, so its output under any
allocator must equal its output under glibc."""

# Run as /usr/bin/python3 -c PYTHON_SCRIPT N with PYTHONMALLOC=malloc (so the
# objects come from malloc rather than from pymalloc's arenas). Builds,
# serialises, parses, indexes and thins out N records, four times; prints the
# workload JSON line with a checksum of everything it computed.
PYTHON_SCRIPT = r'''
import hashlib, json, sys, time
n = int(sys.argv[1])
t0 = time.perf_counter()
ops = 0
digest = hashlib.sha256()
for rnd in range(4):
    recs = []
    for i in range(n):
        k = (i * 2654435761 + rnd) % 1000003
        recs.append({"id": i, "key": "k%07d" % k,
                     "tags": ["t%d" % (i % 7), "g%d" % (k % 13)],
                     "score": k / 7.0,
                     "nested": {"a": [i, k, i ^ k], "b": str(k) * (1 + i % 5)}})
    text = json.dumps(recs)
    back = json.loads(text)
    index = {}
    for r in back:
        index.setdefault(r["tags"][1], []).append(r["key"])
    keep = {r["key"]: r for r in back if r["id"] % 7 == rnd}
    for r in keep.values():
        r["nested"]["b"] = r["nested"]["b"] * 3
        r["extra"] = [str(x) for x in range(r["id"] % 11)]
    digest.update(json.dumps(index, sort_keys=True).encode())
    digest.update(json.dumps(keep, sort_keys=True).encode())
    ops += n
secs = time.perf_counter() - t0
print(json.dumps({"workload": "python3", "ops": ops, "seconds": round(secs, 6),
                  "checksum": digest.hexdigest()[:16]}))
'''


def sqlite_script(rows):
    """Bulk insert of rows rows, three indexes, queries, an update and a
    delete, all in one :memory: database."""
    return """CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, name TEXT,
  grp INTEGER, val REAL, pad TEXT);
BEGIN;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < %(rows)d)
INSERT INTO t SELECT x, (x * 2654435761) %% 1000003,
  printf('name-%%08d-%%x', x, (x * 40503) %% 65536),
  x %% 97, ((x * 7919) %% 10007) / 3.0, substr(hex(x * x * x), 1, 1 + x %% 24)
  FROM c;
COMMIT;
CREATE INDEX t_k ON t(k);
CREATE INDEX t_grp_val ON t(grp, val);
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(k), total(val) FROM t;
SELECT grp, count(*), sum(k) %% 1000007, round(avg(val), 6) FROM t
  GROUP BY grp ORDER BY grp LIMIT 10;
SELECT count(*) FROM t a JOIN t b ON a.k = b.id WHERE a.grp < 10;
SELECT name FROM t WHERE k BETWEEN 1000 AND 1100 ORDER BY k, id;
SELECT count(DISTINCT substr(name, 6, 4)), max(length(pad)) FROM t;
UPDATE t SET pad = pad || pad || name WHERE id %% 3 = 0;
DELETE FROM t WHERE id %% 5 = 1;
SELECT count(*), sum(length(pad)) FROM t;
SELECT group_concat(name, ',') FROM
  (SELECT name FROM t ORDER BY val DESC, id LIMIT 20);
SELECT grp, count(DISTINCT length(pad)), sum(length(pad)) FROM t
  WHERE grp < 5 GROUP BY grp ORDER BY grp;
""" % {"rows": rows}


def c_source(functions):
    """A C file of that many small functions, each calling the previous one
    (inlining decisions, loops, a struct on the stack)."""
    out = ["typedef struct { int a[4]; long l; } rec_t;\n"]
    for i in range(functions):
        prev = "f%d(x + %d, v, n - 1)" % (i - 1, i % 3) if i else "x"
        out.append("""
int f%(i)d(int x, const int *v, int n)
{
    rec_t r = { { %(i)d, x, n, %(m5)d }, %(i)dL };
    int acc = %(i)d;
    for (int j = 0; j < n; j++)
        acc += (v[j] ^ %(m31)d) * r.a[j & 3];
    if (x & %(m5)d)
        acc ^= (int)r.l;
    else if (n > 1)
        acc += %(prev)s;
    return acc;
}
""" % {"i": i, "m31": i % 31, "m5": i % 5 + 1, "prev": prev})
    return "".join(out)


# Run as perl -e PERL_SCRIPT N (PERL_HASH_SEED=0): builds a hash of N
# records, sorts, matches and rewrites them, drops most and grows the rest,
# three rounds; prints one summary line per round.
PERL_SCRIPT = r'''
use strict; use warnings;
my $n = shift;
for my $round (1 .. 3) {
    my %h;
    for my $i (1 .. $n) {
        my $k = sprintf("k%07d", ($i * 2654435761 + $round) % 1000003);
        $h{$k} = { id => $i, text => ("w$i " x (1 + $i % 9)),
                   tags => [ map { "t$_" } 0 .. $i % 6 ] };
    }
    my @keys = sort keys %h;
    my ($matched, $len) = (0, 0);
    for my $k (@keys) {
        my $r = $h{$k};
        $matched++ if $r->{text} =~ /w\d*7\b/;
        (my $t = $r->{text}) =~ s/w(\d+)/<$1>/g;
        $len += length($t) + @{ $r->{tags} };
        delete $h{$k} if $r->{id} % 5;
    }
    $_->{text} x= 4 for values %h;
    my $left = 0;
    $left += length($h{$_}{text}) for sort keys %h;
    print join(" ", $round, scalar(@keys), $matched, $len, scalar(keys %h),
               $left), "\n";
}
'''

# Run as lua LUA_SCRIPT_FILE N: the same shape in Lua (tables, string
# building, sort, gsub), three rounds, one summary line per round.
LUA_SCRIPT = r'''
local n = tonumber(arg[1])
for round = 1, 3 do
  local t, keys = {}, {}
  for i = 1, n do
    local k = string.format("k%07d", (i * 2654435761 + round) % 1000003)
    local parts = {}
    for j = 0, i % 9 do parts[#parts + 1] = "w" .. (i + j) end
    t[k] = { id = i, text = table.concat(parts, " ") }
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local matched, len, left = 0, 0, 0
  for _, k in ipairs(keys) do
    local r = t[k]
    if r.text:find("w%d*7%f[%D]") then matched = matched + 1 end
    len = len + #(r.text:gsub("w(%d+)", "<%1>"))
    if r.id % 5 ~= 0 then t[k] = nil end
  end
  local kept = 0
  for _, k in ipairs(keys) do
    local r = t[k]
    if r then r.text = r.text:rep(4); left = left + #r.text; kept = kept + 1 end
  end
  print(round, #keys, matched, len, kept, left)
end
'''


def git_files(n):
    """{relative path: text} of n generated source-like files in 20
    directories, for the git workload."""
    out = {}
    for i in range(n):
        lines = ["/* file %d */" % i]
        lines += ["int f%d_%d(int x) { return x * %d + %d; }" % (i, j, j, i)
                  for j in range(20 + i % 30)]
        out["d%02d/f%05d.c" % (i % 20, i)] = "\n".join(lines) + "\n"
    return out


# Run with sh -c under the allocator (so every git process gets it), in an
# empty directory beside the generated files: a repository is made, every
# file committed, a tenth of them changed and committed again, then the
# objects packed and the history printed. Fixed identities and dates make
# every hash the same on every run.
GIT_SCRIPT = r'''
set -e
git init -q --initial-branch=main "$1"
cd "$1"
cp -r "$2"/. .
git add -A
git commit -q -m first
for f in d0*/f*0.c; do echo "int changed;" >> "$f"; done
git commit -q -a -m second
git repack -adq
git log --format='%H %s' --stat
git count-objects -v | grep -v size
git fsck --full 2>&1
'''

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_AUTHOR_DATE": "2030-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2030-01-01T00:00:00Z",
    "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
}
