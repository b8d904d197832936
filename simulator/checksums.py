"""Checking recording files against the ``SHA256SUMS`` published beside them.

``SHA256SUMS`` is the ``sha256sum`` format: one ``<64 hex digits><two spaces><relative path>``
per line, paths relative to the folder holding the sums file. The simulator's own recordings
ship with one (``simulator/recordings/SHA256SUMS``); a folder of recordings that has a sums file
in itself or in one of its parents is verified against the nearest one, so a corrupted or
substituted file is refused by name instead of being replayed as market data.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from shared.errors import BooksnapError

SUMS_NAME = "SHA256SUMS"
MAX_SUMS_BYTES = 1 << 20  # a sums file larger than this is not one of ours
_LINE = re.compile(r"([0-9a-f]{64}) [ *]([^\n]+)")
_CHUNK = 1 << 20


class ChecksumError(BooksnapError):
    """A recording file does not match, or is missing from, its SHA256SUMS."""


def find_sums(directory: Path) -> Path | None:
    """The nearest ``SHA256SUMS`` in ``directory`` or one of its parents, or None."""
    for folder in (directory.resolve(), *directory.resolve().parents):
        candidate = folder / SUMS_NAME
        if candidate.is_file():
            return candidate
    return None


def parse_sums(text: str) -> dict[str, str]:
    """``{relative path: hex digest}``; ChecksumError on a line that is not ``<hex>  <path>``."""
    sums: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ChecksumError(f"{SUMS_NAME} line {number} is not '<sha256>  <path>'")
        sums[match.group(2)] = match.group(1)
    return sums


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_files(sums_path: Path, files: list[Path]) -> None:
    """Raise ChecksumError naming the first file that is unlisted or whose digest differs."""
    if sums_path.stat().st_size > MAX_SUMS_BYTES:
        raise ChecksumError(f"{sums_path} is larger than {MAX_SUMS_BYTES} bytes")
    sums = parse_sums(sums_path.read_text(encoding="utf-8"))
    root = sums_path.parent.resolve()
    for path in files:
        try:
            relative = path.resolve().relative_to(root).as_posix()
        except ValueError:
            raise ChecksumError(f"{path} is outside {root}, the folder of {sums_path}") from None
        expected = sums.get(relative)
        if expected is None:
            raise ChecksumError(f"{path} is not listed in {sums_path}")
        actual = file_digest(path)
        if actual != expected:
            raise ChecksumError(
                f"{path} does not match {sums_path}: sha256 {actual}, expected {expected}"
            )
