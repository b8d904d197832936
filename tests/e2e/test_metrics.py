"""Prometheus metrics scraped over HTTP from each real process, checked against logs and status.

One pipeline (simulator, writer, query, collector supervisor) runs with an exporter on each
process; the tests run in file order: live checks first, then the collector is stopped so the
writer's counters can be compared exactly with its Stored lines and its status record.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zmq
from prometheus_client.parser import text_string_to_metric_families

from booksnap.client import QueryClient, QueryFailed
from shared import metrics, storage
from tests.support.logs import stored_in, stored_seconds
from tests.support.pipeline import SYMBOLS, Pipeline, pipeline_env
from tests.support.processes import REPO, Proc, stop_all
from tests.support.seconds import Second
from tests.support.waiting import free_endpoint, free_port, poll_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
SUMMARY = re.compile(
    r"collector\[(\w+)\].*summary \S+: records=(\d+) .*resyncs=(\d+) reconnects=(\d+)"
)
SUFFIXES = ("_total", "_bucket", "_count", "_sum")
STARTED = re.compile(r"started collector (\w+) \(pid (\d+)\)")


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name, frozenset(sample.labels.items())] = sample.value
    return samples


def scrape_when(port: int, ready: Callable[[Samples], bool], what: str) -> Samples:
    """Scrape until ``ready`` holds for the samples (30 s at most)."""
    found: list[Samples] = []

    def check() -> bool:
        found[:] = [scrape(port)]
        return ready(found[0])

    poll_for(check, 30, interval=0.3, what=what)
    return found[0]


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


@pytest.fixture(scope="module")
def metered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, dict[str, int]]]:
    root = tmp_path_factory.mktemp("metrics")
    # One base port for every process, as an operator's .env would set it: each adds its offset,
    # and the supervisor's children must not inherit it (they would fight over its port).
    base: int = poll_for(_three_free_ports, 10, what="three consecutive free ports") or 0
    env = {"BOOKSNAP_SUMMARY_INTERVAL": "2", "BOOKSNAP_METRICS_PORT": str(base)}
    pipe = Pipeline(root, {**pipeline_env(root, free_port()), **env})
    ports = {"writer": base, "query": base + 1, "collector": base + 2}
    try:
        pipe.start("simulator", "simulator").wait_log("Simulator listening", timeout=30)
        for name in ("writer", "query", "collector"):
            pipe.start(name, name)
        for symbol in SYMBOLS:
            pipe.procs["writer"].wait_log(f"Stored snapshot for {symbol} at", timeout=60)
        yield pipe, ports
    finally:
        stop_all(list(pipe.procs.values()))


def _three_free_ports() -> int | None:
    base = free_port()
    for port in (base + 1, base + 2):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return None
    return base


def writer_status(pipe: Pipeline) -> dict:
    with QueryClient(pipe.env["BOOKSNAP_QUERY_ENDPOINT"], timeout=10) as client:
        return client.request("status", {})["writer"]


def summaries(pipe: Pipeline, symbol: str) -> tuple[int, int, int, int]:
    """(summary lines, records, resyncs, reconnects) summed over the collector's summaries."""
    lines = [m for m in SUMMARY.finditer(pipe.log("collector")) if m.group(1) == symbol]
    return (
        len(lines),
        sum(int(m.group(2)) for m in lines),
        sum(int(m.group(3)) for m in lines),
        sum(int(m.group(4)) for m in lines),
    )


def test_collector_supervisor_exports_every_child(metered: tuple[Pipeline, dict[str, int]]) -> None:
    pipe, ports = metered
    samples = scrape_when(
        ports["collector"],
        lambda s: all(
            value(s, "booksnap_collector_book_synced", symbol=x) == 1
            and (value(s, "booksnap_collector_published_seconds_total", symbol=x) or 0) > 0
            for x in SYMBOLS
        ),
        "both books synced and publishing",
    )
    for symbol in SYMBOLS:
        assert value(samples, "booksnap_collector_child_up", symbol=symbol) == 1
        assert value(samples, "booksnap_collector_child_restarts_total", symbol=symbol) == 0
        for side in ("bid", "ask"):
            assert (
                value(samples, "booksnap_collector_book_levels", symbol=symbol, side=side) or 0
            ) > 0
        assert (
            value(samples, "booksnap_collector_published_seconds_total", symbol=symbol) or 0
        ) > 0
    # One port for the whole supervisor: no child serves anything of its own.
    assert not re.search(r"collector\[\w+USDT\].*Prometheus metrics on", pipe.log("collector"))


