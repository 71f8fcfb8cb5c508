"""Statistics used by the report: median, ratio to the best, geometric mean.

Everything here is pure and takes plain numbers; a missing or failed value is
None and is never treated as a number.
"""
import math


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
