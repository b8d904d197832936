"""A process's socket security: CURVE on every socket when keys are set, plain only on loopback.

Each process builds one ``SocketSecurity`` from ``--keys-dir``/``BOOKSNAP_KEYS_DIR`` and
``--insecure`` (``security_options``) and hands it to the components that make sockets:
``serve(socket, channel, endpoint)`` before a ``bind`` and ``connect(socket, channel)`` before a
``connect``. With keys, servers accept only the channel's allowed keys (``shared.curve``) and
clients authenticate with their role's key pair. Without keys a socket stays plain, which is
allowed only for endpoints other hosts cannot reach, unless ``--insecure`` (logged at WARNING).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import zmq

from shared.config import ENV_INSECURE, ENV_KEYS_DIR
from shared.curve import CurveServer, Security, decide_security, secure_client
from shared.curve_keys import Keyring, load_keyring

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


class SocketSecurity:
    """Secures the sockets of one process (one ZeroMQ context, one role)."""

    def __init__(
        self, context: zmq.Context[Any], keyring: Keyring | None, *, insecure: bool = False
    ) -> None:
        self.context = context
        self.keyring = keyring
        self.insecure = insecure
        self._server: CurveServer | None = None

    @classmethod
    def from_options(
        cls, context: zmq.Context[Any], role: str, keys_dir: str | None, insecure: bool
    ) -> SocketSecurity:
        """ConfigError (naming the file) when the keys folder is set but unusable."""
        keyring = load_keyring(Path(keys_dir), role) if keys_dir else None
        return cls(context, keyring, insecure=insecure)

    @property
    def curve(self) -> bool:
        return self.keyring is not None

    def serve(self, socket: zmq.Socket[Any], channel: str, endpoint: str, option: str) -> None:
        """Before ``socket.bind(endpoint)``: CURVE server, or plain where allowed (ConfigError)."""
        mode = decide_security(
            endpoint, keys=self.keyring is not None, insecure=self.insecure, option=option
        )
        if mode is Security.CURVE:
            assert self.keyring is not None
            if self._server is None:
                self._server = CurveServer(self.context, self.keyring)
            self._server.secure_server(socket, channel)
        elif mode is Security.INSECURE:
            log.warning(
                "%s %s is reachable from other hosts WITHOUT authentication or encryption "
                "(--insecure); set %s to use CURVE keys",
                option,
                endpoint,
                ENV_KEYS_DIR,
            )

    def connect(self, socket: zmq.Socket[Any], channel: str) -> None:
        """Before ``socket.connect``: authenticate as this process's role (when keys are set)."""
        if self.keyring is not None:
            secure_client(socket, self.keyring, channel)

    def tick(self) -> None:
        """Write due refusal counts (call from the process's loop)."""
        if self._server is not None:
            self._server.flush_log()

    def refused(self) -> dict[str, int]:
        return dict(self._server.refused) if self._server is not None else {}

    def stop(self) -> None:
        """Stop the authenticator (before the context is terminated)."""
        if self._server is not None:
            self._server.stop()
            self._server = None


def security_options(function: F) -> F:
    """``--keys-dir`` (``BOOKSNAP_KEYS_DIR``) and ``--insecure``, the same in every process."""
    function = click.option(
        "--insecure",
        envvar=ENV_INSECURE,
        is_flag=True,
        default=False,
        help="Allow binding an address other hosts can reach without CURVE keys (not advised).",
    )(function)
    return click.option(
        "--keys-dir",
        envvar=ENV_KEYS_DIR,
        default=None,
        help="CURVE keys from `booksnap keys init` (unset: plain sockets, loopback only).",
    )(function)
