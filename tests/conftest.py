"""Fixtures for every suite. Process and socket helpers live in tests/support."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

REPO = Path(__file__).resolve().parents[1]
RECORDINGS = REPO / "simulator" / "recordings" / "hftbacktest" / "spot"


@pytest.fixture
def recordings() -> Path:
    """The real Binance recordings shipped with the simulator."""
    return RECORDINGS


@pytest.fixture
def zmq_context() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    """A private context; every socket made from it is closed with linger=0 afterwards."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.destroy(linger=0)
