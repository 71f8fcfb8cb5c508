"""Statistics used by the report: median, ratio to the best, geometric mean,
percentiles of latency samples and a bootstrap confidence interval of the
ratio of two builds' medians.

Everything here is pure and takes plain numbers; a missing or failed value is
None and is never treated as a number.
"""
import math
import random


def median(values):
    """Median of a non-empty sequence of numbers (mean of the two middle
    values for an even count). None entries are not allowed."""
    xs = sorted(values)
    n = len(xs)
    if n == 0:
        raise ValueError("median of an empty sequence")
    mid = n // 2
    if n % 2:
        return xs[mid]
    return (xs[mid - 1] + xs[mid]) / 2.0


def median_or_none(values):
    """Median of the values that are not None; None if there are none."""
    xs = [v for v in values if v is not None]
    return median(xs) if xs else None


def ratios_to_best(values, higher_is_better=False):
    """Map name -> value into name -> ratio to the best value.

    The ratio is >= 1.0 and 1.0 marks the best, whether lower is better
    (time, RSS: value / min) or higher is better (ops/s: max / value).
    Names whose value is None (a failed or missing measurement) map to None
    and do not take part in choosing the best. Zero cannot be divided by:
    when lower is better and the best is 0, zeros get 1.0 and the rest None;
    when higher is better, a 0 gets None.
    """
    known = {k: v for k, v in values.items() if v is not None}
    out = {k: None for k in values}
    if not known:
        return out
    if higher_is_better:
        best = max(known.values())
        for k, v in known.items():
            out[k] = (best / v) if v > 0 else None
    else:
        best = min(known.values())
        for k, v in known.items():
            if best > 0:
                out[k] = v / best
            else:
                out[k] = 1.0 if v == 0 else None
    return out


def geometric_mean(values):
    """Geometric mean of positive numbers, ignoring None; None if empty."""
    xs = [v for v in values if v is not None]
    if not xs:
        return None
    if any(v <= 0 for v in xs):
        raise ValueError("geometric mean needs positive values")
    return math.exp(sum(math.log(v) for v in xs) / len(xs))


def relative_spread(values):
    """(max - min) / median of the values that are not None: how far apart
    the repetitions are. None with fewer than two values or a zero median."""
    xs = [v for v in values if v is not None]
    if len(xs) < 2:
        return None
    m = median(xs)
    if m == 0:
        return None
    return (max(xs) - min(xs)) / m


def percentile(values, p):
    """The p-th percentile (0 < p <= 100) by the nearest-rank definition: the
    smallest value such that at least p % of the values are <= it. It is
    always one of the values (no interpolation: a latency percentile is a
    latency that was measured). values must be non-empty."""
    xs = sorted(values)
    if not xs:
        raise ValueError("percentile of an empty sequence")
    if not 0 < p <= 100:
        raise ValueError("percentile needs 0 < p <= 100, got %r" % p)
    # Rounded first: 99.9 / 100 * 1000 is 999.0000000000001 in floating
    # point, which must not become rank 1000.
    rank = math.ceil(round(p / 100.0 * len(xs), 9))
    return xs[max(rank, 1) - 1]


def bootstrap_ratio_ci(old, new, level=0.95, resamples=2000, seed=1):
    """Percentile-bootstrap confidence interval of median(new) / median(old).

    Each resample draws len(old) values from old and len(new) from new, with
    replacement, and takes the ratio of their medians; the interval is the
    (1 - level) / 2 and (1 + level) / 2 quantiles of those ratios. Returns
    (ratio, low, high), or None when either side has fewer than two values
    or a median of old that is not positive. The generator is seeded: the
    same runs give the same interval."""
    old = [v for v in old if v is not None]
    new = [v for v in new if v is not None]
    if len(old) < 2 or len(new) < 2:
        return None
    base = median(old)
    if base <= 0:
        return None
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        mo = median(rng.choices(old, k=len(old)))
        if mo <= 0:
            continue
        ratios.append(median(rng.choices(new, k=len(new))) / mo)
    if not ratios:
        return None
    ratios.sort()
    lo = ratios[int(math.floor((1 - level) / 2 * (len(ratios) - 1)))]
    hi = ratios[int(math.ceil((1 + level) / 2 * (len(ratios) - 1)))]
    return median(new) / base, lo, hi


def significant(ci):
    """False when the interval (ratio, low, high) covers 1 (no real
    difference shown), True when it does not, None without an interval."""
    if ci is None:
        return None
    return not (ci[1] <= 1.0 <= ci[2])
