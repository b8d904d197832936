"""``python -m benchmarks --smoke`` runs every section end to end and writes a full report.

Only that the sections ran is asserted, never a timing: benchmarks report, they do not judge.
It runs every benchmark end to end (about a minute on two busy cores), so it is ``slow``:
``make test-all`` runs it, ``make test`` does not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.runner import DEFAULT_SECTIONS, SECTIONS, TITLES

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_smoke_run_produces_every_section(tmp_path: Path) -> None:
    assert tuple(k for k in SECTIONS if k != "memory-long") == DEFAULT_SECTIONS
    out = tmp_path / "report.md"

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--out", str(out), *SECTIONS],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    report = out.read_text()
    assert "**Smoke run**" in report
    assert "| cores |" in report
    assert "| python |" in report
    for number, key in enumerate(SECTIONS, 1):
        assert f"## {number}. {TITLES[key]}" in report, f"section {key} missing"
        assert f"`python -m benchmarks {key}" in report
    assert "did not complete" not in report, report
    assert report.count("**Reading.**") == len(SECTIONS)
