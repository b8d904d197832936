from __future__ import annotations

from pathlib import Path

import pytest
import zmq

from query.dbprocess import DbProcessConfig
from query.worker import MAX_IN_FLIGHT, MAX_IN_FLIGHT_PER_CLIENT, DbWorker
from shared.protocol import BUSY, Request, RequestError


def test_too_many_jobs_in_flight_answer_busy_instead_of_queueing(
    zmq_context: zmq.Context, tmp_path: Path
) -> None:
    config = DbProcessConfig("", tmp_path / "rocksdb", tmp_path / "secondary", 1.0, "INFO")
    worker = DbWorker(zmq_context, config)
    worker.socket = zmq_context.socket(zmq.PAIR)  # bound, but no worker: jobs stay queued
    worker.socket.setsockopt(zmq.LINGER, 0)
    worker.socket.bind_to_random_port("tcp://127.0.0.1")
    for i in range(MAX_IN_FLIGHT):
        worker.submit([b"client-%d" % (i % 4)], Request(i, "status", {}), {})

    with pytest.raises(RequestError) as caught:
        worker.submit([b"client-9"], Request("late", "status", {}), {})

    assert caught.value.code == BUSY
    assert caught.value.request_id == "late"
    assert "in progress" in caught.value.message
    worker.stop()


def test_one_client_cannot_take_every_slot(zmq_context: zmq.Context, tmp_path: Path) -> None:
    config = DbProcessConfig("", tmp_path / "rocksdb", tmp_path / "secondary", 1.0, "INFO")
    worker = DbWorker(zmq_context, config)
    worker.socket = zmq_context.socket(zmq.PAIR)
    worker.socket.setsockopt(zmq.LINGER, 0)
    worker.socket.bind_to_random_port("tcp://127.0.0.1")
    for i in range(MAX_IN_FLIGHT_PER_CLIENT):
        worker.submit([b"greedy"], Request(i, "status", {}), {})

    with pytest.raises(RequestError) as caught:
        worker.submit([b"greedy"], Request("more", "status", {}), {})
    worker.submit([b"polite"], Request("other", "status", {}), {})

    assert caught.value.code == BUSY
    worker.stop()
    worker.stop()
