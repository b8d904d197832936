"""Synthetic markets for many symbols, stepped together on the wall clock."""

from __future__ import annotations

from simulator.instruments import instrument_for
from simulator.market import MarketEvent, Snapshot
from simulator.orderflow import zipf_activity
from simulator.synthetic import STEP_MS, SyntheticMarket


class SyntheticSource:
    """Synthetic markets for any list of symbols, stepped every 100 ms of wall time.

    With ``zipf`` > 0 the symbols' activity follows Zipf's law by their position in the list:
    the first is as busy as a default synthetic symbol, the k-th ``1 / k ** zipf`` as busy.
    """

    def __init__(
        self, symbols: tuple[str, ...], seed: int, start_ms: int, zipf: float = 0.0
    ) -> None:
        self.symbols = symbols
        activity = zipf_activity(len(symbols), zipf)
        self.markets = {
            s: SyntheticMarket(instrument_for(s), seed, start_ms, a)
            for s, a in zip(symbols, activity, strict=True)
        }
        self.next_step_ms = start_ms + STEP_MS

    def advance(self, now_ms: int) -> list[MarketEvent]:
        events: list[MarketEvent] = []
        while self.next_step_ms <= now_ms:
            # After a long pause (a stall of the process), skip ahead instead of catching up.
            if now_ms - self.next_step_ms > 10 * STEP_MS:
                self.next_step_ms = now_ms
            for market in self.markets.values():
                events.extend(market.step(self.next_step_ms))
            self.next_step_ms += STEP_MS
        return events

    def snapshot(self, symbol: str, limit: int) -> Snapshot:
        return self.markets[symbol].snapshot(limit)

    def describe(self, symbol: str) -> dict[str, object]:
        market = self.markets[symbol]
        bid, ask = market.book.best_bid(), market.book.best_ask()
        return {
            "last_update_id": market.update_id,
            "best_bid": bid[0] if bid else None,
            "best_ask": ask[0] if ask else None,
            "levels": [len(market.book.bids), len(market.book.asks)],
            "regime": market.regime,
            "activity": market.activity,
        }
