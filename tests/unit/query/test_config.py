from __future__ import annotations

import os
from pathlib import Path

import pytest

from query.config import QueryConfig, remove_stale_secondary_dirs
from shared.errors import ConfigError


def test_stale_secondary_dirs_of_dead_processes_are_removed(tmp_path: Path) -> None:
    gone = tmp_path / "secondary-999999999"  # above any pid_max: no such process
    mine = tmp_path / f"secondary-{os.getpid()}"
    other = tmp_path / "secondary-custom"
    for path in (gone, mine, other):
        path.mkdir()

    assert remove_stale_secondary_dirs(tmp_path) == [gone]
    assert mine.exists()
    assert other.exists()


def test_config_rejects_shared_endpoints_naming_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--endpoint"):
        QueryConfig(
            tmp_path, tmp_path / "s", "tcp://127.0.0.1:1", "tcp://127.0.0.1:1", "tcp://127.0.0.1:2"
        )
