"""How surprising a window is against its own baseline, and the confidence that follows.

Detectors count events in the window and in the baseline before it. Under "nothing changed"
the events fall into window and baseline in proportion to their lengths, so the window's share
of the combined count is binomial (the conditional test for two Poisson rates). Tail sums use
exact integers, so even a p-value of 1e-40 is computed without underflow; results are given as
``evidence = -log10(p)`` (higher = stronger) and never as an inverted p-value.
"""

from __future__ import annotations

import math

from query.analytics.measures import clamp

FIRE_EVIDENCE = 4.0  # report only when p <= 1e-4 (after correcting for the tests made)
FULL_EVIDENCE = 12.0  # confidence reaches 1 at p = 1e-12
MIN_CONFIDENCE = 0.5  # the confidence of a finding just at the firing line


def rate_evidence(
    window_count: int, baseline_count: int, window_span: int, base_span: int
) -> float:
    """-log10 P(window holds >= window_count of all events | equal rates in both spans).

    Spans are the seconds (or other exposure) in which events could have been seen. With no
    baseline span the window cannot be compared with anything: evidence 0.
    """
    if window_count <= 0 or window_span <= 0 or base_span <= 0:
        return 0.0
    total = window_count + baseline_count
    # P = sum_{x>=k} C(n,x) a^x b^(n-x) / (a+b)^n, with a, b the integer spans.
    tail = sum(
        math.comb(total, x) * window_span**x * base_span ** (total - x)
        for x in range(window_count, total + 1)
    )
    return log10_ratio((window_span + base_span) ** total, tail)


def share_evidence(hits: int, successes: int, base_hits: int, base_successes: int) -> float:
    """-log10 P(>= successes of hits | the baseline's success share), Fisher's exact test.

    Used where the exposure is a count of chances (e.g. heavy hits on a level) rather than time.
    """
    if successes <= 0 or hits <= 0:
        return 0.0
    population = hits + base_hits
    good = successes + base_successes
    tail = sum(
        math.comb(good, x) * math.comb(population - good, hits - x)
        for x in range(successes, min(good, hits) + 1)
    )
    return log10_ratio(math.comb(population, hits), tail)


def log10_ratio(numerator: int, denominator: int) -> float:
    """log10(numerator / denominator) of two positive (possibly huge) integers; 0 if undefined."""
    if numerator <= 0 or denominator <= 0:
        return 0.0
    try:
        # int / int is correctly rounded however large the ints, so near a ratio of 1 (evidence
        # near 0) this stays exact and monotone; the difference of two log10s would carry ~1e-14
        # of rounding noise in either direction.
        return max(0.0, math.log1p((numerator - denominator) / denominator) / math.log(10))
    except OverflowError:  # a ratio beyond 1e308: the logs' rounding no longer matters
        return max(0.0, math.log10(numerator) - math.log10(denominator))


def corrected(evidence: float, tests: int) -> float:
    """Bonferroni: the evidence left after making ``tests`` comparisons in one window."""
    return max(0.0, evidence - math.log10(max(tests, 1)))


def confidence_from(evidence: float) -> float:
    """0.5 at the firing line (p = 1e-4), rising linearly in -log10 p to 1 at p = 1e-12."""
    span = FULL_EVIDENCE - FIRE_EVIDENCE
    return clamp(MIN_CONFIDENCE + (1 - MIN_CONFIDENCE) * (evidence - FIRE_EVIDENCE) / span)


def p_value(evidence: float) -> float:
    """The p-value behind an evidence figure (for the evidence record; may underflow to 0)."""
    return 10.0 ** (-evidence)
