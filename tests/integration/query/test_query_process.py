"""The real ``python -m query`` process: database life cycle, live books, every CLI command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import zmq
from click.testing import CliRunner

from booksnap.cli import cli
from booksnap.client import QueryFailed
from query.config import QueryConfig
from shared.codec import book_topic, encode, snap_topic
from shared.fixedpoint import format_fixed
from shared.protocol import INSUFFICIENT_DATA, NO_DATA_YET, NOT_FOUND
from tests.integration.query.conftest import publish_until
from tests.integration.query.dbdata import Primary, live_book, synthetic_snapshot
from tests.support.waiting import poll_for

SYMBOLS = ("BTCUSDT", "ETHUSDT")
BOOKSNAP = str(Path(sys.executable).parent / "booksnap")


def now() -> int:
    return int(time.time())


def stored_seconds(client, symbol: str) -> int:
    return client.request("coverage", {"symbol": symbol, "duration_hours": 1})["stored_seconds"]


def test_starts_before_the_database_exists_then_serves_it(query_process):
    with query_process.client() as client:
        with pytest.raises(QueryFailed) as caught:
            client.request("get_order_flow", {"symbol": "BTCUSDT", "window_duration_secs": 60})
        assert caught.value.code == NO_DATA_YET
        assert f"has not created {query_process.data_dir / 'rocksdb'} yet" in caught.value.message
        assert client.request("status", {})["database"]["open"] is False

        primary = Primary(query_process.data_dir)  # the writer creates the database
        try:
            primary.store(SYMBOLS, range(now() - 120, now() + 30))
            poll_for(lambda: stored_seconds(client, "BTCUSDT") > 100, 15, what="data visible")
            flow = client.request(
                "get_order_flow", {"symbol": "BTCUSDT", "window_duration_secs": 60}
            )
            assert flow["symbol"] == "BTCUSDT"
            # A second stored a moment ago is visible to the very next request.
            second = now() - 3600
            primary.store(["ETHUSDT"], [second])
            page = client.request(
                "query_snapshots", {"symbol": "ETHUSDT", "start": second, "end": second}
            )
            assert [s["second"] for s in page["snapshots"]] == [second]
        finally:
            primary.close()


def test_writer_restarts_do_not_break_the_query_process(query_process):
    base = now() - 3000
    with query_process.client() as client:
        for restart in range(3):
            primary = Primary(query_process.data_dir)
            try:
                primary.store(["BTCUSDT"], range(base + restart * 100, base + restart * 100 + 100))
            finally:
                primary.close()
            end = base + restart * 100 + 99
            page = client.request(
                "query_snapshots", {"symbol": "BTCUSDT", "start": end, "end": end}
            )
            assert page["count"] == 1, restart
        cover = client.request("coverage", {"symbol": "BTCUSDT", "start": base, "end": base + 299})
        assert cover["fraction"] == 1.0
    assert query_process.proc.alive()


def test_insufficient_data_names_what_is_there_and_what_is_needed(query_process):
    primary = Primary(query_process.data_dir)
    try:
        primary.store(["BTCUSDT"], [now() - 30])
        with query_process.client() as client:
            poll_for(lambda: stored_seconds(client, "BTCUSDT"), 10)
            with pytest.raises(QueryFailed) as caught:
                client.request("get_order_flow", {"symbol": "BTCUSDT", "window_duration_secs": 60})
        assert caught.value.code == INSUFFICIENT_DATA
        assert caught.value.data["have"] < caught.value.data["needed"]
        result = CliRunner().invoke(
            cli, ["order-flow", "BTCUSDT", "--endpoint", query_process.endpoint]
        )
        assert result.exit_code == 1
        assert "insufficient data" in result.output
        assert len(result.output.strip().splitlines()) == 1
    finally:
        primary.close()


def test_live_l1_follows_the_published_book_and_is_re_published(
    query_process, live_pub, zmq_context
):
    feed = zmq_context.socket(zmq.SUB)
    feed.setsockopt(zmq.LINGER, 0)
    feed.setsockopt(zmq.SUBSCRIBE, b"")
    feed.connect(query_process.feed_endpoint)
    second = now()
    with query_process.client() as client:
        with pytest.raises(QueryFailed) as caught:
            client.request("orderbook_l1", {"symbol": "BTCUSDT"})
        assert caught.value.code == NOT_FOUND

        for shift in (0, 3, 7):
            book = live_book("BTCUSDT", second, seq=shift + 1, bid_shift=shift)
            best_bid = format_fixed(book.bids[0][0])

            def l1_shows(expected: str = best_bid) -> bool:
                return (
                    json.dumps(client.request("orderbook_l1", {"symbol": "BTCUSDT"})).count(
                        expected
                    )
                    > 0
                )

            publish_until(live_pub, [book_topic("BTCUSDT"), encode(book)], l1_shows)

        l2 = client.request("orderbook_l2", {"symbol": "BTCUSDT", "levels": 50})
        assert format_fixed(book.asks[49][0]) in json.dumps(l2)
        assert format_fixed(book.asks[50][0]) not in json.dumps(l2)

        # Invalid live messages are dropped, never re-published, and the server goes on.
        live_pub.send_multipart([b"book.BTCUSDT", b"garbage"])
        live_pub.send_multipart((synthetic_snapshot("BTCUSDT", second)).frames())
        poll_for(lambda: client.request("status", {})["live_invalid_messages"] >= 1, 10)
        assert client.request("status", {})["symbols"]["BTCUSDT"]["publishing"] is True

    got = poll_for(
        lambda: feed.poll(100) and feed.recv_multipart(), 10, what="a re-published message"
    )
    assert got[0] in (book_topic("BTCUSDT"), snap_topic("BTCUSDT"))
    feed.close(linger=0)


@pytest.fixture
def populated(query_process, live_pub):
    """Both symbols: 20 minutes stored up to a bit beyond now, and a live book each."""
    primary = Primary(query_process.data_dir)
    start = now() - 1200
    primary.store(SYMBOLS, range(start, now() + 90))
    with query_process.client() as client:
        poll_for(lambda: stored_seconds(client, "ETHUSDT") > 1000, 15, what="data visible")
        for symbol in SYMBOLS:
            book = live_book(symbol, now(), seq=1)
            publish_until(
                live_pub,
                [book_topic(symbol), encode(book)],
                lambda symbol=symbol: _has_l1(client, symbol),
            )
    yield query_process, start
    primary.close()


def _has_l1(client, symbol: str) -> bool:
    try:
        client.request("orderbook_l1", {"symbol": symbol})
    except QueryFailed:
        return False
    return True


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_every_cli_command_answers_in_tables_and_json(populated, symbol):
    process, start = populated
    endpoint = ["--endpoint", process.endpoint]
    commands = [
        ["order-flow", symbol, "--window", "60"],
        ["volume-profile", symbol, "--hours", "1"],
        ["volume-profile", symbol, "--hours", "1", "--tick-size", "0.5"],
        ["health", symbol, "--window", "60"],
        ["vacuums", symbol, "--hours", "1"],
        ["anomalies", symbol, "--window", "60"],
        ["quality", symbol, "--window", "300"],
        ["l1", symbol],
        ["l2", symbol, "--levels", "50"],
        ["status"],
        ["coverage", symbol, "--hours", "1"],
        ["coverage", symbol, "--start", str(start), "--end", str(start + 599)],
    ]
    runner = CliRunner()
    for args in commands:
        table = runner.invoke(cli, [*args, *endpoint])
        assert table.exit_code == 0, (args, table.output)
        document = runner.invoke(cli, [*args, *endpoint, "--json"])
        assert document.exit_code == 0, (args, document.output)
        parsed = json.loads(document.output)
        assert isinstance(parsed, dict)
        if args[0] not in ("status",):
            assert parsed.get("symbol") == symbol, args

    profile = json.loads(
        runner.invoke(cli, ["volume-profile", symbol, "--hours", "1", "--json", *endpoint]).output
    )
    text = runner.invoke(cli, ["volume-profile", symbol, "--hours", "1", *endpoint]).output
    assert "POC" in text
    assert "█" in text
    assert parsed["fraction"] == 1.0  # the last command: coverage of 600 stored seconds
    assert profile["total_trades"] > 0
    quality = json.loads(
        runner.invoke(cli, ["quality", symbol, "--window", "300", "--json", *endpoint]).output
    )
    assert quality["window_seconds"] == 300
    assert quality["snapshots_used"] == 300
    assert quality["volatility"]["returns"] == 300
    assert quality["execution"]["trades"] > 0
    # No instrument tick is stored: the handler lets the profile derive it (defect 8).
    assert profile["bin_size_source"] == "derived_tick"
    assert profile["symbol_tick"] == "0.01000000"


def test_snapshots_cli_prints_exact_json_lines_and_pages(populated):
    process, start = populated
    first, last = start + 10, start + 14
    result = CliRunner().invoke(
        cli,
        [
            "snapshots",
            "ETHUSDT",
            "--start",
            str(first),
            "--end",
            str(last),
            "--trades",
            "--json",
            "--endpoint",
            process.endpoint,
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["second"] for line in lines] == list(range(first, last + 1))
    expected = synthetic_snapshot("ETHUSDT", first)
    assert lines[0]["bids"][0] == [
        format_fixed(expected.bids[0][0]),
        format_fixed(expected.bids[0][1]),
    ]
    assert lines[0]["trades"][0]["price"] == format_fixed(expected.trades[0].price)

    # The server caps a reply at 3,600 snapshots; the CLI follows next_start transparently.
    with process.client() as client:
        page = client.request(
            "query_snapshots", {"symbol": "ETHUSDT", "start": start, "limit": 100, "levels": 1}
        )
    assert page["count"] == 100
    assert page["next_start"] == start + 100
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start))
    table = CliRunner().invoke(
        cli,
        [
            "snapshots",
            "ETHUSDT",
            "--start",
            iso,
            "--end",
            str(start + 4),
            "--endpoint",
            process.endpoint,
        ],
    )
    assert table.exit_code == 0
    assert table.output.count(":") >= 5


def test_the_installed_booksnap_command_talks_to_the_real_server(populated):
    process, start = populated
    run = subprocess.run(
        [
            BOOKSNAP,
            "coverage",
            "BTCUSDT",
            "--start",
            str(start),
            "--end",
            str(start + 99),
            "--json",
            "--endpoint",
            process.endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["stored_seconds"] == 100
    status = subprocess.run(
        [BOOKSNAP, "status", "--endpoint", process.endpoint],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0, status.stderr
    assert "BTCUSDT" in status.stdout
    assert "ETHUSDT" in status.stdout


def test_a_killed_database_worker_is_restarted(query_process):
    primary = Primary(query_process.data_dir)
    primary.store(["BTCUSDT"], range(now() - 100, now() + 60))
    try:
        with query_process.client() as client:
            poll_for(lambda: stored_seconds(client, "BTCUSDT") > 50, 15, what="data visible")
            workers = [
                child
                for child in psutil.Process(query_process.proc.pid).children()
                if "spawn_main" in " ".join(child.cmdline())
            ]
            assert len(workers) == QueryConfig.__dataclass_fields__["workers"].default
            for worker in workers:  # every worker of the pool
                worker.kill()
                worker.wait(10)
            poll_for(lambda: stored_seconds(client, "BTCUSDT") > 50, 20, what="a restarted worker")
        query_process.proc.wait_log("exited (code", timeout=10)
    finally:
        primary.close()
