"""What every anomaly detector shares: its input (``Context``) and its record (``anomaly``)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from query.analytics.window import Pair
from shared.fixedpoint import format_fixed
from shared.model import BookSnapshot, Level, Trade

MAX_REPORTED_PER_TYPE = 5
NO_HITS: tuple[dict[int, int], dict[int, int]] = ({}, {})


@dataclass(frozen=True)
class Context:
    """What the detectors look at: window/baseline snapshots, pairs and trades."""

    window_start: int
    window_end: int
    window: list[BookSnapshot]
    baseline: list[BookSnapshot]
    window_pairs: list[Pair]
    baseline_pairs: list[Pair]
    window_trades: list[Trade]
    baseline_trades: list[Trade]
    snaps_by_second: dict[int, BookSnapshot]
    # second s -> the trades between the books s-1 and s (``window.trades_by_pair``)
    pair_trades: dict[int, list[Trade]]
    # second s -> (qty per price that hit the bids, ... the asks) between the books s-1 and s
    # (``window.trades_by_pair``); built once, read by several detectors.
    hits_of: dict[int, tuple[dict[int, int], dict[int, int]]]

    def trades_of(self, second: int) -> list[Trade]:
        """The trades between book second-1 and book second."""
        return self.pair_trades.get(second, [])

    def hits(self, second: int) -> tuple[dict[int, int], dict[int, int]]:
        """Traded quantity per price against the bids and the asks from book second-1 to second."""
        return self.hits_of.get(second, NO_HITS)


def severity(confidence: float) -> str:
    """The earlier API's severity labels, from confidence."""
    if confidence > 0.95:
        return "Critical"
    if confidence > 0.85:
        return "High"
    if confidence > 0.7:
        return "Medium"
    return "Low"


def anomaly(
    symbol: str,
    kind: str,
    *,
    confidence: float,
    second: int,
    prices: Sequence[int],
    action: str,
    evidence: dict[str, object],
) -> dict[str, object]:
    """One anomaly record; its id is a digest of its content, so re-running gives the same id."""
    digest = hashlib.sha1(f"{symbol}|{kind}|{second}|{list(prices)}".encode()).hexdigest()[:16]
    return {
        "anomaly_id": digest,
        "type": kind,
        "anomaly_type": kind,
        "severity": severity(confidence),
        "confidence": confidence,
        "confidence_score": confidence,
        "detection_timestamp": second,
        "affected_price_levels": [format_fixed(p) for p in prices],
        "recommended_action": action,
        "evidence": evidence,
    }


def level_map(levels: Sequence[Level]) -> dict[int, int]:
    """price -> qty of one side."""
    return dict(levels)
