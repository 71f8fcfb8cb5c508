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


if __name__ == "__main__":
    unittest.main()
