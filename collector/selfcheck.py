"""The live self-check: the book against Binance's own ``@bookTicker``, sampled. Pure.

Binance's bookTicker carries the best bid and ask (with sizes) as of update id ``u``. Whenever
the book's update id equals a ticker's ``u``, its best levels must be exactly the ticker's: the
same check the test suite makes on the recordings, run in production. A ticker usually arrives
before the ``@depth@100ms`` batch that ends at its ``u`` (the depth stream is batched, the ticker
is not), sometimes after it, and most tickers fall inside a batch (no book state has their
``u``), so tickers wait in a short queue until the book passes their id.

Sampling keeps the cost small: the collector subscribes to ``<symbol>@bookTicker`` on its own
connection for ``window`` seconds every ``every`` seconds (first right after the book first
syncs), with Binance's ``SUBSCRIBE``/``UNSUBSCRIBE`` requests. A mismatch is logged at ERROR by
the caller and forces a resync.
"""

from __future__ import annotations

from collections import deque

from collector.sync import BookSync
from collector.wire import BookTicker

MAX_PENDING = 4096  # tickers waiting for the book to reach their id; the oldest go first


class SelfCheck:
    """When to sample the bookTicker stream, and the comparison itself."""

    def __init__(self, every: float, window: float) -> None:
        self.every = every  # s between the starts of two windows (0: never)
        self.window = window  # s a window lasts
        self.active = False
        self._next_start: float | None = None  # monotonic; None until the book first synced
        self._end = 0.0
        self._pending: deque[BookTicker] = deque(maxlen=MAX_PENDING)
        self.checks = 0  # since the process started
        self.mismatches = 0

    @property
    def enabled(self) -> bool:
        return self.every > 0 and self.window > 0

    def action(self, now: float, synced: bool) -> str | None:
        """``"subscribe"`` or ``"unsubscribe"`` when a window opens or closes now, else None."""
        if not self.enabled:
            return None
        if self.active:
            if now >= self._end:
                self.active = False
                return "unsubscribe"
            return None
        if self._next_start is None:
            if not synced:
                return None
            self._next_start = now
        if now >= self._next_start and synced:
            self.active = True
            self._end = now + self.window
            self._next_start = now + self.every
            return "subscribe"
        return None

    def connection_changed(self) -> None:
        """A new connection carries no bookTicker subscription: the window is over."""
        self.active = False
        self._pending.clear()

    def on_ticker(self, ticker: BookTicker, sync: BookSync) -> str | None:
        """Check a ticker now if the book stands at its id, else keep it; a mismatch's text."""
        if not sync.synced or ticker.u < sync.update_id:
            return None  # the book passed its id between two batches: nothing to compare
        if ticker.u == sync.update_id:
            return self._compare(ticker, sync)
        self._pending.append(ticker)
        return None

    def on_book(self, sync: BookSync) -> str | None:
        """After the book changed: compare with the ticker of its id; drop the passed ones."""
        pending = self._pending
        update_id = sync.update_id
        while pending and pending[0].u < update_id:
            pending.popleft()
        if pending and pending[0].u == update_id:
            return self._compare(pending.popleft(), sync)
        return None

    @property
    def waiting(self) -> bool:
        return bool(self._pending)

    def reset(self) -> None:
        """The book is gone (resync): its pending comparisons are meaningless."""
        self._pending.clear()

    def _compare(self, ticker: BookTicker, sync: BookSync) -> str | None:
        self.checks += 1
        bid, ask = sync.book.best_bid(), sync.book.best_ask()
        if bid == (ticker.b, ticker.B) and ask == (ticker.a, ticker.A):
            return None
        self.mismatches += 1
        return (
            f"at u={ticker.u} the book's best bid/ask {bid}/{ask} differ from bookTicker's "
            f"{(ticker.b, ticker.B)}/{(ticker.a, ticker.A)}"
        )
