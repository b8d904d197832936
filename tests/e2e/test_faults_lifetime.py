"""Connection lifetime: the exchange cuts every connection after a while (Binance: 24 h).

The simulator cuts connections after 16 s here and the collectors replace theirs after 7 s, so
within the drill each symbol hands over several times; not a second may be lost to that.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.books import book_problems
from tests.support.logs import ranges
from tests.support.pipeline import now_second, start_pipeline
from tests.support.processes import stop_all
from tests.support.waiting import poll_for


def test_connection_lifetime_handovers_lose_no_second(tmp_path: Path) -> None:
    pipe = start_pipeline(
        tmp_path,
        env={"BOOKSNAP_MAX_CONNECTION_AGE": "7"},
        sim_args=("--max-connection-seconds", "16"),
    )
    try:
        start = now_second() + 1
        poll_for(
            lambda: all(
                pipe.log("collector").count(f"[{s}]") and _switches(pipe.log("collector"), s) >= 2
                for s in pipe.symbols
            ),
            60,
            interval=0.5,
            what="two handovers per symbol",
        )
        end = now_second() + 1
        pipe.wait_stored_through(end)
        missing = pipe.lost(pipe.settle_coverage(start, end))
        for symbol in pipe.symbols:
            assert missing[symbol] == [], f"{symbol} lost {ranges(missing[symbol])}"
            assert not book_problems(pipe.data_dir, tmp_path / f"c-{symbol}", symbol, start, end)
        assert "reached its maximum age" in pipe.log("collector")
    finally:
        stop_all(list(pipe.procs.values()))


def _switches(log: str, symbol: str) -> int:
    return sum(
        1
        for line in log.splitlines()
        if f"[{symbol}]" in line and "switched from connection" in line
    )
