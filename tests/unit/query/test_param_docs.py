"""docs/analytics.md's parameter table is the definition: every row agrees with the handlers."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from query.analytics import ParameterError, params
from query.handlers import DbHandlers
from query.live import LiveBooks
from query.live_handlers import LiveHandlers
from query.reader import NoDataYet, SecondaryReader
from shared.protocol import RequestError
from tests.support.clock import FakeClock
from tests.unit.query.test_handlers import NOW

DOCS = Path(__file__).resolve().parents[3] / "docs" / "analytics.md"
HEADER = "| method | parameter | validator | range | default |"


def table_rows() -> list[dict[str, str]]:
    """The rows of the parameter table (the one under HEADER)."""
    lines = DOCS.read_text().splitlines()
    start = lines.index(HEADER) + 2
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows.append(
            dict(zip(("method", "param", "validator", "range", "default"), cells, strict=True))
        )
    return rows


ROWS = table_rows()


def outcome(handlers: DbHandlers, live: LiveHandlers, row: dict[str, str], value: Any) -> str:
    """'rejected' (ParameterError naming the parameter) or 'accepted' (it got to the data)."""
    method = row["method"]
    request = {"symbol": "BTCUSDT", row["param"]: value}
    try:
        if method in live.methods:
            live.methods[method](request)
        else:
            handlers.methods[method](request, {})
    except ParameterError as exc:
        return "rejected" if exc.param == row["param"] else f"rejected as {exc.param}"
    except (NoDataYet, RequestError):
        return "accepted"  # valid parameters, then no database / no live book
    raise AssertionError("neither rejected nor looked for data")


def probes(text: str) -> tuple[list[Any], list[Any]]:
    """(values the documented range accepts, values just outside it) for a range cell."""
    if m := re.fullmatch(r"(\d+)\.\.(\d+)", text):
        low, high = int(m[1]), int(m[2])
        return [low, high, str(high)], [low - 1, high + 1, str(high + 1)]
    if text == "0 < x < 1":
        return [0.001, 0.999, "0.5"], [0, 1, -0.1, "1.5"]
    if text == "> 0, ≤ 8 decimals":
        return ["0.00000001", "0.5", 10], ["0", "-1", "0.000000001"]
    raise AssertionError(f"unknown range syntax in docs: {text!r}")


def test_the_table_covers_every_method_with_parameters():
    methods = {r["method"] for r in ROWS}
    assert {"get_order_flow", "get_volume_profile", "get_liquidity_vacuums", "orderbook_l2"} <= (
        methods
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['method']}.{r['param']}")
def test_documented_range_is_what_the_handler_accepts(row, tmp_path: Path):
    clock = FakeClock(NOW, monotonic=0.0)
    handlers = DbHandlers(SecondaryReader(tmp_path / "db", tmp_path / "secondary"), clock)
    live = LiveHandlers(LiveBooks(clock, ("BTCUSDT",)), clock)
    good, bad = probes(row["range"])
    for value in good:
        assert outcome(handlers, live, row, value) == "accepted", value
    for value in bad:
        assert outcome(handlers, live, row, value) == "rejected", value


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['method']}.{r['param']}")
def test_documented_default_is_the_validators(row):
    validator = getattr(params, row["validator"])
    default = validator(None)
    if row["default"] == "none":
        assert default is None
    else:
        assert Decimal(str(default)) == Decimal(row["default"])
