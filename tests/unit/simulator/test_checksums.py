"""The simulator refuses recordings that do not match their SHA256SUMS, naming the file."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys

import pytest

from simulator.checksums import ChecksumError, file_digest, find_sums, parse_sums
from simulator.recordings import RecordingError, load_recording
from tests.conftest import RECORDINGS

SUMS = RECORDINGS.parents[1] / "SHA256SUMS"


@pytest.fixture
def copied(tmp_path):
    """A copy of the shipped recordings folder (sums file, licences and the .gz files)."""
    root = tmp_path / "recordings"
    shutil.copytree(RECORDINGS.parents[1], root)
    return root


def test_the_shipped_recordings_match_their_sums():
    sums = parse_sums(SUMS.read_text())
    assert find_sums(RECORDINGS) == SUMS
    for name, digest in sums.items():
        assert file_digest(SUMS.parent / name) == digest
    assert load_recording(RECORDINGS, "ETHUSDT").files == ("ethusdt_20240808.gz",)


def test_a_changed_byte_is_refused_naming_the_file(copied):
    spot = copied / "hftbacktest" / "spot"
    target = spot / "btcusdt_20240809.gz"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match=r"btcusdt_20240809\.gz does not match .*SHA256SUMS"):
        load_recording(spot, "BTCUSDT")
    # The other symbol's files are untouched and still load.
    assert load_recording(spot, "ETHUSDT").snapshot.last_update_id == 35346513512


def test_a_file_missing_from_the_sums_is_refused(copied):
    spot = copied / "hftbacktest" / "spot"
    with gzip.open(spot / "ethusdt_20240809.gz", "wt") as handle:
        handle.write("1 {}\n")
    with pytest.raises(RecordingError, match=r"ethusdt_20240809\.gz is not listed in"):
        load_recording(spot, "ETHUSDT")


def test_sums_lines_are_parsed_strictly():
    digest = "ab" * 32
    assert parse_sums(f"{digest}  a.gz\n{digest} *b.gz\n\n") == {"a.gz": digest, "b.gz": digest}
    for bad in (f"{digest[:-1]}  a.gz", f"{digest.upper()}  a.gz", f"{digest}a.gz", "x"):
        with pytest.raises(ChecksumError, match="line 1"):
            parse_sums(bad)


def test_a_folder_without_sums_loads_unverified_with_a_warning(tmp_path, caplog):
    source = RECORDINGS / "ethusdt_20240808.gz"
    shutil.copy(source, tmp_path / source.name)
    assert find_sums(tmp_path) is None
    assert load_recording(tmp_path, "ETHUSDT").timeline
    assert "recordings not verified" in caplog.text


def test_the_simulator_process_refuses_a_tampered_recording(copied):
    spot = copied / "hftbacktest" / "spot"
    target = spot / "ethusdt_20240808.gz"
    target.write_bytes(target.read_bytes()[:-1])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "--source",
            "replay",
            "--symbols",
            "ETHUSDT",
            "--recordings",
            str(spot),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "ethusdt_20240808.gz does not match" in result.stderr
    assert "Traceback" not in result.stderr
