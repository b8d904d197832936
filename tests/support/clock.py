"""The one fake ``shared.clock.Clock`` of the test suite: time moves only when a test moves it."""

from __future__ import annotations


class FakeClock:
    """A wall clock and a monotonic clock that move together, only when a test moves them.

    ``FakeClock(1000.0)`` has both at 1000; ``FakeClock(NOW, monotonic=0.0)`` starts the monotonic
    clock at 0 while the wall clock reads NOW. ``advance``, ``sleep`` and ``t += x`` move both by
    the same amount (each kept on its own, so the small monotonic values stay exact).
    """

    def __init__(self, now: float = 1_000.0, *, monotonic: float | None = None) -> None:
        self._wall = now
        self._mono = now if monotonic is None else monotonic

    @property
    def t(self) -> float:
        return self._wall

    @t.setter
    def t(self, value: float) -> None:
        same = self._mono == self._wall
        self._mono = value if same else self._mono + (value - self._wall)
        self._wall = value

    def now(self) -> float:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        self._wall += seconds
        self._mono += seconds
