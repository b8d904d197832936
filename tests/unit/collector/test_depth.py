"""Snapshot depth: the horizon a snapshot vouches for, the limits, and the refresh that replaces
a book nearing its horizon without losing sync."""

from __future__ import annotations

import json

from collector.depth import (
    UNBOUNDED_ASK,
    Horizon,
    clip,
    first_limit,
    horizon_of,
    inside,
    next_limit,
)
from collector.rest import HttpReply, RestGate, SnapshotFetcher
from collector.resync import Resync
from collector.summary import Counters
from collector.sync import BookSync
from collector.wire import DepthUpdate
from tests.unit.collector.test_rest import FakeClock

P = 100_000_000


def test_the_horizon_is_the_worst_level_of_a_full_side_and_none_for_a_whole_side():
    bids = [(100 * P, P), (99 * P, P), (98 * P, P)]
    asks = [(101 * P, P), (102 * P, P)]

    assert horizon_of(bids, asks, 3) == Horizon(98 * P, UNBOUNDED_ASK)  # asks came whole
    assert horizon_of(bids, asks, 2) == Horizon(98 * P, 102 * P)
    assert inside(99 * P, 102 * P, Horizon(98 * P, 102 * P))
    assert inside(None, None, Horizon(98 * P, 102 * P))
    assert not inside(97 * P, None, Horizon(98 * P, 102 * P))
    assert not inside(None, 103 * P, Horizon(98 * P, 102 * P))
    assert clip(((99 * P, 1), (97 * P, 1)), ((103 * P, 1),), Horizon(98 * P, 102 * P)) == (
        ((99 * P, 1),),
        (),
    )


def test_limits_start_cheap_and_step_up_to_the_ceiling():
    assert first_limit(20, 1000) == 100
    assert first_limit(300, 1000) == 1000
    assert first_limit(20, 50) == 50
    assert next_limit(100, 1000) == 500
    assert next_limit(500, 1000) == 1000
    assert next_limit(1000, 1000) == 1000


def ev(first: int, last: int, bids=(), asks=()) -> DepthUpdate:
    return DepthUpdate(E=1, s="BTCUSDT", U=first, u=last, b=list(bids), a=list(asks))


def snapshot_body(last_id: int, bids, asks) -> bytes:
    def fmt(levels):
        return [[f"{p / P:.8f}", f"{q / P:.8f}"] for p, q in levels]

    return json.dumps({"lastUpdateId": last_id, "bids": fmt(bids), "asks": fmt(asks)}).encode()


def make_resync(
    sync: BookSync,
    fetcher: SnapshotFetcher,
    clock: FakeClock,
    *,
    limit: int,
    symbol: str = "BTCUSDT",
    probe_interval: float = 5.0,
) -> Resync:
    return Resync(
        symbol,
        sync=sync,
        fetcher=fetcher,
        clock=clock,
        counters=Counters(),
        on_gap=lambda reason: None,
        probe_interval=probe_interval,
        limit=limit,
        max_limit=1000,
    )


def test_a_refresh_replaces_the_book_at_the_same_update_id_with_a_new_horizon():
    clock = FakeClock()
    replies: list[bytes] = []
    fetcher = SnapshotFetcher(
        "http://x/api/v3/depth?symbol=BTCUSDT",
        RestGate(clock, 0, 6000),
        1.0,
        get=lambda url, timeout: HttpReply(200, {}, replies.pop(0)),
    )
    sync = BookSync()
    resync = make_resync(sync, fetcher, clock, limit=2)

    def step(event: DepthUpdate | None = None) -> None:
        if event is not None:
            sync.on_event(event)
            resync.on_event(event, 0)
        resync.poll()
        if fetcher._thread is not None:
            fetcher._thread.join(5)
        resync.poll()

    # Synced from a 2-level snapshot: bids down to 99 are vouched for.
    replies.append(snapshot_body(10, [(100 * P, P), (99 * P, P)], [(101 * P, P), (102 * P, P)]))
    step(ev(10, 11))
    assert sync.synced
    assert sync.horizon == Horizon(99 * P, 102 * P)

    # The bids fall away; a refresh syncs a new book beside the live one.
    clock.t += 400  # long after the last snapshot: no need to deepen
    resync.refresh("test")
    replies.append(snapshot_body(12, [(99 * P, P), (98 * P, 3 * P)], [(101 * P, P), (102 * P, P)]))
    step(ev(12, 12, bids=[(100 * P, 0)]))  # the request goes, its reply lands: the new book
    assert resync.shadow is not None  # waits for the event after its snapshot
    old_book = sync.book
    step(ev(13, 13, bids=[(98 * P, 2 * P)]))  # both books take it: same id, swapped

    assert resync.shadow is None
    assert resync.refreshes == 1
    assert sync.book is not old_book
    assert sync.synced
    assert sync.update_id == 13
    assert sync.horizon == Horizon(98 * P, 102 * P)
    assert sync.book.top(5) == (((99 * P, P), (98 * P, 2 * P)), ((101 * P, P), (102 * P, P)))
    assert resync.limit == 2  # the last snapshot was long ago: no deeper one needed
    assert "limit=2" in fetcher.url + f"&limit={fetcher.limit}"


def test_a_refresh_needed_soon_after_the_last_snapshot_asks_for_more_levels():
    clock = FakeClock()
    body = snapshot_body(10, [(P, P)], [(2 * P, P)])
    fetcher = SnapshotFetcher(
        "http://x", RestGate(clock, 0, 6000), 1.0, get=lambda url, t: HttpReply(200, {}, body)
    )
    sync = BookSync()
    resync = make_resync(sync, fetcher, clock, limit=100)
    sync.on_event(ev(10, 11))
    resync.poll()
    assert fetcher._thread is not None
    fetcher._thread.join(5)
    resync.poll()
    assert sync.synced

    clock.t += 60
    resync.refresh("near the horizon")  # a minute after the last snapshot: too soon
    assert resync.limit == 500
    assert fetcher.gate.cost == 25


def test_a_quiet_symbol_syncs_with_the_snapshot_its_probe_already_fetched():
    clock = FakeClock()
    body = snapshot_body(10, [(P, P)], [(2 * P, P)])
    urls: list[str] = []

    def get(url: str, timeout: float) -> HttpReply:
        urls.append(url)
        return HttpReply(200, {}, body)

    fetcher = SnapshotFetcher(
        "http://x/api/v3/depth?symbol=QUIETUSDT", RestGate(clock, 0, 6000), 1.0, get=get
    )
    sync = BookSync()
    resync = make_resync(sync, fetcher, clock, limit=100, symbol="QUIETUSDT", probe_interval=10.0)
    clock.t += 2  # nothing buffered yet: the probe goes
    resync.poll()
    assert fetcher._thread is not None
    fetcher._thread.join(5)
    resync.poll()
    assert not sync.synced

    sync.on_event(ev(11, 11))  # the first event, long after: it continues the probe's snapshot
    clock.t += 30
    resync.poll()

    assert sync.synced
    assert sync.update_id == 11
    assert urls == ["http://x/api/v3/depth?symbol=QUIETUSDT&limit=100"]  # one request only
