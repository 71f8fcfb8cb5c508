import math
import unittest

import fakes  # noqa: F401  (puts bench/ on sys.path)
from runner import stats


class MedianTest(unittest.TestCase):
    def test_odd_count_is_middle_value(self):
        self.assertEqual(stats.median([3.0, 1.0, 2.0]), 2.0)

    def test_even_count_is_mean_of_middle_two(self):
        self.assertEqual(stats.median([4, 1, 3, 2]), 2.5)

    def test_single_value(self):
        self.assertEqual(stats.median([7.5]), 7.5)

    def test_empty_raises(self):
        with self.assertRaises(ValueError):
            stats.median([])

    def test_median_or_none_ignores_none(self):
        self.assertEqual(stats.median_or_none([None, 5, 1, None, 3]), 3)
        self.assertIsNone(stats.median_or_none([None, None]))


class RatioToBestTest(unittest.TestCase):
    def test_lower_is_better(self):
        r = stats.ratios_to_best({"a": 2.0, "b": 1.0, "c": 3.0})
        self.assertEqual(r, {"a": 2.0, "b": 1.0, "c": 3.0})

    def test_higher_is_better(self):
        r = stats.ratios_to_best({"a": 100.0, "b": 50.0},
                                 higher_is_better=True)
        self.assertEqual(r, {"a": 1.0, "b": 2.0})

    def test_failed_allocator_is_none_and_not_best(self):
        r = stats.ratios_to_best({"fast_but_failed": None, "a": 4.0,
                                  "b": 2.0})
        self.assertIsNone(r["fast_but_failed"])
        self.assertEqual(r["b"], 1.0)
        self.assertEqual(r["a"], 2.0)

    def test_all_failed(self):
        self.assertEqual(stats.ratios_to_best({"a": None, "b": None}),
                         {"a": None, "b": None})

    def test_zero_best_lower_is_better(self):
        r = stats.ratios_to_best({"a": 0, "b": 0, "c": 5})
        self.assertEqual(r, {"a": 1.0, "b": 1.0, "c": None})

    def test_zero_throughput_is_not_a_ratio(self):
        r = stats.ratios_to_best({"a": 0.0, "b": 10.0},
                                 higher_is_better=True)
        self.assertEqual(r, {"a": None, "b": 1.0})


class GeometricMeanTest(unittest.TestCase):
    def test_values(self):
        self.assertAlmostEqual(stats.geometric_mean([1.0, 4.0]), 2.0)
        self.assertAlmostEqual(stats.geometric_mean([2.0, 8.0, 4.0]), 4.0)

    def test_ignores_none(self):
        self.assertAlmostEqual(stats.geometric_mean([None, 9.0, 1.0]), 3.0)

    def test_empty_is_none(self):
        self.assertIsNone(stats.geometric_mean([]))
        self.assertIsNone(stats.geometric_mean([None]))

    def test_non_positive_raises(self):
        with self.assertRaises(ValueError):
            stats.geometric_mean([1.0, 0.0])

    def test_matches_log_definition(self):
        xs = [1.1, 1.7, 2.9, 1.0]
        want = math.exp(sum(map(math.log, xs)) / len(xs))
        self.assertAlmostEqual(stats.geometric_mean(xs), want)


class SpreadTest(unittest.TestCase):
    def test_relative_spread(self):
        self.assertAlmostEqual(stats.relative_spread([1.0, 1.1, 0.9]), 0.2)

    def test_spread_needs_two_values(self):
        self.assertIsNone(stats.relative_spread([1.0]))
        self.assertIsNone(stats.relative_spread([None, 2.0]))


class PercentileTest(unittest.TestCase):
    def test_known_sample(self):
        xs = list(range(1000, 0, -1))       # 1..1000, shuffled order
        self.assertEqual(stats.percentile(xs, 50), 500)
        self.assertEqual(stats.percentile(xs, 99), 990)
        self.assertEqual(stats.percentile(xs, 99.9), 999)
        self.assertEqual(stats.percentile(xs, 100), 1000)

    def test_nearest_rank_is_a_measured_value(self):
        xs = [10, 20, 30, 40]
        self.assertEqual(stats.percentile(xs, 50), 20)
        self.assertEqual(stats.percentile(xs, 51), 30)
        self.assertEqual(stats.percentile(xs, 0.1), 10)
        self.assertEqual(stats.percentile([7], 99.9), 7)

    def test_tail_of_a_skewed_sample(self):
        # 990 fast calls and 10 slow ones: p99 is still fast, p99.9 is not.
        xs = [100] * 990 + [5000 + i for i in range(10)]
        self.assertEqual(stats.percentile(xs, 99), 100)
        self.assertEqual(stats.percentile(xs, 99.9), 5008)

    def test_bad_input(self):
        with self.assertRaises(ValueError):
            stats.percentile([], 50)
        with self.assertRaises(ValueError):
            stats.percentile([1], 0)
        with self.assertRaises(ValueError):
            stats.percentile([1], 101)


class BootstrapTest(unittest.TestCase):
    def sample(self, rng, n, scale):
        # Run times: a floor plus a right-skewed noise, like a shared host.
        return [scale * (1.0 + rng.expovariate(10.0)) for _ in range(n)]

    def test_coverage_on_synthetic_data(self):
        """95 % intervals of the ratio of medians cover the true ratio in
        most trials, whatever the true ratio (1.0 and 1.3 here)."""
        import random
        rng = random.Random(42)
        for true_ratio in (1.0, 1.3):
            covered = 0
            trials = 60
            for _ in range(trials):
                old = self.sample(rng, 25, 1.0)
                new = self.sample(rng, 25, true_ratio)
                ratio, lo, hi = stats.bootstrap_ratio_ci(old, new,
                                                         resamples=400,
                                                         seed=rng.random())
                self.assertLessEqual(lo, ratio)
                self.assertLessEqual(ratio, hi)
                if lo <= true_ratio <= hi:
                    covered += 1
            self.assertGreaterEqual(covered / trials, 0.85, true_ratio)

    def test_real_difference_is_significant_and_none_is_not(self):
        import random
        rng = random.Random(7)
        old = self.sample(rng, 20, 1.0)
        slower = self.sample(rng, 20, 1.5)
        same = self.sample(rng, 20, 1.0)
        self.assertTrue(stats.significant(
            stats.bootstrap_ratio_ci(old, slower)))
        self.assertFalse(stats.significant(
            stats.bootstrap_ratio_ci(old, same)))

    def test_too_few_values(self):
        self.assertIsNone(stats.bootstrap_ratio_ci([1.0], [1.0, 2.0]))
        self.assertIsNone(stats.bootstrap_ratio_ci([1.0, None], [1.0, 2.0]))
        self.assertIsNone(stats.significant(None))

    def test_deterministic(self):
        a, b = [1.0, 1.1, 0.9, 1.2], [1.3, 1.2, 1.4, 1.1]
        self.assertEqual(stats.bootstrap_ratio_ci(a, b),
                         stats.bootstrap_ratio_ci(a, b))


if __name__ == "__main__":
    unittest.main()
