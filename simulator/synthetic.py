"""An endless, seedable synthetic market per symbol: a full book that evolves like a real one.

Every 100 ms step draws Poisson-like numbers of limit-order adds, cancels and taker orders near
the touch around a random-walk fair price. Taker orders consume the touch exactly as the book
holds it (a trade at the best ask reduces or deletes that level in the same diff), so trades,
diffs, the bookTicker and the REST snapshot always agree. Occasional bursts (more and larger
orders) and thin-book episodes (liquidity withdrawn, then refilled) give analytics something to
find. Each step is one ``depthUpdate`` whose update ids count every level operation.

A symbol's ``activity`` (1.0 by default) scales its order arrival rates and volatility, so a
quiet symbol sends a diff only every few seconds. Below 1.0 it also has silent episodes (10-60 s
with no order at all, more often the quieter it is), as quiet Binance pairs do; they are drawn
from the same seeded generator, so a seed gives the same market every time.
"""

from __future__ import annotations

import math
import random

from simulator.instruments import Instrument, symbol_hash
from simulator.market import (
    AggTradeEvent,
    Book,
    BookTickerEvent,
    DepthEvent,
    MarketEvent,
    Snapshot,
    TradeEvent,
    aggregate_trades,
)
from simulator.orderflow import BURST, NORMAL, THIN, Rates, poisson, scaled, split_qty

STEP_MS = 100
LEVELS_PER_SIDE = 600  # enough for a realistic 1000-level snapshot across both sides
DEPTH_FRACTION = 0.01  # the deepest level sits about 1 % away from the touch
VOL_PER_SQRT_S = 1.0e-4  # fair-price volatility, relative, per sqrt(second): 1 bp
SILENCE_PER_S = 1 / 90  # chance per second that a fully quiet symbol falls silent
SILENCE_MS = (10_000, 60_000)  # how long a silent episode lasts


