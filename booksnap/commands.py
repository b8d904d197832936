"""The query subcommands of ``booksnap``: one per method, each a thin layer over QueryClient."""

from __future__ import annotations

import click

from booksnap import render
from booksnap.export import export
from booksnap.options import (
    ask,
    check_tick_size,
    connection_options,
    drop_none,
    end_option,
    output,
    param_option,
    symbol_argument,
    window_option,
)
from booksnap.stored_commands import coverage, snapshots, status

# --- windowed analytics ---------------------------------------------------------------------------


@click.command(name="quality")
@symbol_argument
@param_option("--window", "get_market_quality", "window_duration_secs")
@end_option
@connection_options
def quality(
    *, symbol: str, window: int, end: int | None, endpoint: str, timeout: float, as_json: bool
) -> None:
    """Market quality of the last WINDOW seconds: realised volatility and bipower variation,
    OFI price impact, quoted/effective/realised spreads.

    \b
    Example:
        booksnap quality BTCUSDT --window 300
    """
    params = drop_none(symbol=symbol, window_duration_secs=window, end=end)
    output(ask(endpoint, timeout, "get_market_quality", params), as_json)


def _window_command(name: str, method: str, summary: str, example: str) -> click.Command:
    @click.command(name=name, help=f"{summary}\n\n\b\nExample:\n    {example}")
    @symbol_argument
    @window_option
    @end_option
    @connection_options
    def command(
        *, symbol: str, window: int, end: int | None, endpoint: str, timeout: float, as_json: bool
    ) -> None:
        params = drop_none(symbol=symbol, window_duration_secs=window, end=end)
        output(ask(endpoint, timeout, method, params), as_json)

    return command


order_flow = _window_command(
    "order-flow",
    "get_order_flow",
    "Order flow of the last WINDOW seconds: liquidity added/cancelled per side, taker delta, OFI.",
    "booksnap order-flow BTCUSDT --window 60",
)
health = _window_command(
    "health",
    "get_microstructure_health",
    "Microstructure health score of the last WINDOW seconds compared with the 10 minutes before.",
    "booksnap health BTCUSDT --window 60",
)
anomalies = _window_command(
    "anomalies",
    "detect_market_anomalies",
    "Anomalies (spoofing-like walls, spread blowouts, bursts) in the last WINDOW seconds.",
    "booksnap anomalies BTCUSDT --window 60",
)


@click.command(name="volume-profile")
@symbol_argument
@param_option("--hours", "get_volume_profile", "duration_hours")
@click.option(
    "--tick-size",
    callback=check_tick_size,
    default=None,
    help="Bin width as a price step, e.g. 0.5 [default: ~50-100 automatic bins].",
)
@end_option
@connection_options
def volume_profile(
    *,
    symbol: str,
    hours: int,
    tick_size: str | None,
    end: int | None,
    endpoint: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Traded volume per price bin, with the point of control (POC) and the 70 % value area.

    \b
    Example:
        booksnap volume-profile ETHUSDT --hours 24 --tick-size 0.5
    """
    params = drop_none(symbol=symbol, duration_hours=hours, tick_size=tick_size, end=end)
    output(
        ask(endpoint, timeout, "get_volume_profile", params), as_json, render.render_volume_profile
    )


@click.command(name="vacuums")
@symbol_argument
@param_option("--hours", "get_liquidity_vacuums", "duration_hours")
@param_option("--threshold", "get_liquidity_vacuums", "threshold")
@end_option
@connection_options
def vacuums(
    *,
    symbol: str,
    hours: int,
    threshold: float,
    end: int | None,
    endpoint: str,
    timeout: float,
    as_json: bool,
) -> None:
    """Price zones near the touch where resting liquidity was far thinner than usual.

    \b
    Example:
        booksnap vacuums BTCUSDT --hours 1
    """
    params = drop_none(symbol=symbol, duration_hours=hours, threshold=threshold, end=end)
    output(ask(endpoint, timeout, "get_liquidity_vacuums", params), as_json)


# --- live book ---------------------------------------------------------------------------------


@click.command(name="l1")
@symbol_argument
@connection_options
def l1(symbol: str, endpoint: str, timeout: float, as_json: bool) -> None:
    """Best bid/ask, spread, weighted mid and imbalance from the live book (not from disk).

    \b
    Example:
        booksnap l1 BTCUSDT
    """
    output(ask(endpoint, timeout, "orderbook_l1", {"symbol": symbol}), as_json)


@click.command(name="l2")
@symbol_argument
@param_option("--levels", "orderbook_l2", "levels")
@connection_options
def l2(symbol: str, levels: int, endpoint: str, timeout: float, as_json: bool) -> None:
    """The best LEVELS bids and asks of the live book, with cumulative sizes.

    \b
    Example:
        booksnap l2 BTCUSDT --levels 50
    """
    result = ask(endpoint, timeout, "orderbook_l2", {"symbol": symbol, "levels": levels})
    output(result, as_json, render.render_l2)


COMMANDS = (
    order_flow,
    volume_profile,
    health,
    vacuums,
    anomalies,
    quality,
    l1,
    l2,
    snapshots,
    status,
    coverage,
)


def register(group: click.Group) -> None:
    """Add every query subcommand, and ``export`` (which reads the database), to the group."""
    for command in COMMANDS:
        group.add_command(command)
    group.add_command(export)
