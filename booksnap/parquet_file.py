"""A Parquet file that appears whole or not at all: written to a temp file, renamed when done."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

COMPRESSION = "zstd"


def trades_path(out: Path) -> Path:
    """Where ``export --trades`` puts the trades: ``x.parquet`` → ``x.trades.parquet``."""
    stem = out.name.removesuffix(".parquet")
    return out.with_name(f"{stem}.trades.parquet")


class AtomicParquet:
    """Streams batches into a hidden temp file in the target's directory; ``commit`` renames it.

    The temp file lives in the same directory so the final ``os.replace`` is an atomic rename on
    the same file system: a reader sees either no file (or the old one) or the complete new one.
    ``abort`` (on any error, Ctrl-C or SIGTERM) removes the temp file.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = path
        self.rows = 0
        # Not mkstemp: its 0600 mode would stick to the renamed file; the writer creates the
        # file with the user's umask like any other, under a name no other run picks.
        self.temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")
        try:
            self._writer: pq.ParquetWriter | None = pq.ParquetWriter(
                self.temp, schema, compression=COMPRESSION
            )
        except BaseException:
            self.temp.unlink(missing_ok=True)
            raise

    def write(self, batch: pa.RecordBatch) -> None:
        assert self._writer is not None, "already committed or aborted"
        self._writer.write_batch(batch)
        self.rows += batch.num_rows

    def commit(self) -> None:
        """Finish the file and move it into place (replacing an existing one)."""
        assert self._writer is not None, "already committed or aborted"
        writer, self._writer = self._writer, None
        try:
            writer.close()
            os.replace(self.temp, self.path)
        except BaseException:
            self.temp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        """Drop the partial file; safe to call after ``commit`` (then it does nothing)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
            self.temp.unlink(missing_ok=True)
