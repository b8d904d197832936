"""The ``booksnap`` command: one subcommand per process and one per query.

Process subcommands are the same click commands ``python -m <package>`` runs; they are loaded
lazily so that ``booksnap l1`` does not import the collector, the writer or the simulator.
"""

from __future__ import annotations

import importlib

import click

from booksnap.commands import register

# subcommand name → "module:attribute" of its click command
PROCESS_COMMANDS = {
    "simulate": "simulator.__main__:main",
    "collector": "collector.__main__:main",
    "writer": "writer.__main__:main",
    "query": "query.__main__:main",
    "keys": "shared.keys_cli:keys",
    "mcp": "booksnap.mcp_server:main",
}


class LazyGroup(click.Group):
    """A group whose process subcommands are imported only when they are run."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            return _load(cmd_name, self.lazy[cmd_name])
        return super().get_command(ctx, cmd_name)


def _load(name: str, target: str) -> click.Command:
    """Import a process command; if that fails, a stand-in that reports why when it is run.

    ``booksnap --help`` imports every process command for its one-line summary, so one package
    that cannot be imported (not installed, a syntax error while developing) must not break the
    help of all the others.
    """
    module_name, attribute = target.split(":")
    try:
        command = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # ImportError, AttributeError, or whatever the module raised
        reason = f"{type(exc).__name__}: {exc}"

        def unavailable() -> None:
            raise click.ClickException(f"booksnap {name} is unavailable ({reason})")

        return click.Command(
            name, callback=unavailable, help=f"(unavailable: {reason})", short_help="(unavailable)"
        )
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


@click.group(cls=LazyGroup, lazy=PROCESS_COMMANDS)
@click.version_option(package_name="booksnap")
def cli() -> None:
    """booksnap: exact 1-second Binance order-book snapshots and microstructure analytics.

    \b
    Run the pipeline:   make demo          (simulator + collectors + writer + query)
    Ask it:             booksnap l1 BTCUSDT
                        booksnap order-flow BTCUSDT --window 60
    """


register(cli)
