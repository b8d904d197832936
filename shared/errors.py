"""The few named exceptions booksnap's processes raise and recover from."""

from __future__ import annotations


class BooksnapError(Exception):
    """Base class of every booksnap error."""


class ConfigError(BooksnapError):
    """A configuration value is invalid; the message names the option."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"invalid {option}: {message}")
        self.option = option


class DecodeError(BooksnapError):
    """Bytes that do not decode to a valid booksnap record."""


class BookGap(BooksnapError):
    """The local book can no longer be trusted (sequence gap, crossed book, lost connection)."""


class StoreUnavailable(BooksnapError):
    """The database cannot be opened or written right now."""
