"""One measured run, as it goes into results.csv and the report."""

# Columns of results.csv, in order. A failed run has an empty cell wherever
# a measurement would be misleading (everything but its status and detail).
CSV_FIELDS = [
    "workload", "allocator", "run", "status", "wall_s", "cpu_s",
    "ops_per_s", "peak_rss_kib", "minflt", "live_bytes", "peak_live_bytes",
    "fragmentation", "final_rss_kib", "ops", "seconds", "threads",
    "threads_asked", "majflt", "dTLB-load-misses", "iTLB-load-misses",
    "cycles", "instructions", "checksum", "detail", "extra",
]

PERF_EVENTS = ["dTLB-load-misses", "iTLB-load-misses", "cycles",
               "instructions"]
OK = "ok"
FAILED_STATUSES = ("crashed", "failed", "timeout", "wrong")


class Run:
    """A run's record. status is "ok" or one of FAILED_STATUSES; detail says
    why a run failed. samples is the RSS over time: [(t_s, rss_kib)]."""

    def __init__(self, workload, allocator, run=1):
        self.workload = workload
        self.allocator = allocator
        self.run = run
        self.status = OK
        self.detail = ""
        self.wall_s = None
        self.cpu_s = None
        self.ops = None
        self.seconds = None
        self.ops_per_s = None
        self.peak_rss_kib = None
        self.minflt = None
        self.live_bytes = None
        self.peak_live_bytes = None
        self.final_rss_kib = None
        self.threads = None
        self.threads_asked = None   # --threads given to a threaded workload
        self.majflt = None
        self.checksum = None
        self.output = None      # what is compared with glibc's (not in CSV)
        self.extra = {}
        self.samples = []
        self.latency = None     # {"malloc": [ns], "free": [ns]} (latency)
        self.perf = None        # {event: count} from perf stat, if counted

    @property
    def ok(self):
        return self.status == OK

    def fail(self, status, detail):
        self.status = status
        self.detail = detail

    @property
    def fragmentation(self):
        """Peak RSS / peak live bytes (live_bytes when the workload reports
        no peak), where both are known."""
        live = self.peak_live_bytes or self.live_bytes
        if not self.peak_rss_kib or not live:
            return None
        return self.peak_rss_kib * 1024.0 / live

    def set_from_json(self, obj):
        """Fill the workload's own numbers from its JSON result line."""
        def num(key):
            v = obj.get(key)
            return v if isinstance(v, (int, float)) and not isinstance(
                v, bool) else None
        self.ops = num("ops")
        self.seconds = num("seconds")
        if self.ops is not None and self.seconds:
            self.ops_per_s = self.ops / self.seconds
        self.live_bytes = num("live_bytes")
        self.peak_live_bytes = num("peak_live_bytes")
        self.final_rss_kib = num("final_rss_kib")
        self.threads = num("threads")
        if "checksum" in obj:
            self.checksum = str(obj["checksum"])
        for k, v in obj.items():
            if k.startswith("rss_") and k.endswith("_kib") and k != \
                    "final_rss_kib" or k == "timer_ns":
                self.extra[k] = v

    def row(self):
        """The CSV row as a dict of strings."""
        import json
        def f(v, fmt="%.6g"):
            if v is None:
                return ""
            if isinstance(v, float):
                return fmt % v
            return str(v)
        ok = self.ok
        return {
            "workload": self.workload,
            "allocator": self.allocator,
            "run": str(self.run),
            "status": self.status,
            "wall_s": f(self.wall_s if ok else None, "%.4f"),
            "cpu_s": f(self.cpu_s if ok else None, "%.4f"),
            "ops_per_s": f(self.ops_per_s if ok else None, "%.1f"),
            "peak_rss_kib": f(self.peak_rss_kib if ok else None),
            "minflt": f(self.minflt if ok else None),
            "live_bytes": f(self.live_bytes if ok else None),
            "peak_live_bytes": f(self.peak_live_bytes if ok else None),
            "fragmentation": f(self.fragmentation if ok else None, "%.3f"),
            "final_rss_kib": f(self.final_rss_kib if ok else None),
            "ops": f(self.ops if ok else None),
            "seconds": f(self.seconds if ok else None, "%.4f"),
            "threads": f(self.threads),
            "threads_asked": f(self.threads_asked),
            "majflt": f(self.majflt if ok else None),
            **{e: f((self.perf or {}).get(e) if ok else None)
               for e in PERF_EVENTS},
            "checksum": f(self.checksum),
            "detail": self.detail,
            "extra": json.dumps(self.extra, sort_keys=True)
            if self.extra else "",
        }