def test_resyncs_and_reconnects_equal_the_summary_lines(
    metered: tuple[Pipeline, dict[str, int]],
) -> None:
    pipe, ports = metered
    symbol = "BTCUSDT"
    pipe.fault("gap", symbol, count=1)
    poll_for(lambda: summaries(pipe, symbol)[2] >= 1, 30, what="a resync in a summary line")
    pipe.fault("disconnect")
    poll_for(lambda: summaries(pipe, symbol)[3] >= 1, 30, what="a reconnect in a summary line")

    def agree() -> bool:
        # Between two summary lines the metric may be ahead; a summary right after the scrape
        # with nothing new shows both agree.
        before = summaries(pipe, symbol)
        samples = scrape(ports["collector"])
        resyncs = sum(
            v
            for (name, labels), v in samples.items()
            if name == "booksnap_collector_resyncs_total" and ("symbol", symbol) in labels
        )
        reconnects = value(samples, "booksnap_collector_reconnects_total", symbol=symbol)
        return (resyncs, reconnects) == (before[2], before[3])

    poll_for(agree, 30, interval=0.5, what="metrics = summed summary lines")
    samples = scrape(ports["collector"])
    gap = value(samples, "booksnap_collector_resyncs_total", symbol=symbol, reason="gap")
    assert gap is not None
    assert gap >= 1
    lost = value(
        samples, "booksnap_collector_resyncs_total", symbol=symbol, reason="connection_lost"
    )
    assert lost is not None
    assert lost >= 1


def test_a_killed_child_counts_as_a_restart_and_keeps_its_counters(
    metered: tuple[Pipeline, dict[str, int]],
) -> None:
    pipe, ports = metered
    symbol = "ETHUSDT"
    pids = [
        int(m.group(2)) for m in STARTED.finditer(pipe.log("collector")) if m.group(1) == symbol
    ]
    published = value(
        scrape(ports["collector"]), "booksnap_collector_published_seconds_total", symbol=symbol
    )
    assert published is not None
    subprocess.run(["kill", "-KILL", str(pids[-1])], check=True)
    pipe.procs["collector"].wait_log(f"started collector {symbol}", timeout=60, count=len(pids) + 1)
    samples = scrape_when(
        ports["collector"],
        lambda s: value(s, "booksnap_collector_book_synced", symbol=symbol) == 1,
        "the restarted child in sync",
    )
    starts = [m for m in STARTED.finditer(pipe.log("collector")) if m.group(1) == symbol]
    assert (
        value(samples, "booksnap_collector_child_restarts_total", symbol=symbol) == len(starts) - 1
    )
    after = value(samples, "booksnap_collector_published_seconds_total", symbol=symbol)
    assert after is not None
    assert after >= published
    synced = [k for k in samples if k[0] == "booksnap_collector_book_synced"]
    assert len(synced) == len(SYMBOLS)  # the dead child's gauges are gone


