"""Hypothesis strategies: valid books over consecutive seconds, and trades within them."""

from __future__ import annotations

from hypothesis import strategies as st

from shared.model import BookSnapshot, Trade

TICK = 1_000_000  # 0.01
CENTER = 10_000  # ticks, so prices stay around 100.00


@st.composite
def books(draw, max_levels: int = 25) -> tuple[tuple, tuple]:
    mid = draw(st.integers(CENTER - 5, CENTER + 5))
    qty = st.integers(1, 10**9)
    bid_offsets = sorted(draw(st.sets(st.integers(0, 40), min_size=1, max_size=max_levels)))
    ask_offsets = sorted(draw(st.sets(st.integers(0, 40), min_size=1, max_size=max_levels)))
    bids = tuple(((mid - 1 - o) * TICK, draw(qty)) for o in bid_offsets)
    asks = tuple(((mid + 1 + o) * TICK, draw(qty)) for o in ask_offsets)
    return bids, asks


@st.composite
def sessions(draw, min_size: int = 2, max_size: int = 12, start: int = 1000):
    """Snapshots of consecutive seconds (some seconds possibly missing) plus trades."""
    count = draw(st.integers(min_size, max_size))
    snaps = []
    update_id = 1000
    for i in range(count):
        if i and draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()):
            continue  # a missing second now and then
        bids, asks = draw(books())
        update_id += draw(st.integers(0, 500))
        event = (start + i) * 1000 + draw(st.integers(0, 999))  # the book's last depth event
        snaps.append(
            BookSnapshot("TESTUSDT", start + i, 1, i + 1, update_id, event, event, bids, asks)
        )
    trades = []
    for n in range(draw(st.integers(0, 30))):
        second = start + draw(st.integers(0, count - 1))
        price = draw(st.integers(CENTER - 45, CENTER + 45)) * TICK
        trades.append(
            Trade(
                n + 1,
                price,
                draw(st.integers(1, 10**9)),
                second * 1000 + draw(st.integers(0, 999)),
                draw(st.booleans()),
            )
        )
    return snaps, trades
