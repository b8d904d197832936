"""Fixtures of the writer's integration tests: a writer process and fake collectors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.writer.harness import FakeCollector, WriterProc


@pytest.fixture
def writer(tmp_path) -> Iterator[WriterProc]:
    """A writer on free endpoints with its data in tmp_path/data (started by the test)."""
    proc = WriterProc(tmp_path, tmp_path / "data")
    yield proc
    if proc.proc is not None:
        proc.proc.kill()


@pytest.fixture
def collectors() -> Iterator[list[FakeCollector]]:
    """Fake collectors the test starts; all stopped at the end."""
    started: list[FakeCollector] = []
    yield started
    for collector in started:
        collector.stopping.set()
    for collector in started:
        collector.join(5)
