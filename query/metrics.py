"""The query process's Prometheus metrics (names in shared/metrics.py).

Requests are counted where their reply is sent: inline (live methods, refusals) by the server,
database methods by the worker pool when the worker's reply (or its failure) comes back. The
outcome is read from the reply's first bytes, never by parsing a whole (possibly large) reply.
Live-book ages, workers restarted and requests in flight are read at scrape time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from query.server import QueryServer
from shared import metrics as m
from shared.methods import BY_NAME
from shared.protocol import ERROR_NAMES

OK = "ok"
UNKNOWN_METHOD = "unknown"  # a method name that is not one of shared/methods.py (or unparsed)
PROBE_BYTES = 4096  # the id (≤ 200 characters, escaped) and the error code fit in this
_ERROR = re.compile(rb',"error":\{"code":(-?\d{1,6})')
_OUTCOMES = {code: name.replace(" ", "_") for code, name in ERROR_NAMES.items()}


def outcome_of(reply: bytes) -> str:
    """``ok``, or the error's name (``invalid_params``, ``busy``, ...) of a JSON reply.

    Replies are ``{"id":…,"result":…}`` or ``{"id":…,"error":{"code":…}}``; a ``"`` inside the
    id is escaped, so the first ``,"result":`` or ``,"error":`` after it is the real key.
    """
    head = reply[:PROBE_BYTES]
    error = _ERROR.search(head)
    result = head.find(b',"result":')
    if error is None or (0 <= result < error.start()):
        return OK
    return _OUTCOMES.get(int(error.group(1)), "error")


class QueryMetrics(Collector):
    """Attach to the query server's pieces and register on ``registry``."""

    def __init__(
        self, server: QueryServer, symbols: tuple[str, ...], registry: CollectorRegistry
    ) -> None:
        self._books = server.feed.books
        self._pool = server.worker
        self._now = server.clock.now  # the clock the live books are stamped with
        self._symbols = tuple(sorted(symbols))
        self._requests = m.counter(m.QUERY_REQUESTS, registry)
        self._latency = m.histogram(m.QUERY_LATENCY, registry)
        registry.register(self)
        server.on_reply = self.answered
        server.worker.on_reply = self.answered

    def answered(self, method: str, reply: bytes, seconds: float) -> None:
        """One reply sent (or handed to the socket) ``seconds`` after its request arrived."""
        name = method if method in BY_NAME else UNKNOWN_METHOD
        self._requests.labels(name, outcome_of(reply)).inc()
        self._latency.labels(name).observe(seconds)

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        now = self._now()
        age = m.gauge_family(m.LIVE_BOOK_AGE)
        entries = dict(self._books.symbols)  # one C-level copy: the main thread adds symbols
        for symbol in self._symbols:
            entry = entries.get(symbol)
            if entry is not None and entry.book is not None:
                age.add_metric([symbol], max(0.0, now - entry.book_received))
        yield age
        restarts = m.counter_family(m.QUERY_WORKER_RESTARTS)
        restarts.add_metric([], self._pool.restarts)
        yield restarts
        in_flight = m.gauge_family(m.QUERY_IN_FLIGHT)
        in_flight.add_metric([], self._pool.in_flight)
        yield in_flight
