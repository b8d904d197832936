"""Request weights and incoming-message limits."""

from __future__ import annotations

import pytest

from simulator.limits import STRIKES_BEFORE_BAN, MessageRate, WeightLimiter, depth_weight


@pytest.mark.parametrize(
    ("limit", "weight"),
    [(1, 5), (100, 5), (101, 25), (500, 25), (501, 50), (1000, 50), (1001, 250), (5000, 250)],
)
def test_depth_weight_table(limit, weight):
    assert depth_weight(limit) == weight


def test_weight_window_429_then_418_then_reset():
    limiter = WeightLimiter(limit=1000, ban_seconds=30)
    now = 600.0  # the start of a minute
    verdicts = [limiter.charge("1.2.3.4", 250, now + i * 0.01) for i in range(4)]
    assert [v.status for v in verdicts] == [200] * 4
    assert verdicts[-1].used == 1000
    over = limiter.charge("1.2.3.4", 5, now + 1)
    assert over.status == 429
    assert over.retry_after == 59
    assert over.used == 1000
    assert limiter.charge("5.6.7.8", 5, now + 1).status == 200  # per IP
    statuses = [limiter.charge("1.2.3.4", 5, now + 2).status for _ in range(STRIKES_BEFORE_BAN)]
    assert statuses[-1] == 418
    banned = limiter.charge("1.2.3.4", 5, now + 20)
    assert banned.status == 418
    assert banned.retry_after == 12
    assert limiter.charge("1.2.3.4", 5, now + 40).status == 429  # ban over, minute still full
    assert limiter.charge("1.2.3.4", 5, now + 61).status == 200  # new minute, ban over


def test_weight_resets_each_minute():
    limiter = WeightLimiter(limit=100)
    assert limiter.charge("ip", 100, 59.9).status == 200
    assert limiter.charge("ip", 5, 59.95).status == 429
    fresh = limiter.charge("ip", 5, 60.0)
    assert fresh.status == 200
    assert fresh.used == 5
    assert limiter.used("ip", 60.5) == 5
    assert limiter.used("ip", 121) == 0


def test_message_rate_five_per_second():
    rate = MessageRate(5)
    assert all(rate.hit(0.1 * i) for i in range(5))
    assert not rate.hit(0.55)
    fresh = MessageRate(5)
    assert all(fresh.hit(0.25 * i) for i in range(20))  # 4 a second is fine forever
