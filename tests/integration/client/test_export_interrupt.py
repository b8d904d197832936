"""A ``booksnap export`` process stopped by Ctrl-C (SIGINT) or SIGTERM leaves no file behind."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from benchmarks.daydata import generate
from tests.integration.client.conftest import BOOKSNAP
from tests.support.waiting import poll_for

SECONDS = 30_000  # long enough that the export is still running when the signal arrives


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory):
    """A long stretch of real-looking BTCUSDT seconds written through the writer's own store."""
    return generate(tmp_path_factory.mktemp("day") / "data", SECONDS)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_export_leaves_no_file(day, tmp_path: Path, signum: int):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = subprocess.Popen(
        [
            BOOKSNAP,
            "export",
            day.symbol,
            "--start",
            str(day.first),
            "--end",
            str(day.end - 1),
            "--out",
            str(out_dir / "day.parquet"),
            "--trades",
            "--data-dir",
            str(day.data_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The temp file exists from the first batch on: the export is under way.
        poll_for(lambda: any(out_dir.iterdir()), 60, interval=0.02, what="the partial file")
        assert proc.poll() is None, "the export finished before it could be interrupted"
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    assert proc.returncode == 130, stderr
    assert "interrupted: no file written" in stderr
    assert "Traceback" not in stderr
    assert list(out_dir.iterdir()) == []