def test_query_requests_by_method_and_outcome(metered: tuple[Pipeline, dict[str, int]]) -> None:
    pipe, ports = metered
    endpoint = pipe.env["BOOKSNAP_QUERY_ENDPOINT"]
    before = scrape(ports["query"])
    sent = {
        ("orderbook_l1", "ok"): 0,
        ("orderbook_l1", "invalid_params"): 0,
        ("coverage", "ok"): 0,
        ("unknown", "method_not_found"): 0,
    }
    with QueryClient(endpoint, timeout=10) as client:
        for _ in range(3):
            poll_for(
                lambda: client.request("orderbook_l1", {"symbol": "BTCUSDT"}), 10, what="an l1"
            )
            sent["orderbook_l1", "ok"] += 1
        for method, params, key in (
            ("orderbook_l1", {"symbol": "BTCUSDT", "bogus": 1}, ("orderbook_l1", "invalid_params")),
            ("no_such_method", {}, ("unknown", "method_not_found")),
        ):
            with pytest.raises(QueryFailed):
                client.request(method, params)
            sent[key] += 1
        now = int(time.time())
        client.request("coverage", {"symbol": "BTCUSDT", "start": now - 60, "end": now})
        sent["coverage", "ok"] += 1
    after = scrape(ports["query"])
    for (method, outcome), count in sent.items():
        name = "booksnap_query_requests_total"
        delta = (value(after, name, method=method, outcome=outcome) or 0) - (
            value(before, name, method=method, outcome=outcome) or 0
        )
        assert delta == count, (method, outcome)
    l1 = value(after, "booksnap_query_request_seconds_count", method="orderbook_l1")
    assert l1 == sum(
        v
        for (n, labels), v in after.items()
        if n == "booksnap_query_requests_total" and ("method", "orderbook_l1") in labels
    )
    for symbol in SYMBOLS:
        age = value(after, "booksnap_live_book_age_seconds", symbol=symbol)
        assert age is not None
        assert 0 <= age < 5
    assert value(after, "booksnap_query_worker_restarts_total") == 0
    assert value(after, "booksnap_query_db_requests_in_flight") == 0


def test_writer_rejects_equal_its_status(metered: tuple[Pipeline, dict[str, int]]) -> None:
    pipe, ports = metered
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.connect(pipe.env["BOOKSNAP_INGEST_ENDPOINT"])
    pub.connect(pipe.env["BOOKSNAP_LIVE_ENDPOINT"])  # the query process's live SUB too
    now = int(time.time())
    # A well-formed second of a symbol nobody configured: refused, and never a label value.
    hostile = Second("EVILUSDT", now, 1, 1, 1, now * 1000, now * 1000, ((100, 1),), ((200, 1),))
    try:

        def rejected() -> bool:
            pub.send_multipart([b"snap.BTCUSDT", b"not a book"])  # two frames: "frames"
            pub.send_multipart([b"snap.BTCUSDT", b"\xc1", b"\xc1"])  # undecodable: "decode"
            pub.send_multipart(hostile.frames())  # "symbols"
            causes = set(writer_status(pipe).get("rejected", {}))
            return {"frames", "decode", "symbols"} <= causes

        poll_for(rejected, 20, interval=0.3, what="rejections in the writer's status")
    finally:
        pub.close()
        context.term()

    def agree() -> bool:
        status = writer_status(pipe)["rejected"]
        samples = scrape(ports["writer"])
        metric = {
            dict(labels)["cause"]: int(v)
            for (name, labels), v in samples.items()
            if name == "booksnap_writer_rejected_messages_total"
        }
        return metric == status

    poll_for(agree, 15, interval=0.5, what="rejected counts = writer status")


def test_every_defined_metric_is_served(metered: tuple[Pipeline, dict[str, int]]) -> None:
    _, ports = metered
    served = {name for port in ports.values() for name, _ in scrape(port)}
    served |= {name.removesuffix(s) for name in served for s in SUFFIXES if name.endswith(s)}
    defined = {v.name for v in vars(metrics).values() if isinstance(v, metrics.Metric)}
    assert defined - served == set()
    labelled = {dict(labels).get("symbol") for port in ports.values() for _, labels in scrape(port)}
    assert labelled - {None} == set(SYMBOLS)  # EVILUSDT (sent above) is not among them


