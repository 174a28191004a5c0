"""Small statistics for break rates: Wilson score intervals and the two-proportion z-test."""

from __future__ import annotations

import math

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of ``successes / trials``; None without trials (no rate to
    bound: an interval of ``[0, 0]`` would claim a certainty no data gives)."""
    if trials <= 0:
        return None
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # exact at the edges: 0 of n has a lower bound of 0 (rounding left 5.6e-17), n of n 1
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def two_proportion_p_value(b1: int, n1: int, b2: int, n2: int) -> float | None:
    """Two-sided p-value that ``b1/n1`` and ``b2/n2`` differ (pooled z-test); None without data.

    When both proportions are 0 (or both 1) there is no variance and no evidence of a
    difference: the p-value is 1.0.
    """
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (b1 + b2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 1.0
    z = (b2 / n2 - b1 / n1) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))
