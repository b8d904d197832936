"""Named errors of the analytics functions; the query process turns them into error replies."""

from __future__ import annotations


class AnalyticsError(Exception):
    """Base class of every error an analytics function raises on purpose."""


class ParameterError(AnalyticsError):
    """A request parameter is missing, malformed or out of its allowed range."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"invalid {param}: {message}")
        self.param = param


class InsufficientData(AnalyticsError):
    """The requested window holds too little data for a meaningful answer."""

    def __init__(self, what: str, have: int, needed: int, detail: str = "") -> None:
        message = f"not enough {what}: the window holds {have}, at least {needed} needed"
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)
        self.what = what
        self.have = have
        self.needed = needed
