"""Run cryptofeed 2.4.1 against the simulator: the peer the ``peers`` benchmark measures.

Run by the benchmark with cryptofeed's own interpreter (Python 3.11, its own venv), never
imported by booksnap: ``python cryptofeed_driver.py PORT SYM1,SYM2,... COUNTS_FILE``.

One asyncio process keeps every symbol's L2 book (depth diffs + REST snapshot, cryptofeed's own
sync) and takes its aggregate trades, as booksnap's collectors do. The callbacks only count what
arrives, so what is measured is cryptofeed's own work. Pointing it at the simulator changes
nothing in site-packages: the Binance feed's class attributes for its endpoints are replaced,
and its WebSocket connection class (which refuses any address but ``wss://``) is subclassed to
accept the simulator's ``ws://``. On SIGUSR1 it writes the counts as JSON to COUNTS_FILE; on
SIGTERM it writes them and exits.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys

from cryptofeed import FeedHandler, connection, feed
from cryptofeed.connection import RestEndpoint, Routes, WebsocketEndpoint
from cryptofeed.defines import L2_BOOK, TRADES
from cryptofeed.exchanges import Binance

COUNTS = {"book": 0, "trades": 0}


class PlainWSConn(connection.WSAsyncConn):
    """cryptofeed's WebSocket connection, allowed to use the simulator's plain ``ws://``."""

    def __init__(self, address: str, conn_id: str, **kwargs: object) -> None:
        super().__init__("wss://" + address.split("://", 1)[1], conn_id, **kwargs)
        self.address = address


async def on_book(book: object, receipt: float) -> None:
    COUNTS["book"] += 1


async def on_trade(trade: object, receipt: float) -> None:
    COUNTS["trades"] += 1


def main() -> None:
    port, symbols, counts_file = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3]
    Binance.websocket_endpoints = [WebsocketEndpoint(f"ws://127.0.0.1:{port}")]
    Binance.rest_endpoints = [
        RestEndpoint(
            f"http://127.0.0.1:{port}",
            routes=Routes("/api/v3/exchangeInfo", l2book="/api/v3/depth?symbol={}&limit={}"),
        )
    ]
    feed.WSAsyncConn = PlainWSConn  # the name Feed.connect() uses
    pairs = [f"{s[:-4]}-USDT" for s in symbols]  # the simulator quotes every symbol in USDT
    handler = FeedHandler(config={"log": {"disabled": True}})
    handler.add_feed(
        Binance(
            symbols=pairs,
            channels=[L2_BOOK, TRADES],
            callbacks={L2_BOOK: on_book, TRADES: on_trade},
        )
    )

    def write_counts() -> None:
        with open(counts_file + ".tmp", "w") as out:
            json.dump(COUNTS, out)
        os.replace(counts_file + ".tmp", counts_file)

    def finish() -> None:
        write_counts()
        raise SystemExit(0)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.add_signal_handler(signal.SIGUSR1, write_counts)
    loop.add_signal_handler(signal.SIGTERM, finish)
    handler.run(start_loop=True, install_signal_handlers=False)


if __name__ == "__main__":
    main()
