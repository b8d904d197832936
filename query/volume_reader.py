"""Traded volume per exact price over a period, read mostly from the writer's aggregates.

Exactly the sum of the stored trades: whole hours come from ``volume_hours``, whole minutes from
``volume``, and raw trades only for the ragged edges and for any hour/minute without an aggregate
(a database from before the aggregates, or a period the writer could not aggregate; see
docs/storage.md). The results go into a ``VolumeSink``: numpy chunks for the volume profile
(``volume_columns``) or price-keyed maps (``volume_rows``, for tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Protocol

from query.analytics.profile.merge import VolumeColumns
from query.reader import SecondaryReader
from shared import storage
from shared.codec import decode_trades
from shared.volume import HOUR, MINUTE, Volume, trade_columns


class VolumeSink(Protocol):
    """Where ``read_volume`` puts what it reads (``VolumeColumns`` or a ``_VolumeMaps``)."""

    def add_aggregate(self, value: bytes, origin: Hashable) -> None: ...

    def add_trades(
        self, prices: Iterable[int], qtys: Iterable[int], buyer_maker: Iterable[bool]
    ) -> None: ...


class _VolumeMaps:
    """A VolumeSink that sums into a ``Volume`` (price-keyed maps)."""

    def __init__(self, volume: Volume) -> None:
        self.volume = volume
        self.add_trades = volume.add_trades

    def add_aggregate(self, value: bytes, origin: Hashable) -> None:
        self.volume.add(Volume.decode(value))


def volume_rows(reader: SecondaryReader, symbol: str, first: int, last: int) -> Volume:
    """Traded volume per exact price over the seconds ``first..last`` (inclusive)."""
    rows = Volume()
    read_volume(reader, _VolumeMaps(rows), symbol, first, last)
    return rows


def volume_columns(reader: SecondaryReader, symbol: str, first: int, last: int) -> VolumeColumns:
    """``volume_rows`` collected as numpy chunks (merged by the caller, with numpy)."""
    columns = VolumeColumns(reader.volume_cache)
    read_volume(reader, columns, symbol, first, last)
    return columns


def read_volume(
    reader: SecondaryReader, sink: VolumeSink, symbol: str, first: int, last: int
) -> None:
    """Feed every aggregate and raw trade that makes up ``first..last`` into ``sink``."""
    if last < first:
        return
    minutes_from = -(-first // MINUTE) * MINUTE
    minutes_to = (last + 1) // MINUTE * MINUTE  # exclusive
    if minutes_from >= minutes_to:
        _add_raw(reader, sink, symbol, first, last)
        return
    _add_raw(reader, sink, symbol, first, minutes_from - 1)
    hours_from = -(-minutes_from // HOUR) * HOUR
    hours_to = minutes_to // HOUR * HOUR
    if hours_from < hours_to:
        _add_minutes(reader, sink, symbol, minutes_from, hours_from)
        missing = _add_aggregates(
            reader,
            sink,
            symbol,
            (hours_from, hours_to),
            family=storage.VOLUME_HOURS_CF,
            length=HOUR,
        )
        for start, end in missing:
            _add_minutes(reader, sink, symbol, start, end)
        _add_minutes(reader, sink, symbol, hours_to, minutes_to)
    else:
        _add_minutes(reader, sink, symbol, minutes_from, minutes_to)
    _add_raw(reader, sink, symbol, minutes_to, last)


def _add_minutes(
    reader: SecondaryReader, sink: VolumeSink, symbol: str, start: int, end: int
) -> None:
    """Whole minutes ``start..end`` (exclusive end): aggregates, raw trades where absent."""
    for gap_start, gap_end in _add_aggregates(
        reader, sink, symbol, (start, end), family=storage.VOLUME_CF, length=MINUTE
    ):
        _add_raw(reader, sink, symbol, gap_start, gap_end - 1)


def _add_aggregates(
    reader: SecondaryReader,
    sink: VolumeSink,
    symbol: str,
    span: tuple[int, int],
    *,
    family: str,
    length: int,
) -> list[tuple[int, int]]:
    """Add the aggregates (periods of ``length`` s) within ``span`` = ``[start, end)``.

    Returns the ranges ``[from, to)`` that have no aggregate.
    """
    start, end = span
    if end <= start:
        return []
    if not reader.has_family(family):
        return [span]  # a database from before the aggregates existed
    missing: list[tuple[int, int]] = []
    expected = start
    for period, value in storage.iter_range(reader.family(family), symbol, start, end - 1):
        if period % length:
            continue  # not a period key (never written so); its seconds are read raw
        if period > expected:
            missing.append((expected, period))
        sink.add_aggregate(value, (family, symbol, period))
        expected = period + length
    if expected < end:
        missing.append((expected, end))
    return missing


def _add_raw(reader: SecondaryReader, sink: VolumeSink, symbol: str, first: int, last: int) -> None:
    for _, value in storage.iter_range(reader.family(storage.TRADES_CF), symbol, first, last):
        sink.add_trades(*trade_columns(decode_trades(value).trades))
