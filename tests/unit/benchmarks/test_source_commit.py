"""The commit a benchmark section measured: clean, with the report rewritten, with other changes."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks.machine import source_commit
from benchmarks.report import render_section
from benchmarks.result import Section


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_commit_and_whether_code_differs_from_it(tmp_path):
    root = tmp_path / "repo"
    (root / "docs").mkdir(parents=True)
    report, code = root / "docs" / "benchmarks.md", root / "module.py"
    report.write_text("old report\n")
    code.write_text("x = 1\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = git(root, "rev-parse", "--short", "HEAD")

    assert source_commit(root, report) == head
    report.write_text("the run rewrites its own report\n")
    assert source_commit(root, report) == head
    (root / "scratch.txt").write_text("untracked files are not the code measured\n")
    assert source_commit(root, report) == head
    code.write_text("x = 2\n")
    assert source_commit(root, report) == f"{head} + changes"


def test_outside_a_checkout_there_is_no_commit(tmp_path):
    assert source_commit(tmp_path, tmp_path / "benchmarks.md") == ""


def test_the_commit_is_shown_beside_the_command():
    section = Section("ingest", "Ingest", "python -m benchmarks ingest", ran_at="then")
    assert "run then)." in render_section(section, 1)
    section.commit = "abc1234"
    assert "run then at commit abc1234)." in render_section(section, 1)