class SyntheticMarket:
    """One symbol's market; ``step`` advances it 100 ms and returns that step's events."""

    def __init__(
        self, instrument: Instrument, seed: int, start_ms: int, activity: float = 1.0
    ) -> None:
        self.instrument = instrument
        self.activity = min(1.0, max(0.0, activity))
        self._rates = {name: scaled(r, self.activity) for name, r in _REGIMES.items()}
        self.rng = random.Random(seed ^ symbol_hash(instrument.symbol))
        self.book = Book()
        self.update_id = self.rng.randrange(10**9, 5 * 10**10)
        self.trade_id = self.rng.randrange(10**8, 4 * 10**9)
        self.agg_id = self.rng.randrange(10**8, 2 * 10**9)
        self.regime, self.regime_until = "normal", start_ms
        ticks_deep = DEPTH_FRACTION * instrument.ref_price / instrument.tick
        # Gaps between levels grow linearly with depth: dense near the touch, sparse far out.
        self.gap_slope = max(0.0, (ticks_deep - LEVELS_PER_SIDE) / (LEVELS_PER_SIDE**2 / 2))
        self.sigma_ticks = (
            VOL_PER_SQRT_S * math.sqrt(STEP_MS / 1000) * instrument.ref_price / instrument.tick
        )
        self.fair = float(instrument.ref_price // instrument.tick)  # in ticks
        self._build_initial_book()
        self._changes: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._ops = 0

    # --- public -------------------------------------------------------------------------------

    def step(self, now_ms: int) -> list[MarketEvent]:
        """Advance one step; returns the depth diff, trades, aggTrades and bookTicker it caused."""
        rates = self._update_regime(now_ms)
        if self.regime == "silent":
            return []
        rng = self.rng
        dt = STEP_MS / 1000
        top_before = (self.book.best_bid(), self.book.best_ask())
        first_id = self.update_id + 1
        self._changes = ({}, {})
        self._ops = 0
        self.fair += rng.gauss(0, self.sigma_ticks * rates.vol)
        trades = self._reprice(now_ms)
        for _ in range(poisson(rng, rates.takers * dt)):
            trades.extend(self._taker(now_ms, rates))
        for _ in range(poisson(rng, rates.cancels * dt)):
            self._cancel()
        for _ in range(poisson(rng, rates.adds * dt)):
            self._add(rates)
        self._tighten(rates)
        if self.activity >= 1.0 or rng.random() < self.activity:
            self._maintain_depth()  # a quiet book is tended as rarely as it trades
        events: list[MarketEvent] = []
        if self._ops:
            bids, asks = self._changes
            events.append(
                DepthEvent(
                    self.instrument.symbol,
                    first_id,
                    self.update_id,
                    now_ms,
                    sorted(bids.items(), reverse=True),
                    sorted(asks.items()),
                )
            )
        events.extend(trades)
        aggs: list[AggTradeEvent] = aggregate_trades(trades, self.agg_id + 1)
        self.agg_id += len(aggs)
        events.extend(aggs)
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if (bid, ask) != top_before and bid and ask:
            events.append(BookTickerEvent(self.instrument.symbol, self.update_id, *bid, *ask))
        return events

    def snapshot(self, limit: int) -> Snapshot:
        return Snapshot(self.update_id, self.book.top_bids(limit), self.book.top_asks(limit))

    # --- order flow ---------------------------------------------------------------------------

    def _set(self, is_bid: bool, price: int, qty: int) -> None:
        side = self.book.bids if is_bid else self.book.asks
        if qty > 0:
            side[price] = qty
        else:
            side.pop(price, None)
            qty = 0
        self._changes[0 if is_bid else 1][price] = qty
        self.update_id += 1
        self._ops += 1

    def _size(self, rates: Rates) -> int:
        qty = self.instrument.ref_qty * rates.size * self.rng.lognormvariate(-0.7, 1.1)
        return self.instrument.round_qty(int(qty))

    def _fill(self, buy: bool, price: int, take: int, trade_ms: int) -> list[TradeEvent]:
        """Trades against one level (one per maker order there), and the level's new size."""
        rng = self.rng
        side = self.book.asks if buy else self.book.bids
        level_qty = side[price]
        take = min(take, level_qty)
        trades = []
        for fill in split_qty(rng, take, self.instrument.step, rng.randint(1, 3)):
            self.trade_id += 1
            trades.append(
                TradeEvent(
                    self.instrument.symbol,
                    self.trade_id,
                    price,
                    fill,
                    trade_ms,
                    trade_ms + rng.randrange(0, 3),
                    not buy,
                )
            )
        self._set(not buy, price, level_qty - take)
        return trades

    def _reprice(self, now_ms: int) -> list[TradeEvent]:
        """Quotes left on the wrong side of the fair price: a taker lifts the first few levels,
        the makers of the rest re-quote on the other side (how a price move looks in a book)."""
        fair_price = round(self.fair) * self.instrument.tick
        trades: list[TradeEvent] = []
        for buy in (True, False):
            side = self.book.asks if buy else self.book.bids
            lifted = self.rng.randint(0, 2)
            trade_ms = now_ms - self.rng.randrange(0, STEP_MS)
            while side and len(side) > 1:
                price = side.keys()[0] if buy else side.keys()[-1]
                if (price >= fair_price) if buy else (price <= fair_price):
                    break
                if lifted > 0:
                    trades.extend(self._fill(buy, price, side[price], trade_ms))
                    lifted -= 1
                else:
                    self._set(not buy, price, 0)
                    if self.rng.random() < 0.8:
                        self._set(buy, price, self._size(NORMAL))
        return trades

    def _taker(self, now_ms: int, rates: Rates) -> list[TradeEvent]:
        """A market order at the touch; it rarely walks past the first level."""
        rng = self.rng
        lean = math.tanh((self.fair - self._mid_ticks()) / max(1.0, self.sigma_ticks))
        buy = rng.random() < 0.5 + 0.3 * lean
        side = self.book.asks if buy else self.book.bids
        remaining = self._size(rates)
        trade_ms = now_ms - rng.randrange(0, STEP_MS)
        trades: list[TradeEvent] = []
        while remaining > 0 and len(side) > 1:
            price = side.keys()[0] if buy else side.keys()[-1]
            take = min(remaining, side[price])
            trades.extend(self._fill(buy, price, take, trade_ms))
            remaining -= take
            if rng.random() < 0.7:
                break  # most of the rest is cancelled rather than walking the book
        return trades

    def _cancel(self) -> None:
        rng = self.rng
        is_bid = rng.random() < 0.5
        side = self.book.bids if is_bid else self.book.asks
        if len(side) < 3:
            return
        index = min(len(side) - 1, int(rng.expovariate(1 / 6)))
        price = side.keys()[-1 - index] if is_bid else side.keys()[index]
        qty = side[price]
        if rng.random() < 0.55:
            self._set(is_bid, price, 0)
        else:
            self._set(is_bid, price, self.instrument.round_qty(int(qty * rng.uniform(0.2, 0.9))))

    def _add(self, rates: Rates, is_bid: bool | None = None, offset: int | None = None) -> None:
        """A limit order near the fair price (now and then a deep one), never crossing."""
        rng, tick = self.rng, self.instrument.tick
        if is_bid is None:
            is_bid = rng.random() < 0.5
        if offset is None:
            mean = (1 + 4 * self.gap_slope) * (25 if rng.random() < 0.15 else 1)
            offset = 1 + int(rng.expovariate(1 / mean))
        fair = round(self.fair)
        price = (fair - offset) * tick if is_bid else (fair + offset) * tick
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if is_bid and ask is not None:
            price = min(price, ask[0] - tick)
        if not is_bid and bid is not None:
            price = max(price, bid[0] + tick)
        if price <= 0:
            return
        side = self.book.bids if is_bid else self.book.asks
        self._set(is_bid, price, side.get(price, 0) + self._size(rates))

    def _tighten(self, rates: Rates) -> None:
        """Market makers step into a wide spread (not during a thin-book episode)."""
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is None or ask is None:
            return
        widest = (2 + 2 * self.gap_slope) * (10 if rates is THIN else 1)
        if (ask[0] - bid[0]) // self.instrument.tick > widest:
            self._add(rates, is_bid=True, offset=self.rng.randint(0, 1))
            self._add(rates, is_bid=False, offset=self.rng.randint(0, 1))

    def _maintain_depth(self) -> None:
        """Keep each side near LEVELS_PER_SIDE levels within a few % of the fair price."""
        fair_price = round(self.fair) * self.instrument.tick
        too_far = int(fair_price * DEPTH_FRACTION * 3)
        for is_bid in (True, False):
            side = self.book.bids if is_bid else self.book.asks
            while len(side) < LEVELS_PER_SIDE - 40:
                self._extend_far(is_bid, fair_price, too_far)
            far = side.keys()[0] if is_bid else side.keys()[-1]
            if len(side) > LEVELS_PER_SIDE + 40 or abs(far - fair_price) > too_far:
                self._set(is_bid, far, 0)

    def _extend_far(self, is_bid: bool, fair_price: int, too_far: int) -> None:
        side = self.book.bids if is_bid else self.book.asks
        tick = self.instrument.tick
        worst = fair_price if not side else side.keys()[0] if is_bid else side.keys()[-1]
        if abs(worst - fair_price) > too_far * 2 // 3:
            # The side already reaches far enough: fill a hole somewhere inside instead.
            depth = self.rng.randint(1, abs(worst - fair_price) // tick)
            price = fair_price - depth * tick if is_bid else fair_price + depth * tick
            if price > 0 and price not in side and not self._crosses(is_bid, price):
                self._set(is_bid, price, self._size(NORMAL) * self.rng.randint(1, 4))
                return
        gap = 1 + int(self.rng.expovariate(1 / (1 + self.gap_slope * len(side))))
        price = worst - gap * tick if is_bid else worst + gap * tick
        if price > 0:
            self._set(is_bid, price, self._size(NORMAL) * self.rng.randint(1, 4))
        else:
            self._set(is_bid, worst, side.get(worst, 0) + self.instrument.step)

    def _crosses(self, is_bid: bool, price: int) -> bool:
        other = self.book.best_ask() if is_bid else self.book.best_bid()
        return other is not None and ((price >= other[0]) if is_bid else (price <= other[0]))

    # --- state --------------------------------------------------------------------------------

    def _mid_ticks(self) -> float:
        bid, ask = self.book.best_bid(), self.book.best_ask()
        if bid is None or ask is None:
            return self.fair
        return (bid[0] + ask[0]) / 2 / self.instrument.tick

    def _update_regime(self, now_ms: int) -> Rates:
        """Normal most of the time; a burst about every 2 min, a thin book about every 3 min;
        a quiet symbol also falls silent now and then."""
        if now_ms >= self.regime_until:
            draw = self.rng.random()
            silence = SILENCE_PER_S * (1.0 - self.activity)
            if self.regime == "normal" and draw < 1 / 120:
                self.regime, self.regime_until = "burst", now_ms + self.rng.randint(2000, 8000)
            elif self.regime == "normal" and draw < 1 / 120 + 1 / 180:
                self.regime, self.regime_until = "thin", now_ms + self.rng.randint(3000, 8000)
            elif self.regime == "normal" and draw < 1 / 120 + 1 / 180 + silence:
                self.regime, self.regime_until = "silent", now_ms + self.rng.randint(*SILENCE_MS)
            else:
                self.regime, self.regime_until = "normal", now_ms + 1000
        return self._rates.get(self.regime, self._rates["normal"])

    def _build_initial_book(self) -> None:
        tick, rng = self.instrument.tick, self.rng
        jitter = 1 + (symbol_hash(self.instrument.symbol) % 2001 - 1000) / 10_000
        mid = int(self.instrument.ref_price * jitter) // tick
        self.fair = float(mid)
        for is_bid in (True, False):
            side = self.book.bids if is_bid else self.book.asks
            distance = 0
            for index in range(LEVELS_PER_SIDE):
                distance += 1 + int(rng.expovariate(1 / (1 + self.gap_slope * index)))
                price = (mid - distance if is_bid else mid + distance) * tick
                if price <= 0:
                    break
                side[price] = self._size(NORMAL) * (1 + index // 100)


_REGIMES = {"normal": NORMAL, "burst": BURST, "thin": THIN}
