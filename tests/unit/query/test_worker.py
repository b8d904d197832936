"""The pool of database workers: caps per client, deadlines, dead workers, a private channel."""

from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest
import zmq

from query.dbprocess import DbProcessConfig
from query.server import client_of
from query.worker import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CLIENT, WorkerPool
from shared.protocol import BUSY, DEADLINE_EXCEEDED, INTERNAL_ERROR, Request, RequestError
from tests.support.clock import FakeClock
from tests.support.waiting import poll_for


def pool(tmp_path: Path, size: int = 1, deadline: float = 10.0) -> WorkerPool:
    config = DbProcessConfig(tmp_path / "rocksdb", tmp_path / "secondary", 1.0, "INFO")
    return WorkerPool(config, size=size, deadline=deadline, clock=FakeClock(monotonic=0.0))


def test_too_many_jobs_in_flight_answer_busy_instead_of_queueing(tmp_path: Path) -> None:
    workers = pool(tmp_path)  # never started: every job stays queued
    for i in range(MAX_IN_FLIGHT):
        workers.submit([b"id"], f"10.0.0.{i % 5}:1/", Request(i, "status", {}), {})

    with pytest.raises(RequestError) as caught:
        workers.submit([b"id"], "10.0.0.9:1/", Request("late", "status", {}), {})

    assert caught.value.code == BUSY
    assert caught.value.request_id == "late"
    assert "in progress" in caught.value.message


def test_a_client_is_its_address_and_key_not_its_socket_identities(tmp_path: Path) -> None:
    workers = pool(tmp_path)
    for i in range(MAX_IN_FLIGHT_PER_CLIENT):  # eight sockets (routes) of one client
        workers.submit([b"socket-%d" % i], "127.0.0.1:40000/KEY", Request(i, "status", {}), {})

    with pytest.raises(RequestError) as caught:
        workers.submit([b"socket-new"], "127.0.0.1:40000/KEY", Request("more", "status", {}), {})
    workers.submit([b"socket-x"], "127.0.0.1:40000/OTHERKEY", Request("other", "status", {}), {})

    assert caught.value.code == BUSY


def answered(workers: WorkerPool, timeout: float = 30.0) -> list[list[bytes]]:
    replies: list[list[bytes]] = []

    def more() -> list[list[bytes]]:
        replies.extend(workers.replies(set(workers.fds())))
        return replies

    poll_for(more, timeout)
    return replies


def test_real_workers_answer_and_a_job_past_its_deadline_restarts_its_worker(
    tmp_path: Path,
) -> None:
    workers = pool(tmp_path, size=2, deadline=5.0)
    workers.start()
    try:
        workers.submit([b"a"], "c1", Request(1, "status", {}), {})
        (reply,) = answered(workers)
        assert reply[0] == b"a"
        assert json.loads(reply[1])["id"] == 1

        # The pool's clock passes the deadline while the job is running: its client gets
        # DEADLINE_EXCEEDED and the worker is killed and replaced.
        workers.submit([b"b"], "c1", Request(2, "status", {}), {})
        workers.clock.advance(6.0)  # type: ignore[attr-defined]
        (failed,) = workers.check()
        error = json.loads(failed[1])["error"]
        assert failed[0] == b"b"
        assert error["code"] == DEADLINE_EXCEEDED
        assert "deadline" in error["message"]
        assert workers.restarts == 1
        assert workers.deadlines_exceeded == 1

        workers.submit([b"c"], "c1", Request(3, "status", {}), {})
        (after,) = answered(workers)
        assert json.loads(after[1])["id"] == 3
    finally:
        workers.stop()


def test_a_dead_worker_fails_its_job_and_is_restarted(tmp_path: Path) -> None:
    workers = pool(tmp_path)
    workers.start()
    try:
        workers.submit([b"a"], "c1", Request(7, "status", {}), {})
        process = workers._workers[0].process
        assert process is not None
        process.kill()
        process.join(5)
        failed = workers.check()
        assert [json.loads(f[1])["error"]["code"] for f in failed] in ([INTERNAL_ERROR], [])
        assert workers.restarts == 1
        workers.submit([b"b"], "c1", Request(8, "status", {}), {})
        assert json.loads(answered(workers)[0][1])["id"] == 8
    finally:
        workers.stop()


def test_the_worker_channel_is_an_inherited_socketpair_no_other_process_can_reach(
    tmp_path: Path,
) -> None:
    workers = pool(tmp_path)
    workers.start()
    try:
        for fd in workers.fds():
            assert stat.S_ISSOCK(os.fstat(fd).st_mode)
            sock = socket.socket(fileno=os.dup(fd))
            try:
                assert sock.family == socket.AF_UNIX
                assert sock.getsockname() in ("", b"")  # unnamed: nothing to connect to
            finally:
                sock.close()
    finally:
        workers.stop()


def test_a_client_is_its_key_a_remote_address_or_a_local_socket(zmq_context) -> None:
    """client_of: real ROUTER frames from local DEALERs are told apart by their identity."""
    router = zmq_context.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    seen = set()
    for name in (b"a", b"b"):
        dealer = zmq_context.socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.ROUTING_ID, name)
        dealer.connect(f"tcp://127.0.0.1:{port}")
        dealer.send(b"{}")
        assert router.poll(5000)
        seen.add(client_of(router.recv_multipart(copy=False)))
        dealer.close(0)
    router.close(0)
    assert seen == {"socket:61", "socket:62"}  # local, no keys: one client per socket
