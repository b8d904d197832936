"""Limits the exchange enforces: weights (429 → 418), pings, connection lifetime."""

from __future__ import annotations

import time

from tests.integration.simulator.book_client import fetch_json
from tests.integration.simulator.wsutil import ABRUPT, close_ws, open_ws, read_until_close
from tests.support.simulator import SimulatorProcess, simulator_fixture

simulator = simulator_fixture(
    symbols=("BTCUSDT",),
    extra_args=(
        "--ping-interval",
        "0.5",
        "--pong-timeout",
        "1.5",
        "--max-connection-seconds",
        "3",
        "--ban-seconds",
        "30",
    ),
    scope="module",
)


def test_a_client_that_never_pongs_is_closed(simulator):
    ws = open_ws(simulator, "/ws/btcusdt@depth@100ms", timeout=0.5)
    pings = 0
    started = time.monotonic()
    code = None
    while time.monotonic() - started < 3:
        try:
            frame = ws.recv_frame()  # the low-level read: no automatic pong
        except Exception:
            code = ABRUPT
            break
        if frame.opcode == frame.OPCODE_PING:
            pings += 1
        elif frame.opcode == frame.OPCODE_CLOSE:
            code = int.from_bytes(frame.data[:2], "big")
            break
    close_ws(ws)
    assert pings >= 2
    assert code == 1008
    assert 1.5 <= time.monotonic() - started < 2.9  # the pong deadline, not the lifetime


def test_a_ponging_client_lives_until_the_connection_lifetime(simulator):
    ws = open_ws(simulator, "/stream?streams=btcusdt@depth@100ms", timeout=0.5)
    started = time.monotonic()
    frames, code = read_until_close(ws, timeout=10)  # recv_data answers pings
    lifetime = time.monotonic() - started
    assert code == 1001
    assert 2.5 <= lifetime < 5
    assert len(frames) >= 20


def test_weight_limit_gives_429_then_418(simulator):
    # 6000 a minute; limit=5000 weighs 250, so at most 24 such requests fit in a minute.
    statuses, last = [], None
    for _ in range(40):
        last = fetch_json(f"{simulator.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5000")
        statuses.append(last[0])
        if last[0] == 429:
            break
    status, headers, body = last
    assert status == 429, statuses
    assert body["code"] == -1003
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert int(headers["X-MBX-USED-WEIGHT-1M"]) > 6000 - 250
    assert statuses.count(200) <= 24
    # Ignoring the 429 and carrying on gets the IP banned.
    for _ in range(5):
        last = fetch_json(f"{simulator.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5")
        if last[0] == 418:
            break
    status, headers, body = last
    assert status == 418
    assert body["code"] == -1003
    assert int(headers["Retry-After"]) >= 25


def test_weights_follow_binance_table(tmp_path):
    with SimulatorProcess(tmp_path, symbols=("ETHUSDT",)) as sim:
        used = []
        for limit in (5, 100, 101, 500, 501, 1000, 1001, 5000):
            _, headers, _ = fetch_json(f"{sim.rest_url}/api/v3/depth?symbol=ETHUSDT&limit={limit}")
            used.append(int(headers["X-MBX-USED-WEIGHT-1M"]))
    deltas = [b - a for a, b in zip([0, *used], used, strict=False)]
    if all(d > 0 for d in deltas):  # no minute boundary in between
        assert deltas == [5, 5, 25, 25, 50, 50, 250, 250]
    else:
        assert used[-1] == 250 or deltas[-1] == 250
