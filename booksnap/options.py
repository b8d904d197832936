"""The building blocks of the query subcommands: argument types, shared options, one request.

Arguments are validated before anything is sent (a bad symbol or range is a usage error, exit
2). A query process that does not answer in ``--timeout`` seconds exits 3 with how to start it;
an error reply (insufficient data, no data yet, ...) exits 1 with its message on one line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from booksnap import render, terminal
from booksnap.client import QueryClient, QueryFailed, QueryTimeout
from shared.config import DEFAULT_QUERY_ENDPOINT, ENV_KEYS_DIR, ENV_QUERY_ENDPOINT, FiniteRange
from shared.errors import ConfigError
from shared.fixedpoint import parse_fixed
from shared.methods import BY_NAME
from shared.model import validate_symbol
from shared.protocol import INSUFFICIENT_DATA
from shared.times import parse_duration, parse_time

F = TypeVar("F", bound=Callable[..., Any])
Renderer = Callable[[dict[str, Any]], str]


class NotRunning(click.ClickException):
    """No reply from the query process: exit 3, so scripts can tell it from an error reply."""

    exit_code = 3


class TimeType(click.ParamType):
    """Unix seconds, ISO-8601 (``2026-11-24T08:00:00Z``, ``+01:00``; naive means UTC) or a time
    ago (``-15m``, ``-2h``, ``-1d``: that long before now, by this machine's clock)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            if isinstance(value, str) and value.strip().startswith("-"):
                return parse_time(int(time.time()) - self._ago(value.strip()[1:]))
            return parse_time(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)

    @staticmethod
    def _ago(text: str) -> int:
        try:
            return parse_duration(text)
        except ValueError:
            raise ValueError(
                f"not a time ago: {('-' + text)[:40]!r}; use -30s, -15m, -2h or -1d"
            ) from None


def check_symbol(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return validate_symbol(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from exc


def check_tick_size(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        positive = parse_fixed(value.strip()) > 0
    except ValueError:
        positive = False
    if not positive:
        raise click.BadParameter(
            f"{value!r} is not a positive price step with at most 8 decimals, e.g. 0.5", ctx, param
        )
    return value.strip()


KEYS_DIR = "booksnap.keys_dir"  # where --keys-dir is kept in the click context


def _keep_keys_dir(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    ctx.meta[KEYS_DIR] = value


def connection_options(func: F) -> F:
    """--endpoint, --timeout, --keys-dir and --json, shared by every query subcommand."""
    func = click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document (for scripts)."
    )(func)
    func = click.option(
        "--keys-dir",
        envvar=ENV_KEYS_DIR,
        default=None,
        expose_value=False,
        callback=_keep_keys_dir,
        help=f"CURVE keys (`booksnap keys init`) if the query process uses them ({ENV_KEYS_DIR}).",
    )(func)
    func = click.option(
        "--timeout",
        default=10.0,
        show_default=True,
        type=FiniteRange(0.1, 600.0),
        help="Seconds to wait for the reply before giving up.",
    )(func)
    func = click.option(
        "--endpoint",
        envvar=ENV_QUERY_ENDPOINT,
        default=DEFAULT_QUERY_ENDPOINT,
        show_default=True,
        help=f"The query process's endpoint (env {ENV_QUERY_ENDPOINT}).",
    )(func)
    return func


symbol_argument = click.argument("symbol", callback=check_symbol)


def start_option(*, required: bool) -> Callable[[F], F]:
    """``--start``: the first second (inclusive) of a range of stored seconds."""
    return click.option(
        "--start",
        type=TimeType(),
        required=required,
        help=(
            "First second (inclusive): unix seconds, ISO-8601 (no offset means UTC) or a time "
            "ago (-15m, -2h, -1d)."
        ),
    )


last_option = click.option(
    "--end",
    type=TimeType(),
    default=None,
    help="Last second (inclusive), same formats [default: now].",
)
end_option = click.option(
    "--end",
    type=TimeType(),
    default=None,
    help=(
        "End of the window (exclusive): unix seconds, ISO-8601 (no offset means UTC) or a time "
        "ago (-5m) [default: now]."
    ),
)


def param_option(flag: str, method: str, param: str, *, default: bool = True) -> Callable[[F], F]:
    """A click option for ``param`` of ``method``, with its range and default from
    ``shared/methods.py`` (``default=False``: no default sent, the server's applies)."""
    spec = BY_NAME[method].param(param)
    kind: click.ParamType
    if spec.kind == "int":
        kind, bounds = click.IntRange(spec.low, spec.high), f" ({spec.low}-{spec.high})"
    elif spec.kind == "fraction":
        kind, bounds = FiniteRange(0.0, 1.0, min_open=True, max_open=True), " (0-1)"
    else:
        raise TypeError(f"no option type for {spec.kind} parameters")
    extra = "" if default else f" [default: {spec.default}]"
    return click.option(
        flag,
        type=kind,
        default=spec.default if default else None,
        show_default=default,
        help=f"{spec.description}{bounds}{extra}",
    )


window_option = param_option("--window", "get_order_flow", "window_duration_secs")


def client_for(endpoint: str, timeout: float) -> QueryClient:
    """A QueryClient with the command's --keys-dir (the client key pair, when set)."""
    ctx = click.get_current_context(silent=True)
    keys_dir = ctx.meta.get(KEYS_DIR) if ctx is not None else None
    try:
        return QueryClient(endpoint, timeout=timeout, keys_dir=keys_dir)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def ask(endpoint: str, timeout: float, method: str, params: dict[str, Any]) -> Any:
    """One request; every failure becomes a one-line click error."""
    with client_for(endpoint, timeout) as client:
        return ask_with(client, method, params)


def ask_with(client: QueryClient, method: str, params: dict[str, Any]) -> Any:
    with query_errors(client):
        return client.request(method, params)


@contextmanager
def query_errors(client: QueryClient) -> Iterator[None]:
    """A timeout (exit 3) or an error reply (exit 1) inside becomes the CLI's exit."""
    try:
        yield
    except QueryTimeout:
        raise NotRunning(
            f"the query process is not answering at {client.endpoint} "
            f"(waited {client.timeout:g} s); "
            "start it with `booksnap query` (or `make demo` for the whole pipeline)"
        ) from None
    except QueryFailed as exc:
        message = exc.message
        if exc.code == INSUFFICIENT_DATA and exc.data:
            message = (
                f"insufficient data: {exc.data.get('have')} {exc.data.get('what')} in the window, "
                f"{exc.data.get('needed')} needed ({exc.message})"
            )
        raise click.ClickException(f"{exc.name}: {message}") from None


def output(result: Any, as_json: bool, renderer: Renderer = render.render_mapping) -> None:
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        terminal.echo(renderer(result))


def drop_none(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}
