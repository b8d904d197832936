"""Fixtures of the e2e suite; the helpers they use live in tests/support (pipeline, logs, books)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.pipeline import Pipeline, start_pipeline
from tests.support.processes import stop_all


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    """Start every process the way the demo Procfile does, on free ports and a temp data dir."""
    pipe = start_pipeline(tmp_path_factory.mktemp("pipeline"))
    try:
        yield pipe
    finally:
        stop_all(list(pipe.procs.values()))
