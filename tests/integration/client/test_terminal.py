"""At a terminal (a pseudo-terminal here) the CLI colours its output and shows progress; the
same commands piped print plain text (see test_coverage_cli, test_export)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from pathlib import Path

from tests.integration.client.conftest import BOOKSNAP, SYMBOL, Stored

ESC = b"\x1b["


def at_terminal(*args: str, timeout: float = 60.0) -> tuple[int, bytes]:
    """Run ``booksnap`` with stdout and stderr on a pseudo-terminal; (exit code, what it showed)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [BOOKSNAP, *args], stdin=follower, stdout=follower, stderr=follower, env=env
    )
    os.close(follower)
    shown = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], timeout)
            if not ready:
                raise TimeoutError(shown.decode(errors="replace")[-2000:])
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
        code = proc.wait(timeout)
    return code, shown


def test_a_table_at_a_terminal_is_coloured(stored: Stored):
    code, shown = at_terminal(
        "snapshots", SYMBOL, "--start", str(stored.first), "--end", str(stored.first + 4),
        "--endpoint", stored.query.endpoint,
    )  # fmt: skip

    assert code == 0, shown
    assert ESC in shown
    plain = shown.replace(b"\r", b"")
    assert b"best bid" in plain
    assert stored.seconds[0].bids[0][0] // 100_000_000 > 0
    whole, frac = divmod(stored.seconds[0].bids[0][0], 100_000_000)
    assert f"{whole}.{frac:08d}".encode() in plain  # the exact price, even when coloured


def test_export_at_a_terminal_shows_a_progress_bar(stored: Stored, tmp_path: Path):
    out = tmp_path / "x.parquet"
    code, shown = at_terminal(
        "export", SYMBOL, "--start", str(stored.first), "--end", str(stored.last),
        "--out", str(out), "--data-dir", str(stored.writer.data_dir),
    )  # fmt: skip

    assert code == 0, shown
    assert out.exists()
    assert f"{SYMBOL} books".encode() in shown  # the progress bar's label, drawn on stderr
    assert b"wrote 120 seconds" in shown
