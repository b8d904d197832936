"""``booksnap keys``: make the CURVE keys the processes authenticate each other with."""

from __future__ import annotations

from pathlib import Path

import click

from shared.config import ENV_KEYS_DIR, os_reason, shown_path
from shared.curve_keys import CLIENTS_DIR, init_keys
from shared.errors import ConfigError


@click.group()
def keys() -> None:
    """CURVE keys for the ZeroMQ sockets (see docs/reliability.md, "Security")."""


@keys.command("init")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Replace existing keys (locks out old holders).")
def init(directory: str, force: bool) -> None:
    """Write a key pair per role (collector, writer, query, client) into DIRECTORY.

    \b
    Example:  booksnap keys init ~/.booksnap/keys
              export BOOKSNAP_KEYS_DIR=~/.booksnap/keys

    Files are 0600 in a 0700 folder. Copy to each host only the secret of the roles it runs
    (ROLE.key_secret) and the public keys (*.key). To allow another client, copy its public
    key file into DIRECTORY/clients/ on the query host.
    """
    if not directory.strip():
        raise click.BadParameter("an empty folder name", param_hint="DIRECTORY")
    folder = Path(directory)
    try:
        written = init_keys(folder, force=force)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    except OSError as exc:  # a folder the system refuses: too long, no permission, a file
        raise click.ClickException(
            f"cannot write keys to {shown_path(folder)}: {os_reason(exc)}"
        ) from None
    for path in written:
        click.echo(str(path))
    click.echo(
        f"Set {ENV_KEYS_DIR}={folder} for every process; allowed clients: "
        f"{folder / CLIENTS_DIR}/*.key",
        err=True,
    )
