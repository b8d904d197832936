"""Bad option values found by the generated-input test (tests/unit/client/
test_cli_hostile_options.py), run as the real processes: one error line, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BOOKSNAP = str(Path(sys.executable).parent / "booksnap")
LONG = "x" * 5000  # a file name longer than the system allows


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([BOOKSNAP, "l1", "BTCUSDT", "--timeout", "nan"], "'nan' is not a finite number"),
        ([BOOKSNAP, "health", "BTCUSDT", "--keys-dir", LONG], "File name too long"),
        (
            [BOOKSNAP, "export", "BTCUSDT", "--start", "-1h", "--out", LONG],
            "File name too long",
        ),
        (
            [
                BOOKSNAP,
                "export",
                "BTCUSDT",
                "--start",
                "-1h",
                "--out",
                "x.parquet",
                "--data-dir",
                LONG,
            ],
            "File name too long",
        ),
        ([BOOKSNAP, "coverage", "BTCUSDT", "--start", "-2x"], "not a time ago: '-2x'"),
        ([BOOKSNAP, "keys", "init", LONG], "File name too long"),
        ([BOOKSNAP, "keys", "init", ""], "an empty folder name"),
        ([sys.executable, "-m", "writer", "--retention", "²d"], "is not a duration"),
        ([sys.executable, "-m", "simulator.ready", "--timeout", "nan"], "not a finite number"),
    ],
)
def test_one_error_line_no_traceback(args, says, tmp_path):
    done = subprocess.run(
        args,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": str(Path(sys.executable).parent),
            "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
        },
    )
    assert done.returncode in (1, 2), done.stderr[-500:]
    assert "Traceback" not in done.stderr
    assert says in done.stderr
    assert len(done.stderr) < 2000  # bounded: never the whole hostile value
