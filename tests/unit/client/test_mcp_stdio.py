"""The stdio reader of ``booksnap mcp``: whole lines from a real pipe, overlong lines dropped."""

from __future__ import annotations

import os
import threading

import pytest

from booksnap import mcp_stdio


def lines_of(chunks: list[bytes]) -> list[bytes]:
    read_fd, write_fd = os.pipe()

    def write() -> None:
        for chunk in chunks:
            os.write(write_fd, chunk)
        os.close(write_fd)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        return list(mcp_stdio.StdinLines(read_fd)._lines())
    finally:
        writer.join()
        os.close(read_fd)


def test_lines_split_across_reads_come_out_whole():
    assert lines_of([b'{"a":', b"1}\n{", b'"b":2}\n\n', b"tail"]) == [
        b'{"a":1}\n',
        b'{"b":2}\n',
        b"\n",
        b"tail",
    ]


def test_an_overlong_line_is_dropped_whole_and_the_next_one_kept(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(mcp_stdio, "MAX_LINE", 10)
    monkeypatch.setattr(mcp_stdio, "READ_BYTES", 4)

    assert lines_of([b"x" * 25, b"yyy\nok\n", b"z" * 11 + b"\nend\n"]) == [b"ok\n", b"end\n"]


def test_eof_at_once_gives_no_lines():
    assert lines_of([]) == []
