"""get_liquidity_vacuums as docs/analytics.md defines it."""

from __future__ import annotations

from decimal import Decimal
from math import gcd

from shared.model import BookSnapshot
from tests.reference.common import BPS, RefInsufficient, books_in, d, fixed, median, two_sided


def mean(xs: list[Decimal]) -> Decimal:
    return sum(xs, Decimal(0)) / len(xs)


def vacuums(snapshots: list[BookSnapshot], start: int, end: int, threshold: Decimal) -> dict:
    books = [b for b in books_in(snapshots, start, end) if two_sided(b)]
    if len(books) < 10:
        raise RefInsufficient("two-sided snapshots")
    tick = 0
    for b in books:
        for p, _ in (*b.bids, *b.asks):
            tick = gcd(tick, p)
    spans = []
    for b in books:
        spans.append(abs(b.bids[0][0] - b.bids[-1][0]) // tick)
        spans.append(abs(b.asks[-1][0] - b.asks[0][0]) // tick)
    spans.sort()
    median_low = spans[(len(spans) - 1) // 2]
    width = max(1, median_low // 20)
    samples: dict[str, list[list[Decimal]]] = {
        "bid": [[] for _ in range(20)],
        "ask": [[] for _ in range(20)],
    }
    for b in books:
        for side, levels in (("bid", b.bids), ("ask", b.asks)):
            best = levels[0][0]
            depth = [Decimal(0)] * 20
            for p, q in levels:
                k = abs(best - p) // tick
                if k // width < 20:
                    depth[k // width] += d(q)
            k_last = abs(best - levels[-1][0]) // tick
            for bucket in range(min(20, (k_last + 1) // width)):
                samples[side][bucket].append(depth[bucket])
    latest = books[-1]
    ref_mid = (d(latest.bids[0][0]) + d(latest.asks[0][0])) / 2
    half_spread = (d(latest.asks[0][0]) - d(latest.bids[0][0])) / 2
    found = []
    typical_of: dict[str, Decimal] = {}
    for side in ("bid", "ask"):
        judged = [k for k in range(20) if len(samples[side][k]) >= Decimal("0.5") * len(books)]
        if not judged:
            typical_of[side] = Decimal(0)
            continue
        actual = {k: mean(samples[side][k]) for k in judged}
        typical = median(list(actual.values()))
        typical_of[side] = typical
        runs: list[list[int]] = []
        for k in judged:
            if typical > 0 and actual[k] < threshold * typical:
                if runs and runs[-1][-1] == k - 1:
                    runs[-1].append(k)
                else:
                    runs.append([k])
        for run in runs:
            run_actual = mean([actual[k] for k in run])
            empty = mean(
                [
                    Decimal(sum(1 for x in samples[side][k] if x == 0)) / len(samples[side][k])
                    for k in run
                ]
            )
            deficit = 100 * (1 - run_actual / typical)
            near = d(run[0] * width * tick)
            far = d((run[-1] + 1) * width * tick)
            t = d(tick)
            if side == "bid":
                touch = d(latest.bids[0][0])
                low, high = touch - far + t, touch - near
            else:
                touch = d(latest.asks[0][0])
                low, high = touch + near, touch + far - t
            found.append(
                (
                    (-deficit, run[0], side),
                    {
                        "side": side,
                        "price_range_low": fixed(low),
                        "price_range_high": fixed(high),
                        "distance_from_touch_low": fixed(near),
                        "distance_from_touch_high": fixed(far),
                        "distance_from_mid_bps_low": (half_spread + near) / ref_mid * BPS,
                        "distance_from_mid_bps_high": (half_spread + far) / ref_mid * BPS,
                        "range_width_bps": (far - near) / ref_mid * BPS,
                        "volume_deficit_pct": deficit,
                        "median_volume": typical,
                        "actual_volume": run_actual,
                        "empty_fraction": empty,
                        "is_gap": empty >= Decimal("0.9"),
                        "expected_impact": "FastMovement"
                        if deficit > 80
                        else "ModerateMovement"
                        if deficit > 50
                        else "Negligible",
                    },
                )
            )
    found.sort(key=lambda x: x[0])
    return {
        "symbol": books[0].symbol,
        "window_start": start,
        "window_end": end,
        "window_seconds": end - start,
        "snapshots_used": len(books),
        "trades_used": 0,
        "threshold": float(threshold),
        "symbol_tick": fixed(d(tick)),
        "bucket_width_ticks": width,
        "bucket_width": fixed(d(width * tick)),
        "bucket_width_bps": d(width * tick) / ref_mid * BPS,
        "buckets_per_side": 20,
        "reference_second": latest.second,
        "reference_mid": ref_mid,
        "typical_bucket_depth": typical_of,
        "vacuums": [v for _, v in found],
    }
