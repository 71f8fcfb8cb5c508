#!/usr/bin/env python3
"""The stats page and sable-stat, from outside (docs/inspection.md).

Usage: inspect_test.py CASE SABLE_STAT LIBSABLE TARGET INSPECTION_MD [--write]

Cases:
  match    a page matches sable_mallctl inside the process; --once, --json,
           --prometheus and -l agree with it; INSPECTION_MD documents every
           JSON field and every metric
  control  the purge action lowers the target's RSS; flush, decay, ping and
           dump answer; each action is one line on the target's stderr
  users    another user (nobody) can neither read the page nor act on the
           socket, even when the socket's mode lets it connect (SO_PEERCRED)
  bad      stale, foreign-version, truncated, corrupt, foreign-owned pages,
           a socket that does not answer, no page, no process: one line of
           error each, exit status 1; a page of another pid namespace is kept;
           a new page sweeps this user's stale ones
  fork     a forked child publishes a page of its own; each process removes
           its own page at exit, and only its own
  live     the live view in a real terminal (tmux): what the screen shows,
           the purge key, the quit key (with --write, the screen goes into
           INSPECTION_MD's capture block: meson compile inspection-doc)

Exit status 77 (skipped) where the case needs root or tmux and has neither.
"""
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

CASE, STAT, LIB, TARGET, DOC = sys.argv[1:6]
WRITE = sys.argv[6:] == ["--write"]  # live: put the screen into DOC's capture block
SHM = "/dev/shm"
PAGE_VERSION_OFF, PAGE_SIZE_OFF = 8, 16
PID_OFF, START_OFF, CHECKSUM_OFF, PID_NS_OFF = 32, 40, 56, 17 * 8
TOTALS_OFF = 24 * 8


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def start(mode, conf="", stderr=subprocess.DEVNULL):
    env = dict(os.environ)
    env["LD_PRELOAD"] = LIB
    env["SABLE_CONF"] = "stats_page:true,background_thread:true,stats_page_interval_ms:100" + (
        "," + conf if conf else "")
    return subprocess.Popen([TARGET, mode], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=stderr, env=env, text=True)


def stat(*args, user=None, timeout=30):
    cmd = [STAT, *map(str, args)]
    if user:
        cmd = ["setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups", *cmd]
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    return r.returncode, r.stdout, r.stderr


def page_of(pid, wait=5.0):
    deadline = time.time() + wait
    while time.time() < deadline:
        for name in os.listdir(SHM):
            if name.startswith("sable.%d." % pid) and name.endswith(".page"):
                return os.path.join(SHM, name)
        time.sleep(0.05)
    fail("process %d published no page in %.0f s" % (pid, wait))


