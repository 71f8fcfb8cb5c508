"""sable's benchmark runner: runs workloads under several allocators via
LD_PRELOAD and writes CSV, a Markdown report and plots.  Entry point: bench/run.
"""
