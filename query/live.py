"""LiveBooks: the collectors' live stream, kept in memory for L1/L2 and re-published as a feed.

The query process binds a SUB on ``BOOKSNAP_LIVE_ENDPOINT`` (collectors connect their PUB) and
subscribes to ``book.`` and ``snap.``. Every valid message updates the latest book of its symbol
and is re-published unchanged on a PUB bound at ``BOOKSNAP_FEED_ENDPOINT``:

- ``[b"book.<SYMBOL>", LiveBook]``: the current book, up to 100 levels, ≤10/s.
- ``[b"snap.<SYMBOL>", BookSnapshot, SecondTrades]``: each second's book and trades, once a second
  (``codec.decode_second`` decodes it).

These bytes come straight from the collectors (not through the writer), so each is decoded and
checked here before it is kept or re-published. Invalid messages (wrong frame count, unknown
topic, undecodable payload, topic/payload symbol mismatch, crossed book, a live book whose event
time lies in the future or before the newest one held) are counted and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import zmq

from shared.clock import Clock
from shared.codec import (
    BOOK_PREFIX,
    MAX_PAYLOAD,
    SNAP_PREFIX,
    decode_live,
    decode_second,
    symbol_of_topic,
)
from shared.errors import DecodeError
from shared.model import LiveBook
from shared.multipart import drain
from shared.security import SocketSecurity
from shared.sessions import SessionGate

log = logging.getLogger(__name__)

MAX_LIVE_MESSAGE = MAX_PAYLOAD  # bytes per frame; ZMQ drops a larger one (and its sender)
PUBLISHING_SECONDS = 5.0  # a collector that sent nothing for this long counts as silent
INVALID_LOG_INTERVAL = 10.0  # log dropped messages at most this often
KEEP_FRAMES = 4  # frames kept of a message (a valid one has 2 or 3): the rest are dropped
MAX_SYMBOLS = 1000  # a misbehaving publisher cannot grow memory without bound
MAX_EVENT_AHEAD_MS = 60_000  # a live book stamped further ahead of this clock is not believed


@dataclass(slots=True)
class SymbolLive:
    """What the live stream told us about one symbol."""

    book: LiveBook | None = None
    book_received: float = 0.0  # wall-clock seconds when the latest book arrived
    last_message: float = 0.0  # wall-clock seconds of the latest valid message of either kind
    books: int = 0
    snapshots: int = 0
    last_snapshot_second: int | None = None
    session: int | None = None  # the collector run currently publishing
    sessions_seen: int = 0  # collector (re)starts observed
    snap_seq: int | None = None
    seq_gaps: int = 0  # snapshot records missed (a jump in seq within one session)
    # A collector publishes nothing for seconds where its book is invalid (resyncing after a
    # gap or a lost connection): consecutive seq numbers, but a jump in seconds.
    resyncs: int = 0
    skipped_seconds: int = 0


class LiveBooks:
    """The latest LiveBook per symbol plus stream health counters; main thread only."""

    def __init__(self, clock: Clock, symbols: Collection[str]) -> None:
        self._clock = clock
        self._now = clock.now
        self._allowed = frozenset(symbols)  # the configured symbols; others are rejected
        self._sessions = SessionGate()
        self.symbols: dict[str, SymbolLive] = {}
        self.invalid = 0
        self._invalid_since_log = 0
        self._last_invalid_log = float("-inf")

    def accept(self, frames: list[bytes]) -> bool:
        """Validate one SUB message and record it; False (counted, logged) if it is invalid."""
        try:
            self._accept(frames)
        except DecodeError as exc:
            self._reject(str(exc))
            return False
        return True

    def _accept(self, frames: list[bytes]) -> None:
        now = self._now()
        if frames and frames[0].startswith(BOOK_PREFIX):
            if len(frames) != 2:
                raise DecodeError(f"expected [topic, live book], got {len(frames)} frames")
            topic, payload = frames
            symbol = symbol_of_topic(topic)
            book = decode_live(payload)
            if book.symbol != symbol:
                raise DecodeError(f"topic {symbol} carries a book of {book.symbol}")
            if book.ts_event > now * 1000 + MAX_EVENT_AHEAD_MS:
                raise DecodeError(f"live book of {symbol} from the future (E={book.ts_event})")
            self._admit(symbol, book.session, book.ts_event // 1000)
            entry = self._entry(symbol)
            if entry.book is not None and book.ts_event < entry.book.ts_event:
                raise DecodeError(
                    f"live book of {symbol} older than the one held "
                    f"(E={book.ts_event} < {entry.book.ts_event})"
                )
            entry.book, entry.book_received = book, now
            entry.books += 1
            self._note_session(entry, book.session)
        else:
            snap, _ = decode_second(frames)
            self._admit(snap.symbol, snap.session, snap.second)
            entry = self._entry(snap.symbol)
            self._note_session(entry, snap.session)
            if entry.snap_seq is not None and snap.seq > entry.snap_seq + 1:
                entry.seq_gaps += snap.seq - entry.snap_seq - 1
            elif (
                entry.snap_seq is not None
                and snap.seq == entry.snap_seq + 1
                and entry.last_snapshot_second is not None
                and snap.second > entry.last_snapshot_second + 1
            ):
                entry.resyncs += 1
                entry.skipped_seconds += snap.second - entry.last_snapshot_second - 1
            entry.snap_seq = snap.seq
            entry.snapshots += 1
            entry.last_snapshot_second = snap.second
        entry.last_message = now

    def _admit(self, symbol: str, session: int, second: int) -> None:
        """DecodeError unless a configured symbol and the session that speaks for it."""
        if symbol not in self._allowed:
            raise DecodeError(f"{symbol} is not a configured symbol")
        if not self._sessions.admit(symbol, session, second, self._clock.monotonic()):
            raise DecodeError(
                f"{symbol} from session {session}; session {self._sessions.session(symbol)} "
                f"speaks for {symbol}"
            )

    def _entry(self, symbol: str) -> SymbolLive:
        entry = self.symbols.get(symbol)
        if entry is None:
            if len(self.symbols) >= MAX_SYMBOLS:
                raise DecodeError(f"more than {MAX_SYMBOLS} symbols on the live stream")
            entry = self.symbols[symbol] = SymbolLive()
            log.info("live stream of %s started", symbol)
        return entry

    def _note_session(self, entry: SymbolLive, session: int) -> None:
        if entry.session != session:
            # A new session is a collector (re)start: its sequence numbers start again.
            entry.session = session
            entry.sessions_seen += 1
            entry.snap_seq = None

    def _reject(self, reason: str) -> None:
        self.invalid += 1
        self._invalid_since_log += 1
        now = self._clock.monotonic()
        if now - self._last_invalid_log >= INVALID_LOG_INTERVAL:
            log.error(
                "dropped %d invalid live message(s) (%d in total); latest: %s",
                self._invalid_since_log,
                self.invalid,
                reason,
            )
            self._invalid_since_log = 0
            self._last_invalid_log = now

    def book(self, symbol: str) -> tuple[LiveBook, float] | None:
        """The latest book of ``symbol`` and when it arrived (wall seconds), or None."""
        entry = self.symbols.get(symbol)
        if entry is None or entry.book is None:
            return None
        return entry.book, entry.book_received

    def summary(self) -> dict[str, dict[str, Any]]:
        """A JSON-ready copy of the per-symbol stream health, taken on the main thread."""
        now = self._now()
        return {
            symbol: {
                "publishing": now - entry.last_message <= PUBLISHING_SECONDS,
                "last_message_age_s": round(now - entry.last_message, 3),
                "books_received": entry.books,
                "snapshots_received": entry.snapshots,
                "last_published_second": entry.last_snapshot_second,
                "session": entry.session,
                "sessions_seen": entry.sessions_seen,
                "snapshot_seq_gaps": entry.seq_gaps,
                "resyncs": entry.resyncs,
                "skipped_seconds": entry.skipped_seconds,
            }
            for symbol, entry in sorted(self.symbols.items())
        }


class LiveFeed:
    """The SUB socket collectors publish to and the PUB socket that re-publishes to programs."""

    def __init__(
        self,
        context: zmq.Context[zmq.Socket[bytes]],
        live_endpoint: str,
        feed_endpoint: str,
        books: LiveBooks,
        security: SocketSecurity,
    ) -> None:
        self.books = books
        self.sub = context.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.MAXMSGSIZE, MAX_LIVE_MESSAGE)
        self.sub.setsockopt(zmq.RCVHWM, 10_000)
        self.sub.setsockopt(zmq.SUBSCRIBE, BOOK_PREFIX)
        self.sub.setsockopt(zmq.SUBSCRIBE, SNAP_PREFIX)
        self.pub = context.socket(zmq.PUB)
        self.pub.setsockopt(zmq.LINGER, 0)
        self.pub.setsockopt(zmq.SNDHWM, 10_000)
        try:
            security.serve(self.sub, "live", live_endpoint, "--live-endpoint")
            self.sub.bind(live_endpoint)
            security.serve(self.pub, "feed", feed_endpoint, "--feed-endpoint")
            self.pub.bind(feed_endpoint)
        except BaseException:
            self.close()
            raise
        self.republished = 0

    def drain(self, max_messages: int = 200) -> int:
        """Receive what is waiting (without blocking), record and re-publish the valid messages."""
        messages = drain(self.sub, KEEP_FRAMES, max_messages)
        for frames in messages:
            if self.books.accept(frames):
                try:
                    self.pub.send_multipart(frames, zmq.NOBLOCK)
                    self.republished += 1
                except zmq.Again:  # a slow feed subscriber must not stall us; PUB drops anyway
                    pass
        return len(messages)

    def close(self) -> None:
        self.pub.close(linger=0)
        self.sub.close(linger=0)
