"""The main process's end of a worker channel never waits, with a real process at the other end.

The worker end is a spawned OS process writing or reading through an inherited socketpair; it
writes half a reply and then nothing, or is stopped (SIGSTOP) before it reads a job.
``multiprocessing.Connection`` blocked the main process until the whole message had passed;
``Channel`` returns at once.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import socket
import time
import tracemalloc
from multiprocessing.process import BaseProcess

from query.channel import HEADER, Channel, WorkerEnd
from tests.support.waiting import poll_for

LARGE = 8_000_000  # far more than a socketpair buffers
PAYLOAD = pickle.dumps(b"x" * LARGE, protocol=pickle.HIGHEST_PROTOCOL)


def write_in_two_halves(sock: socket.socket) -> None:
    """A worker that writes half of a large reply, then nothing until it is told to go on."""
    frame = HEADER.pack(len(PAYLOAD)) + PAYLOAD
    sock.sendall(frame[: len(frame) // 2])
    sock.recv(1)
    sock.sendall(frame[len(frame) // 2 :])


def read_one(end: WorkerEnd) -> None:
    message = end.recv()
    end.send(len(message))


def spawn(target, theirs: socket.socket, *, raw: bool = False) -> BaseProcess:
    end = theirs if raw else WorkerEnd(theirs)
    process = multiprocessing.get_context("spawn").Process(target=target, args=(end,), daemon=True)
    process.start()
    theirs.close()
    return process


def slowest_call(call, times: int = 20) -> float:
    slowest = 0.0
    for _ in range(times):
        started = time.perf_counter()
        call()
        slowest = max(slowest, time.perf_counter() - started)
    return slowest


def test_a_reply_cut_off_half_way_does_not_block_the_reader():
    mine, theirs = socket.socketpair()
    process = spawn(write_in_two_halves, theirs, raw=True)
    channel = Channel(mine)
    try:
        poll_for(lambda: channel.receive() == [] and len(channel._incoming) >= LARGE // 2, 20)
        # Half a reply has arrived and no more comes: each call returns at once, with nothing.
        assert slowest_call(channel.receive) < 0.05
        assert channel.receive() == []
        mine.send(b"g")  # go on
        got: list[object] = []
        poll_for(lambda: got.extend(channel.receive()) or got, 20)
        assert got == [b"x" * LARGE]
        process.join(10)
        assert process.exitcode == 0
    finally:
        process.kill()
        channel.close()


def test_a_job_for_a_stopped_worker_is_queued_not_waited_for():
    mine, theirs = socket.socketpair()
    process = spawn(read_one, theirs)
    channel = Channel(mine)
    try:
        os.kill(process.pid, signal.SIGSTOP)
        started = time.perf_counter()
        channel.send(b"y" * LARGE)
        assert time.perf_counter() - started < 0.5
        assert channel.wants_write
        assert slowest_call(channel.flush) < 0.05
        os.kill(process.pid, signal.SIGCONT)
        got: list[object] = []

        def progress() -> list[object]:
            channel.flush()
            got.extend(channel.receive())
            return got

        poll_for(progress, 20)
        assert got == [LARGE]
        assert not channel.wants_write
        process.join(10)
    finally:
        os.kill(process.pid, signal.SIGCONT) if process.is_alive() else None
        process.kill()
        channel.close()


def test_a_small_reply_allocates_its_size_not_a_whole_receive_chunk():
    # recv(CHUNK) took a fresh 256 kB block of the heap per read (see collector/wsframes.py).
    ours, theirs = socket.socketpair()
    channel = Channel(ours)
    try:
        tracemalloc.start()
        try:
            for n in range(20):
                theirs.sendall(HEADER.pack(len(small := pickle.dumps(n))) + small)
                assert poll_for(channel.receive, 2.0) == [n]
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 16_384
    finally:
        ours.close()
        theirs.close()