def rss(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def stop(p):
    if p.poll() is None:
        p.stdin.close()
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            # Killed, it leaves its page and socket: the test removes them.
            for name in os.listdir(SHM):
                if name.startswith("sable.%d." % p.pid):
                    try:
                        os.unlink(os.path.join(SHM, name))
                    except FileNotFoundError:
                        pass


def json_of(pid):
    rc, out, err = stat("--json", pid)
    check(rc == 0, "--json failed: " + err)
    return json.loads(out)


def one_error(rc, err, pattern, what):
    lines = err.strip().splitlines()
    check(rc == 1, "%s: exit status %d, not 1 (%r)" % (what, rc, err))
    check(len(lines) == 1, "%s: %d lines of error, not one: %r" % (what, len(lines), err))
    check(lines[0].startswith("sable-stat: "), "%s: %r" % (what, lines[0]))
    check(re.search(pattern, lines[0]), "%s: %r does not say /%s/" % (what, lines[0], pattern))


def need_root():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        print("SKIP: needs root and setpriv")
        sys.exit(77)


# ---- match ----

def case_match():
    p = start("hold")
    check(p.stdout.readline().strip() == "ready", "the target did not start")
    page_of(p.pid)
    # The background thread settles (decay, idle caches) within a second.
    time.sleep(1.5)
    fields = ("allocated", "active", "mapped", "metadata", "retained", "resident", "tcache_bytes")
    matched = 0
    for attempt in range(10):
        p.stdin.write("x\n")
        p.stdin.flush()
        before = p.stdout.readline().split()
        time.sleep(0.25)  # more than one update interval (100 ms)
        doc = json_of(p.pid)
        p.stdin.write("x\n")
        p.stdin.flush()
        after = p.stdout.readline().split()
        b = dict(zip(before[::2], map(int, before[1::2])))
        a = dict(zip(after[::2], map(int, after[1::2])))
        t = doc["totals"]
        ok = all(t[f] in (b[f], a[f]) for f in fields)
        ok = ok and doc["classes"][3]["nmalloc"] in (b["class3_nmalloc"], a["class3_nmalloc"])
        ok = ok and doc["classes"][3]["curregs"] in (b["class3_curregs"], a["class3_curregs"])
        ok = ok and len(doc["arenas"]) == b["arenas"]
        if ok:
            matched += 1
            if matched == 3:
                break
        else:
            print("attempt %d: page %s, mallctl %s / %s" % (attempt, t, b, a))
    check(matched == 3, "the page did not match sable_mallctl in 3 of 10 tries")
    check(doc["schema"] == "sable-stat/1" and doc["pid"] == p.pid, "the JSON's head")
    check(t["allocated"] >= 3 << 20, "the page does not count the 3 MiB block")
    check(doc["options"]["stats_page"] == "true" and doc["options"]["stats_page_interval_ms"] == "100",
          "the options in force: %r" % doc["options"].get("stats_page"))
    check(doc["updates"] >= 10, "fewer than 10 updates in 2 s at 100 ms: %d" % doc["updates"])
    check(t["background_thread"] == 1 and t["threads"] >= 1, "threads")
    check(0 < t["rss"] and t["resident"] > 0, "rss/resident")
    # --prometheus carries the same numbers.
    rc, out, err = stat("--prometheus", p.pid)
    check(rc == 0, err)
    m = re.search(r'^sable_mapped_bytes\{pid="%d"\} (\d+)$' % p.pid, out, re.M)
    check(m and int(m.group(1)) == t["mapped"], "prometheus sable_mapped_bytes")
    check(re.search(r'^# TYPE sable_purged_bytes_total counter$', out, re.M), "a counter's TYPE")
    check(re.search(r'^sable_class_slab_bytes\{pid="%d",class="3",size="\d+"\} \d+$' % p.pid, out, re.M),
          "a class's metric")
    # docs/inspection.md documents every JSON field in its own table (the
    # first cell of a row there) and every metric in the Prometheus section.
    with open(DOC) as f:
        doc_text = f.read()
    def section(begin, end):
        i = doc_text.index(begin)
        return doc_text[i:doc_text.index(end, i + len(begin))]
    tables = {
        "": section("## JSON: schema", "\n`totals`:"),
        "totals": section("\n`totals`:", "\nEach of `arenas`"),
        "arenas": section("\nEach of `arenas`", "\nEach of `classes`"),
        "classes": section("\nEach of `classes`", "\n## Prometheus"),
    }
    def in_table(text, name):
        return re.search(r"^\| [^|]*`%s`[^|]*\|" % re.escape(name), text, re.M) is not None
    missing = [k for k in doc if not in_table(tables[""], k)]
    for part in ("totals", "arenas", "classes"):
        fields = doc[part] if part == "totals" else doc[part][0]
        missing += ["%s.%s" % (part, k) for k in fields if not in_table(tables[part], k)]
    prom = section("\n## Prometheus", "\n## What it costs")
    missing += sorted({n for n in re.findall(r"^# TYPE (\S+) ", out, re.M) if "`%s`" % n not in prom})
    check(not missing, "%s does not document: %s" % (DOC, " ".join(missing)))
    rc, out, err = stat("--once", p.pid)
    check(rc == 0 and "sable-stat  pid %d" % p.pid in out and "allocated" in out, "--once: " + err)
    check(re.search(r"^\d+ B +\S+ \S+ ", out, re.M), "--once shows no size class:\n" + out)
    rc, out, err = stat("-l")
    check(rc == 0 and re.search(r"^\s*%d\s+inspect-target\s" % p.pid, out, re.M), "-l:\n" + out)
    path = page_of(p.pid)
    st = os.stat(path)
    check(st.st_mode & 0o777 == 0o600, "the page's mode is %o" % (st.st_mode & 0o777))
    stop(p)
    check(not os.path.exists(path), "the page is left after exit")
    check(not os.path.exists(path[:-5] + ".sock"), "the socket is left after exit")


# ---- control ----

def case_control():
    err = tempfile.TemporaryFile(mode="w+")
    p = start("bloat", "dirty_decay_ms:86400000", stderr=err)
    check(p.stdout.readline().strip() == "ready", "the target did not start")
    page_of(p.pid)
    time.sleep(0.3)
    before = rss(p.pid)
    check(before > 150 << 20, "the target's RSS is %d MiB, not above 150" % (before >> 20))
    rc, out, e = stat("--purge", p.pid)
    check(rc == 0 and out.strip() == "ok purge", "--purge: %r %r" % (out, e))
    after = rss(p.pid)
    print("RSS before purge %d MiB, after %d MiB" % (before >> 20, after >> 20))
    check(after < before // 3, "the purge left RSS at %d of %d MiB" % (after >> 20, before >> 20))
    for args, want in ((["--flush"], "ok flush"), (["--decay", "500"], "ok decay 500"),
                       (["--ping"], "ok sable ")):
        rc, out, e = stat(*args, p.pid)
        check(rc == 0 and out.startswith(want), "%s: %r %r" % (args, out, e))
    doc = json.loads(stat("--json", p.pid)[1])
    check(doc["totals"]["decay_ms"] == 500 and doc["options"]["dirty_decay_ms"] == "500",
          "decay 500 is not in force")
    check(doc["totals"]["actions"] == 3, "actions served: %d, not 3" % doc["totals"]["actions"])
    for args, pattern in ((["--decay", "-5"], "decay wants milliseconds"),
                          (["--dump"], "no heap profiler")):
        rc, out, e = stat(*args, p.pid)
        check(rc == 1 and re.search(pattern, out), "%s: %r" % (args, out))
    stop(p)
    err.seek(0)
    lines = [l for l in err.read().splitlines() if "stats_page:" in l]
    print("\n".join(lines))
    # One line per action and per refusal (ping is neither).
    check(len(lines) == 5, "%d lines on stderr, not 5 (3 actions, 2 refusals)" % len(lines))
    check("purge" in lines[0] and "flush" in lines[1] and "dirty_decay_ms set to 500" in lines[2],
          "the action lines")
    check("refused 'decay -5'" in lines[3] and "refused 'dump'" in lines[4], "the refusal lines")
    # Under abort:true a request is carried out and reported, and the
    # process lives on (its lines are notes, not warnings).
    p = start("hold", "abort:true")
    try:
        check(p.stdout.readline().strip() == "ready", "the target did not start")
        page_of(p.pid)
        rc, out, e = stat("--purge", p.pid)
        check(rc == 0 and out.strip() == "ok purge", "--purge under abort:true: %r %r" % (out, e))
        rc, out, e = stat("--ping", p.pid)
        check(rc == 0 and p.poll() is None, "the process under abort:true died of a request")
    finally:
        stop(p)
    # A process that updates every 6 s answers then: without --timeout,
    # sable-stat waits two intervals and a second, not 5 s.
    p = start("hold", "stats_page_interval_ms:6000")
    try:
        check(p.stdout.readline().strip() == "ready", "the target did not start")
        page_of(p.pid)
        t0 = time.time()
        rc, out, e = stat("--ping", p.pid)
        check(rc == 0 and out.startswith("ok sable "), "a ping at 6 s intervals: %r %r" % (out, e))
        print("a ping at 6 s intervals answered in %.1f s" % (time.time() - t0))
    finally:
        stop(p)


# ---- users ----

def case_users():
    need_root()
    err = tempfile.TemporaryFile(mode="w+")
    p = start("bloat", stderr=err)
    check(p.stdout.readline().strip() == "ready", "the target did not start")
    path = page_of(p.pid)
    time.sleep(0.3)
    rc, out, e = stat("--json", p.pid, user="nobody")
    one_error(rc, e, r"belongs to uid 0 and you are uid \d+", "nobody reads the page")
    rc, out, e = stat("--purge", p.pid, user="nobody")
    one_error(rc, e, r"refused", "nobody connects to the socket")
    # With the socket's mode opened up, the process itself refuses.
    sock = path[:-5] + ".sock"
    os.chmod(sock, 0o666)
    rc, out, e = stat("--purge", p.pid, user="nobody")
    check(rc == 1 and re.match(r"error: refused: pid \d+, uid \d+ is neither", out),
          "SO_PEERCRED: %r %r" % (out, e))
    rc, out, e = stat("--ping", p.pid)
    check(rc == 0, "root is served")
    stop(p)
    err.seek(0)
    text = err.read()
    check(re.search(r"stats_page: refused a request from pid \d+, uid \d+", text), text)
    check("purge of every arena" not in text, "the refused purge was carried out")


# ---- bad input ----

def sleeper():
    return subprocess.Popen(["sleep", "60"])


def proc_start(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[19])


def fnv(buf):
    """sable_page_checksum, in Python (src/inspect/page.h)."""
    words = struct.unpack("<%dQ" % (len(buf) // 8), buf)
    narenas, nclasses = min(words[14], 256), min(words[15], 64)
    h = 0xcbf29ce484222325
    def run(lo, hi):
        nonlocal h
        for w in words[lo:hi]:
            h = ((h ^ w) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    for i in range(24):
        if i not in (3, 7):
            run(i, i + 1)
    totals_words, arena_words, class_words = 24, 16, 16
    t0 = 24
    run(t0, t0 + totals_words)
    a0 = t0 + totals_words
    run(a0, a0 + narenas * arena_words)
    c0 = a0 + 256 * arena_words
    run(c0, c0 + nclasses * class_words)
    o0 = c0 + 64 * class_words
    run(o0, len(words))
    return h


def forge(buf, pid, start, **patch):
    """A copy of page buf that names process pid, with fields patched."""
    b = bytearray(buf)
    struct.pack_into("<Q", b, PID_OFF, pid)
    struct.pack_into("<Q", b, START_OFF, start)
    for off, val in patch.get("words", {}).items():
        struct.pack_into("<Q", b, off, val)
    struct.pack_into("<Q", b, CHECKSUM_OFF, fnv(bytes(b)))
    for off, val in patch.get("after", {}).items():
        struct.pack_into("<Q", b, off, val)
    return bytes(b)


def life_lock(path):
    """Holds the page's life lock as its process would (an OFD read lock
    of the whole file); the lock lasts while the returned file is open."""
    f = open(path, "rb")
    fcntl.fcntl(f.fileno(), fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, 0, 0, 0))
    return f


def case_bad():
    made, held = [], []
    def put(pid, start, data, mode=0o600, live=True):
        """A forged page; live: held as a live process holds its page."""
        path = os.path.join(SHM, "sable.%d.%d.page" % (pid, start))
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        made.append(path)
        if live:
            held.append(life_lock(path))
        return path
    p = start("hold")
    try:
        check(p.stdout.readline().strip() == "ready", "the target did not start")
        with open(page_of(p.pid), "rb") as f:
            real = f.read()
        check(fnv(real) == struct.unpack_from("<Q", real, CHECKSUM_OFF)[0],
              "the checksum in Python is not the page's")
        s = sleeper()
        start_s = proc_start(s.pid)
        try:
            # No page at all.
            rc, out, e = stat(s.pid)
            one_error(rc, e, r"publishes no stats page: start it with SABLE_CONF=stats_page:true",
                      "no page")
            # No such process.
            dead = subprocess.Popen(["true"]); dead.wait()
            rc, out, e = stat("--once", dead.pid)
            one_error(rc, e, r"there is no process %d" % dead.pid, "no process")
            # A stale page: its process is gone.
            put(dead.pid, 12345, forge(real, dead.pid, 12345), live=False)
            rc, out, e = stat("--once", dead.pid)
            one_error(rc, e, r"is stale: process %d is gone" % dead.pid, "stale, gone")
            # A stale page: the pid is another process's now.
            put(s.pid, start_s + 7, forge(real, s.pid, start_s + 7), live=False)
            rc, out, e = stat("--once", s.pid)
            one_error(rc, e, r"is stale: pid %d is another process now" % s.pid, "stale, reused")
            rc, out, e = stat("-l")
            check(re.search(r"^\s*%d\s+\(stale\)" % s.pid, out, re.M), "-l marks it stale:\n" + out)
            # A stale page: its name's process, but nobody holds it (the
            # process ran exec); then the same page held reads.
            path = put(s.pid, start_s, forge(real, s.pid, start_s), live=False)
            rc, out, e = stat("--once", s.pid)
            one_error(rc, e, r"is stale: process %d no longer holds it" % s.pid, "stale, exec'd")
            held.append(life_lock(path))
            rc, out, e = stat("--json", s.pid)
            check(rc == 0 and json.loads(out)["pid"] == s.pid, "a held forged copy: " + e)
            # Names the library would not write are not pages.
            for odd in ("sable.0%d.%d.page" % (s.pid, start_s), "sable.+%d.%d.page" % (s.pid, start_s),
                        "sable.%d. %d.page" % (s.pid, start_s)):
                with open(os.path.join(SHM, odd), "w") as f:
                    f.write("x")
                made.append(os.path.join(SHM, odd))
            rc, out, e = stat("-l")
            check(rc == 0 and "sable.0" not in out and "sable.+" not in out and ". " not in out,
                  "-l lists a name the library would not write:\n" + out)
            # A FIFO under a page's name does not hang the reader.
            fifo = os.path.join(SHM, "sable.%d.%d.page" % (dead.pid, 777))
            os.mkfifo(fifo, 0o600)
            made.append(fifo)
            rc, out, e = stat("--clean", timeout=10)
            check(rc == 0 and os.path.exists(fifo), "--clean and a FIFO: %r %r" % (out, e))
            # Another layout version.
            path = put(s.pid, start_s, forge(real, s.pid, start_s, words={PAGE_VERSION_OFF: 2}))
            rc, out, e = stat("--once", s.pid)
            one_error(rc, e, r"has layout version 2; this sable-stat reads version 1", "version")
            # Truncated.
            put(s.pid, start_s, forge(real, s.pid, start_s)[:10000])
            rc, out, e = stat("--json", s.pid)
            one_error(rc, e, r"truncated", "truncated")
            put(s.pid, start_s, b"\0" * 10)
            rc, out, e = stat("--json", s.pid)
            one_error(rc, e, r"truncated", "a 10-byte page")
            # Not a page.
            put(s.pid, start_s, b"x" * len(real))
            rc, out, e = stat("--json", s.pid)
            one_error(rc, e, r"not a sable stats page", "bad magic")
            # Corrupt: a word changed after the checksum.
            put(s.pid, start_s, forge(real, s.pid, start_s, after={TOTALS_OFF: 1 << 50}))
            rc, out, e = stat("--prometheus", s.pid)
            one_error(rc, e, r"checksum does not match: corrupt", "corrupt")
            # Corrupt and consistent: counts out of range, with a checksum that matches.
            put(s.pid, start_s, forge(real, s.pid, start_s, words={14 * 8: 1 << 40}))
            rc, out, e = stat("--json", s.pid)
            one_error(rc, e, r"corrupt", "narenas out of range")
            # Good again: the forged copy reads.
            put(s.pid, start_s, forge(real, s.pid, start_s))
            rc, out, e = stat("--json", s.pid)
            check(rc == 0 and json.loads(out)["pid"] == s.pid, "a good forged copy: " + e)
            # A socket that does not answer.
            sock_path = os.path.join(SHM, "sable.%d.%d.sock" % (s.pid, start_s))
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            srv.bind(sock_path)
            srv.listen(4)
            made.append(sock_path)
            rc, out, e = stat("--ping", "--timeout", "300", s.pid)
            one_error(rc, e, r"did not answer on .* within 300 ms", "silent socket")
            srv.close()
            os.unlink(sock_path)
            made.remove(sock_path)
            rc, out, e = stat("--ping", s.pid)
            one_error(rc, e, r"cannot connect to", "no socket")
            if os.geteuid() == 0:
                # Owned by a user that is not the process's.
                path = put(s.pid, start_s, forge(real, s.pid, start_s))
                os.chown(path, 65534, 65534)
                rc, out, e = stat("--json", s.pid)
                one_error(rc, e, r"belongs to uid 65534, not to the process's user", "foreign owner")
            # --clean removes the stale pages and leaves the others.
            rc, out, e = stat("--clean")
            check(rc == 0 and not os.path.exists(os.path.join(SHM, "sable.%d.12345.page" % dead.pid)),
                  "--clean: " + out + e)
            check(os.path.exists(page_of(p.pid)), "--clean removed a live page")
            # A live page of another pid namespace (a container sharing
            # /dev/shm): its pid means nothing here, so it is named as such
            # and kept.
            foreign = put(dead.pid, 999, forge(real, dead.pid, 999, words={PID_NS_OFF: 12345}))
            rc, out, e = stat("--once", dead.pid)
            one_error(rc, e, r"was published in another pid namespace \(12345", "other pid ns")
            rc, out, e = stat("-l")
            check(re.search(r"^\s*%d\s+\(other pid ns\)" % dead.pid, out, re.M),
                  "-l marks the other namespace's page:\n" + out)
            rc, out, e = stat("--clean")
            check(rc == 0 and os.path.exists(foreign), "--clean removed another namespace's page")
            # A new process sweeps this user's stale pages of its namespace
            # (left by processes that ended in _exit or a signal), with their
            # sockets, and leaves the rest.
            stale = put(dead.pid, 555, forge(real, dead.pid, 555), live=False)
            stale_sock = stale[:-5] + ".sock"
            open(stale_sock, "w").close()
            made.append(stale_sock)
            q = start("hold")
            try:
                check(q.stdout.readline().strip() == "ready", "the second target did not start")
                check(not os.path.exists(stale) and not os.path.exists(stale_sock),
                      "a new page left a stale one of this namespace")
                check(os.path.exists(foreign), "a new page swept another namespace's page")
                check(os.path.exists(page_of(p.pid)), "a new page swept a live one")
            finally:
                stop(q)
        finally:
            s.kill()
            s.wait()
    finally:
        for f in held:
            f.close()
        for path in made:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        stop(p)


# ---- fork ----

def case_fork():
    p = start("fork")
    line = p.stdout.readline().split()
    check(line and line[0] == "child", "the target did not fork")
    child = int(line[1])
    try:
        parent_page = page_of(p.pid)
        child_page = page_of(child)
        check(parent_page != child_page, "one page for two processes")
        doc = json_of(child)
        check(doc["pid"] == child, "the child's page names pid %d" % doc["pid"])
        check(json_of(p.pid)["pid"] == p.pid, "the parent's page")
        rc, out, e = stat("--ping", child)
        check(rc == 0 and out.strip().endswith("pid %d" % child), "the child's socket: %r" % out)
        rc, out, e = stat("--ping", p.pid)
        check(rc == 0 and out.strip().endswith("pid %d" % p.pid), "the parent's socket: %r" % out)
        # Each removes its own page at exit, and only its own: the child
        # first (SIGUSR1: it exits), then the parent.
        os.kill(child, signal.SIGUSR1)
        deadline = time.time() + 5
        while time.time() < deadline and os.path.exists(child_page):
            time.sleep(0.05)
        check(not os.path.exists(child_page), "the child's page is left after its exit")
        check(os.path.exists(parent_page) and json_of(p.pid)["pid"] == p.pid,
              "the child's exit took the parent's page")
        p.stdin.close()
        deadline = time.time() + 5
        while time.time() < deadline and (os.path.exists(child_page) or p.poll() is None):
            time.sleep(0.05)
        check(not os.path.exists(child_page) and p.poll() is not None, "the child or parent lives on")
        check(not os.path.exists(parent_page), "the parent's page is left after exit")
    finally:
        try:
            os.kill(child, 9)
        except ProcessLookupError:
            pass
        stop(p)


# ---- live ----

def tmux(*args):
    return subprocess.run(["tmux", "-L", "sable-inspect-%d" % os.getpid(), *args],
                          capture_output=True, text=True)


def screen():
    return tmux("capture-pane", "-p", "-t", "view").stdout


def wait_screen(pattern, wait=10.0):
    deadline = time.time() + wait
    while time.time() < deadline:
        text = screen()
        if re.search(pattern, text, re.M):
            return text
        time.sleep(0.2)
    fail("the screen never showed /%s/:\n%s" % (pattern, screen()))


def case_live():
    if shutil.which("tmux") is None:
        print("SKIP: tmux is not installed")
        sys.exit(77)
    p = start("churn")
    page_of(p.pid)
    try:
        env = "env -u LD_PRELOAD LANG=C.UTF-8 TERM=xterm-256color"
        r = tmux("new-session", "-d", "-s", "view", "-x", "120", "-y", "40",
                 "%s %s %d; sleep 30" % (env, STAT, p.pid))
        check(r.returncode == 0, "tmux: " + r.stderr)
        text = wait_screen(r"^sable-stat  pid %d \(inspect-target\)" % p.pid)
        # Three refreshes: the sparklines have three samples or more.
        time.sleep(3.2)
        text = screen()
        print(text)
        capture = text
        check(re.search(r"^rss +[\d.]+ [KMG]iB  [\u2581-\u2588]{3,}", text, re.M), "the RSS sparkline")
        check(re.search(r"^allocated +[\d.]+ [KMG]?i?B  [\u2581-\u2588]{3,}", text, re.M),
              "the allocated sparkline")
        check(re.search(r"^decay backlog ", text, re.M), "the decay backlog")
        check(re.search(r"^threads \d+  arenas \d+  background thread running", text, re.M), "threads")
        check(re.search(r"^class +slabs +in use +free +frag", text, re.M), "the class table's head")
        rows = re.findall(r"^(\d+) B +\S+ \S+ +\S+ \S+ +\S+ \S+ +[\d.]+% ", text, re.M)
        check(len(rows) >= 3, "fewer than 3 size classes shown")
        check(re.search(r"^q: quit  p: purge  f: flush caches", text, re.M), "the key line")
        # The page updates: the update count moves.
        n1 = int(re.search(r"update (\d+),", text).group(1))
        time.sleep(1.5)
        n2 = int(re.search(r"update (\d+),", screen()).group(1))
        check(n2 > n1, "the view does not refresh (%d, %d)" % (n1, n2))
        tmux("send-keys", "-t", "view", "p")
        wait_screen(r"^purge: ok purge")
        tmux("send-keys", "-t", "view", "q")
        # The view ends, the terminal is restored: the shell's sleep runs.
        deadline = time.time() + 5
        while time.time() < deadline and "sable-stat  pid" in screen():
            time.sleep(0.1)
        check("sable-stat  pid" not in screen(), "q did not quit the view")
    finally:
        tmux("kill-server")
        stop(p)
    if WRITE:
        write_capture(capture)


def write_capture(text):
    """Puts the screen between DOC's capture markers (meson compile
    inspection-doc), the pid and the page's path as a reader sees them."""
    begin, end = "<!-- sable-stat-capture:begin -->", "<!-- sable-stat-capture:end -->"
    with open(DOC) as f:
        doc = f.read()
    check(begin in doc and end in doc, "%s has no capture markers" % DOC)
    lines = [l.rstrip() for l in text.rstrip().splitlines()]
    block = "%s\n<!-- Captured from the live test (tests/inspect) by `meson compile -C build " \
            "inspection-doc`; do not edit by hand. -->\n```\n%s\n```\n%s" % (begin, "\n".join(lines), end)
    doc = doc[:doc.index(begin)] + block + doc[doc.index(end) + len(end):]
    with open(DOC, "w") as f:
        f.write(doc)
    print("wrote the capture into", DOC)


CASES = {"match": case_match, "control": case_control, "users": case_users, "bad": case_bad,
         "fork": case_fork, "live": case_live}
CASES[CASE]()
print("ok:", CASE)
