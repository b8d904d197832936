"""Load the recorded Binance message shapes in tests/fixtures/binance/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "binance"


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture(name: str) -> Any:
    return json.loads(fixture_text(name))


def frame(obj: Any) -> bytes:
    """Serialize a message the way Binance sends it (compact JSON)."""
    return json.dumps(obj, separators=(",", ":")).encode()
