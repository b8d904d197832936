"""LiveHandlers: ``orderbook_l1``/``orderbook_l2``, answered in the main process from LiveBooks.

Never from disk: the book is the latest one a collector published on ``book.<SYMBOL>``, and the
reply says how old it is (``data_age_ms`` from the analytics, ``received_age_ms`` from here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from query import analytics
from query.arguments import Params, parse
from query.live import LiveBooks
from shared.clock import Clock
from shared.methods import BY_NAME, METHODS
from shared.protocol import NOT_FOUND, RequestError


class LiveHandlers:
    """The methods answered from the live stream, in the main process."""

    def __init__(self, live: LiveBooks, clock: Clock) -> None:
        self.live = live
        self.clock = clock
        self.methods: dict[str, Callable[[Params], Any]] = {
            method.name: getattr(self, method.name) for method in METHODS if method.source == "live"
        }

    def orderbook_l1(self, params: Params) -> Any:
        """Touch, spread, weighted mid, imbalance of the latest live book."""
        symbol = parse(BY_NAME["orderbook_l1"], params)["symbol"]
        book, received = self._live_book(symbol)
        now_ms = int(self.clock.now() * 1000)
        result = analytics.orderbook_l1(book, now_ms=now_ms)
        result.setdefault("received_age_ms", max(0, now_ms - int(received * 1000)))
        return result

    def orderbook_l2(self, params: Params) -> Any:
        """The best ``levels`` levels per side of the latest live book."""
        args = parse(BY_NAME["orderbook_l2"], params)
        symbol, levels = args["symbol"], args["levels"]
        book, received = self._live_book(symbol)
        now_ms = int(self.clock.now() * 1000)
        result = analytics.orderbook_l2(book, levels=levels, now_ms=now_ms)
        result.setdefault("received_age_ms", max(0, now_ms - int(received * 1000)))
        return result

    def _live_book(self, symbol: str) -> Any:
        found = self.live.book(symbol)
        if found is None:
            raise RequestError(
                NOT_FOUND,
                f"no live book of {symbol} received yet: is its collector running and "
                "connected to the live endpoint?",
            )
        return found
