"""The baseline tests behind spoofing and iceberg findings, checked against direct formulas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from query.analytics.evidence import (
    FIRE_EVIDENCE,
    confidence_from,
    corrected,
    rate_evidence,
    share_evidence,
)


def binomial_tail(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, x) * p**x * (1 - p) ** (n - x) for x in range(k, n + 1))


@pytest.mark.parametrize(
    ("k", "n_b", "t_w", "t_b"), [(1, 0, 60, 600), (5, 10, 60, 300), (24, 64, 60, 389)]
)
def test_rate_evidence_is_the_conditional_binomial_tail(k, n_b, t_w, t_b):
    p = binomial_tail(k, k + n_b, t_w / (t_w + t_b))
    assert rate_evidence(k, n_b, t_w, t_b) == pytest.approx(-math.log10(p))


def test_rate_evidence_without_baseline_or_events_is_zero():
    assert rate_evidence(10, 0, 60, 0) == 0.0
    assert rate_evidence(0, 5, 60, 600) == 0.0


def test_rate_evidence_does_not_underflow():
    # 200 events in the window, none in the baseline: p = (1/11)^200 ~ 1e-208.
    assert rate_evidence(200, 0, 60, 600) == pytest.approx(200 * math.log10(11))


def test_share_evidence_is_fishers_exact_tail():
    # 3 of 3 window hits refilled, 0 of 60 baseline hits: p = 1 / C(63, 3).
    assert share_evidence(3, 3, 60, 0) == pytest.approx(math.log10(math.comb(63, 3)))
    # The same share as the baseline is no evidence at all.
    assert share_evidence(10, 1, 100, 10) < 0.5


@given(st.integers(1, 30), st.integers(0, 200), st.integers(1, 300), st.integers(1, 600))
def test_more_window_events_more_evidence(k, n_b, t_w, t_b):
    assert rate_evidence(k + 1, n_b, t_w, t_b) >= rate_evidence(k, n_b, t_w, t_b)


def test_confidence_rises_with_evidence_from_the_firing_line():
    assert confidence_from(FIRE_EVIDENCE) == 0.5
    assert confidence_from(12.0) == confidence_from(40.0) == 1.0
    values = [confidence_from(FIRE_EVIDENCE + x / 2) for x in range(17)]
    assert values == sorted(values)
    assert corrected(5.0, 10) == pytest.approx(4.0)
    assert corrected(0.5, 100) == 0.0
