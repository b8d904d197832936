"""What a stored book must be: sorted, uncrossed, fresh and never going backwards."""

from __future__ import annotations

from pathlib import Path

from shared.codec import decode_book
from shared.storage import SNAPSHOTS_CF, db_path, iter_range, open_secondary


def book_problems(data_dir: Path, check_dir: Path, symbol: str, first: int, last: int) -> list[str]:
    """Why stored snapshots of ``first..last`` are wrong: unsorted, crossed, going backwards."""
    reader = open_secondary(db_path(data_dir), check_dir)
    problems: list[str] = []
    try:
        reader.try_catch_up_with_primary()
        family = reader.get_column_family(SNAPSHOTS_CF)
        last_update = 0
        for second, value in iter_range(family, symbol, first, last):
            snap = decode_book(value)
            bids = [price for price, _ in snap.bids]
            asks = [price for price, _ in snap.asks]
            if snap.symbol != symbol or snap.second != second:
                problems.append(f"{second}: key and record disagree ({snap.symbol} {snap.second})")
            if not bids or not asks:
                problems.append(f"{second}: an empty side")
                continue
            if bids != sorted(set(bids), reverse=True) or asks != sorted(set(asks)):
                problems.append(f"{second}: levels not strictly sorted")
            if bids[0] >= asks[0]:
                problems.append(f"{second}: crossed book, bid {bids[0]} >= ask {asks[0]}")
            if any(qty <= 0 for _, qty in (*snap.bids, *snap.asks)):
                problems.append(f"{second}: a level with a non-positive quantity")
            # Binance update ids only grow: a record older than the one before is a stale book
            if snap.update_id < last_update:
                problems.append(f"{second}: update id {snap.update_id} < {last_update}")
            last_update = snap.update_id
            # the book of second S was taken at the end of S, from data received by then
            if snap.ts_recv > (second + 1) * 1000 + 1000:
                problems.append(f"{second}: received at {snap.ts_recv} ms, after its second")
            # the depth stream updates every 100 ms: a book seconds old is a stale book
            if snap.ts_recv < (second + 1) * 1000 - 5000:
                problems.append(f"{second}: stale book, last event received at {snap.ts_recv}")
    finally:
        reader.close()
    return problems