def test_writer_counts_equal_the_stored_lines_and_status(
    metered: tuple[Pipeline, dict[str, int]],
) -> None:
    pipe, ports = metered
    assert pipe.procs["collector"].stop() == 0  # no more records: the counts settle
    lines = poll_for(_settled(pipe), 20, interval=1.0, what="no new Stored lines")
    assert lines is not None
    settled_at = time.time()
    status = poll_for(
        lambda: (w := writer_status(pipe)) and w["updated"] > settled_at + 1 and w,
        15,
        what="a status record written after the last store",
    )
    samples = scrape(ports["writer"])
    for symbol in SYMBOLS:
        stored = value(samples, "booksnap_stored_seconds_total", symbol=symbol)
        # Every Stored line counts, a second stored again (live, then from a buffer) included.
        logged = stored_seconds(pipe.log("writer"), symbol)
        assert stored == len(logged) == status["symbols"][symbol]["hour"], (
            symbol,
            stored,
            logged,
            status,
        )
        assert value(samples, "booksnap_last_stored_second", symbol=symbol) == max(lines[symbol])
        backfilled = value(samples, "booksnap_backfilled_seconds_total", symbol=symbol)
        assert backfilled == status["symbols"][symbol]["backfilled"]
        assert (
            value(samples, "booksnap_missed_seconds_total", symbol=symbol)
            == status["symbols"][symbol]["missing"]
        )
        lag_count = value(samples, "booksnap_durable_lag_seconds_count", symbol=symbol)
        assert stored is not None
        assert backfilled is not None
        assert lag_count == stored - backfilled  # one observation per live second
        assert lag_count
        lag_sum = value(samples, "booksnap_durable_lag_seconds_sum", symbol=symbol)
        assert lag_sum is not None
        assert 0 < lag_sum / lag_count < 2
    assert (
        sum(value(samples, "booksnap_lost_seconds_total", symbol=s) or 0 for s in SYMBOLS)
        == status["unrecoverable"]
    )
    assert value(samples, "booksnap_writer_queue_records") == status["pending"] == 0
    assert value(samples, "booksnap_writer_queue_capacity_records") == 2 * 20 * 60  # 20 min
    assert value(samples, "booksnap_writer_write_errors_total") == status["write_errors"]
    assert value(samples, "booksnap_writer_dropped_records_total") == status["dropped"]
    assert value(samples, "booksnap_writer_store_up") == 1
    sst = value(samples, "booksnap_rocksdb_sst_files_bytes")
    assert sst is not None
    assert sst >= 0
    assert value(samples, "booksnap_rocksdb_pending_compaction_bytes") is not None
    memtables = value(samples, "booksnap_rocksdb_memory_bytes", part="memtables")
    cache = value(samples, "booksnap_rocksdb_memory_bytes", part="cache")
    assert memtables is not None
    assert cache is not None
    assert value(samples, "booksnap_rocksdb_memory_bytes", part="table_readers") is not None
    # The stored records sit in memtables, which are charged to the one bounded cache.
    assert 0 < memtables <= cache <= storage.WRITER_MEMORY
    size, free = (
        value(samples, "booksnap_data_disk_size_bytes"),
        value(samples, "booksnap_data_disk_available_bytes"),
    )
    assert size is not None
    assert free is not None
    assert 0 < free <= size
    batches = value(samples, "booksnap_writer_batch_seconds_count")
    assert batches is not None
    assert 0 < batches <= sum(len(x) for x in lines.values())


def _settled(pipe: Pipeline) -> Callable[[], dict[str, set[int]] | None]:
    seen: list[int] = []

    def check() -> dict[str, set[int]] | None:
        lines = stored_in(pipe.log("writer"))
        total = sum(len(found) for found in lines.values())
        settled = bool(seen) and seen[-1] == total
        seen.append(total)
        return lines if settled else None

    return check


# --- off by default; the loopback rule ----------------------------------------------------------


def listening_ports(pid: int) -> set[int]:
    """TCP ports process ``pid`` listens on (from /proc: its socket inodes in LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_exporter_is_off_by_default(tmp_path: Path) -> None:
    ingest, backfill = free_endpoint(), free_endpoint()
    writer = Proc(
        "writer",
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--ingest-endpoint",
            ingest,
            "--backfill-endpoint",
            backfill,
        ],
        tmp_path / "writer.log",
        env={"BOOKSNAP_METRICS_PORT": ""},
    ).start()
    try:
        writer.wait_log("Writer ready", timeout=30)
        zmq_ports = {int(e.rsplit(":", 1)[1]) for e in (ingest, backfill)}
        assert listening_ports(writer.pid) == zmq_ports
        assert "metrics" not in writer.log().lower()
    finally:
        assert writer.stop() == 0


@pytest.mark.parametrize("module", ["writer", "query", "collector"])
def test_a_non_loopback_metrics_host_is_refused(module: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            module,
            "--metrics-port",
            str(free_port()),
            "--metrics-host",
            "0.0.0.0",
        ],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "BOOKSNAP_DATA_DIR": str(tmp_path / "data")},
    )
    assert result.returncode == 2
    assert "--metrics-public" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything started
