"""Hardware counters with `perf stat`, where this machine lets them be read.

probe() asks once whether perf is installed and whether the PMU answers
(`perf stat -e EVENTS true`): in a virtual machine without a virtual PMU,
or with kernel.perf_event_paranoid too high, the events come back as
"<not supported>" or perf fails, and the counters are skipped with the
reason, which the report prints. When they can be read, execute.start runs
the spawn helper under `perf stat -x,` (see there) and parse() reads the
counts back from perf's output file.
"""
import shutil
import subprocess

from .record import PERF_EVENTS as EVENTS


class Counters:
    """Whether perf's counters can be read (available, and why not), and
    how to run a command under perf stat and read what it counted."""

    def __init__(self, perf, available, why=None, events=EVENTS):
        self.perf = perf
        self.available = available
        self.why = why
        self.events = list(events)

    def wrap(self, cmd, out_path):
        """cmd under perf stat, counts written to out_path (CSV)."""
        return [self.perf, "stat", "-x", ",", "-o", out_path, "-e",
                ",".join(self.events), "--"] + list(cmd)

    def parse(self, text):
        return parse_stat(text, self.events)


def parse_stat(text, events=EVENTS):
    """{event: count or None} from `perf stat -x,` output: each counter line
    is "value,unit,event,..."; a value of "<not supported>" or
    "<not counted>" is None. Events perf did not print are None too."""
    out = {e: None for e in events}
    for line in text.splitlines():
        fields = line.strip().split(",")
        if len(fields) < 3 or line.startswith("#"):
            continue
        event = fields[2].split(":")[0]
        if event not in out:
            continue
        try:
            out[event] = int(float(fields[0]))
        except ValueError:
            out[event] = None
    return out


def probe(perf=None, run=subprocess.run):
    """A Counters for this machine: available when perf is installed and
    counts every event of EVENTS for `true`."""
    perf = perf or shutil.which("perf")
    if perf is None:
        return Counters(None, False, "perf is not installed (Debian: "
                        "linux-perf)")
    try:
        r = run([perf, "stat", "-x", ",", "-e", ",".join(EVENTS), "--",
                 "true"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        return Counters(perf, False, "perf stat could not run: %s" % e)
    text = r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        last = [l for l in text.splitlines() if l.strip()]
        return Counters(perf, False, "perf stat failed (exit status %d%s)"
                        % (r.returncode, ": " + last[-1][:200] if last
                           else ""))
    counts = parse_stat(text)
    missing = [e for e, v in counts.items() if v is None]
    if missing:
        return Counters(perf, False, "perf stat counts no %s: the "
                        "hardware counters (PMU) cannot be read on this "
                        "machine" % ", ".join(missing))
    return Counters(perf, True)
