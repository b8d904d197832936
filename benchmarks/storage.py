"""Section 3: bytes on disk per stored second after full compaction, from the real recordings."""

from __future__ import annotations

from benchmarks import writer_ingest
from benchmarks.result import Budget, Row, Section, verdict

REFERENCE_BYTES = 500  # the earlier implementation's estimate per 20-level snapshot
GOAL_BYTES = 300
DAY = 86_400


def run(budget: Budget) -> Section:
    section = Section(
        "storage",
        "Storage: bytes per stored second after compaction",
        "python -m benchmarks storage",
    )
    result = writer_ingest.stored_bytes_per_snapshot(repeat=1 if budget.smoke else 20)
    families = [k.removesuffix("_disk_bytes") for k in result if k.endswith("_disk_bytes")]
    snap = float(result.get("snapshots_disk_bytes", 0.0))
    total = sum(float(result[f"{f}_disk_bytes"]) for f in families)
    section.rows = [
        Row(
            f"bytes per stored {result['levels_per_side']}-level snapshot (CF snapshots, zstd)",
            f"{snap:,.1f} B",
            f"earlier implementation's estimate: {REFERENCE_BYTES} B",
            f"{snap / REFERENCE_BYTES:.0%}",
            f"≤ {GOAL_BYTES} B",
            verdict(snap <= GOAL_BYTES),
        )
    ]
    for family in families:
        raw = float(result[f"{family}_msgpack_bytes"])
        disk = float(result[f"{family}_disk_bytes"])
        section.rows.append(
            Row(
                f"CF {family}: on disk per second",
                f"{disk:,.1f} B",
                f"msgpack value before compression: {raw:,.1f} B",
                f"{disk / raw:.0%}" if raw else "",
                "",
                "",
            )
        )
    section.rows.append(
        Row(
            "MB per symbol-day (all data families)",
            f"{total * DAY / 1e6:,.1f} MB",
            f"at the 500 B estimate (snapshots only): {REFERENCE_BYTES * DAY / 1e6:.1f} MB",
            "",
            "",
            "",
        )
    )
    section.notes = [
        f"{result['seconds_stored']:,} stored seconds: every real second of the BTCUSDT and "
        "ETHUSDT recordings, written repeatedly over consecutive seconds, then flushed and fully "
        "compacted (`rocksdb.total-sst-files-size`).",
        "The trades of the recordings are raw `@trade` events (~28/s for BTCUSDT); aggregate "
        "trades, which the collector stores, are fewer, so the trades figure is an upper bound.",
    ]
    section.reading = (
        f"A stored 20-level snapshot takes {snap:,.0f} B on disk, "
        + (
            f"{REFERENCE_BYTES / snap:.1f}x smaller than the 500 B estimate and inside the goal. "
            if snap <= GOAL_BYTES
            else f"above the {GOAL_BYTES} B goal. "
        )
        + f"With its trades a symbol-day is {total * DAY / 1e6:,.0f} MB, so seven days of 100 "
        f"symbols need about {total * DAY * 700 / 1e9:,.0f} GB. "
        + (
            "Trades dominate the total: they are stored as individual trades per second and "
            "compress less than books whose levels repeat from second to second."
            if total - snap > snap
            else "Books dominate the total."
        )
    )
    return section
