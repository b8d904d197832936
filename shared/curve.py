"""CURVE on booksnap's ZeroMQ sockets: who may talk to which socket, and the rule for plain text.

API (the processes call these around ``bind``/``connect``; the keys come from
``shared.curve_keys.load_keyring(BOOKSNAP_KEYS_DIR, role)``):

- ``CHANNELS``: each socket booksnap binds, the role that serves it and the roles allowed to
  connect. ``ingest``/``backfill`` are served by the writer to collectors, ``live`` by the query
  process to collectors, ``query``/``feed`` by the query process to clients (the allow-list).
- ``decide_security(endpoint, keys=..., insecure=...)`` is the pure start-up rule: with keys,
  CURVE; without keys, a loopback/ipc/inproc endpoint stays plain (as before, so ``make demo``
  needs no set-up), and binding any other address raises ConfigError saying how to make keys,
  unless ``insecure`` (the caller then logs a WARNING).
- ``CurveServer(context, keyring)``: one per process context; starts pyzmq's ZAP authenticator
  thread. ``secure_server(socket, channel)`` makes a socket a CURVE server with the process's key
  pair and the channel's allow-list; call it before ``bind``. Each refusal is logged through a
  ``RateLimitedLog`` (one line per channel and cause per interval, with a count), and
  ``refused`` counts them per channel: unknown or wrong-role keys (seen by ZAP) and handshakes
  that fail earlier, from a peer without a key or with a wrong server key (a socket monitor,
  ``shared.handshake_watch``). ``stop()`` (or leaving the ``with`` block) ends both threads;
  stop it before terminating the context.
- ``secure_client(socket, keyring, channel)``: the process's own key pair plus the server's
  public key for ``channel``; call it before ``connect``.

Not wired into the processes yet (see docs/reliability.md, "Security").
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import re
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from shared.config import ENV_KEYS_DIR
from shared.curve_keys import Keyring
from shared.errors import ConfigError
from shared.handshake_watch import HandshakeWatch
from shared.ratelog import RateLimitedLog

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Channel:
    server: str  # the role that binds it
    allowed: tuple[str, ...]  # roles whose keys may connect ("client" = the allow-list)


CHANNELS = {
    "ingest": Channel("writer", ("collector",)),
    "backfill": Channel("writer", ("collector",)),
    "live": Channel("query", ("collector",)),
    "query": Channel("query", ("client",)),
    "feed": Channel("query", ("client",)),
}


class Security(enum.Enum):
    CURVE = "curve"  # keys present: encrypted, only allowed keys get in
    PLAIN = "plain"  # no keys, loopback only: as before
    INSECURE = "insecure"  # no keys, reachable from other hosts, explicitly allowed


_TCP = re.compile(r"tcp://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-]+):([0-9]{1,5}|\*)", re.ASCII)
_LOCAL_TRANSPORT = re.compile(r"(ipc|inproc)://[!-~]+", re.ASCII)


def is_local(endpoint: str) -> bool:
    """True for endpoints only this host can reach: ipc, inproc, tcp on a loopback address."""
    if _LOCAL_TRANSPORT.fullmatch(endpoint):
        return True
    match = _TCP.fullmatch(endpoint)
    if match is None:
        return False  # "*", a source;destination pair, another transport, anything unusual
    host = match.group(1).strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # an interface name or a DNS name: possibly reachable from outside


def decide_security(
    endpoint: str, *, keys: bool, insecure: bool, option: str = "--endpoint"
) -> Security:
    """The start-up rule for a socket about to bind ``endpoint``; ConfigError when refused."""
    if keys:
        return Security.CURVE
    if is_local(endpoint):
        return Security.PLAIN
    if insecure:
        return Security.INSECURE
    raise ConfigError(
        option,
        f"{endpoint} can be reached from other hosts, and without CURVE keys anyone there could "
        f"send or read records. Make keys with `booksnap keys init DIR` and set {ENV_KEYS_DIR}=DIR "
        "for every process, or bind a loopback address (tcp://127.0.0.1:PORT); --insecure "
        "overrides this at your own risk",
    )


class _AllowList:
    """pyzmq credentials provider for one channel: the allowed keys, refusals logged."""

    def __init__(self, channel: str, keys: Collection[bytes], server: CurveServer) -> None:
        self.channel = channel
        self.keys = frozenset(keys)
        self.server = server

    def callback(self, domain: str, key: bytes) -> bool:
        if key in self.keys:
            return True
        self.server.refuse(self.channel, key)
        return False


class _Authenticator(ThreadAuthenticator):
    """ThreadAuthenticator that remembers the peer address of the request being handled."""

    peer = ""

    async def handle_zap_message(self, msg: list[bytes]) -> None:
        self.peer = msg[3].decode("ascii", "replace")[:64] if len(msg) > 3 else "?"
        await super().handle_zap_message(msg)


class CurveServer:
    """The ZAP authenticator of one process context; see the module docstring."""

    def __init__(
        self,
        context: zmq.Context[Any],
        keyring: Keyring,
        *,
        log_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keyring = keyring
        self.refused: dict[str, int] = {}
        self._lock = threading.Lock()  # refusals arrive on the authenticator thread
        self._rejects = RateLimitedLog(log, log_interval, clock=clock)
        self._auth = _Authenticator(context, log=logging.getLogger("zmq.auth"))
        self._auth.start()
        self._watch = HandshakeWatch(context, self._handshake_failed)

    def secure_server(self, socket: zmq.Socket[Any], channel: str) -> None:
        """Make ``socket`` a CURVE server of ``channel`` (before ``bind``)."""
        spec = CHANNELS[channel]
        if spec.server != self.keyring.role:
            raise ValueError(f"a {self.keyring.role} does not serve {channel}")
        allowed: set[bytes] = set()
        for role in spec.allowed:
            allowed |= self.keyring.clients if role == "client" else {self.keyring.public_of(role)}
        if not allowed:
            log.warning("CURVE %s: the allow-list is empty, every client will be refused", channel)
        self._auth.configure_curve_callback(channel, _AllowList(channel, allowed, self))
        socket.curve_secretkey = self.keyring.secret
        socket.curve_publickey = self.keyring.public
        socket.curve_server = True
        socket.zap_domain = channel.encode("ascii")
        self._watch.watch(socket, channel)

    def refuse(self, channel: str, key: bytes) -> None:
        """Count and log (rate-limited) a refused key; runs in the authenticator thread."""
        detail = f"key {key[:8].decode('ascii', 'replace')}… from {self._auth.peer}"
        self._count(channel, f"CURVE key not allowed on {channel}", detail)

    def _handshake_failed(self, channel: str, reason: str) -> None:
        """A peer failed the handshake before ZAP (no key, wrong server key): watch thread."""
        self._count(channel, f"CURVE handshake failed on {channel}", reason)

    def _count(self, channel: str, cause: str, detail: str) -> None:
        with self._lock:
            self.refused[channel] = self.refused.get(channel, 0) + 1
            self._rejects.reject(cause, detail)

    def flush_log(self) -> None:
        """Write the pending refusal counts that are due (call from the process's tick)."""
        with self._lock:
            self._rejects.flush()

    def stop(self) -> None:
        self._watch.stop()
        self._auth.stop()
        with self._lock:
            self._rejects.flush(force=True)

    def __enter__(self) -> CurveServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def secure_client(socket: zmq.Socket[Any], keyring: Keyring, channel: str) -> None:
    """Give ``socket`` this process's key pair and ``channel``'s server key (before connect)."""
    socket.curve_secretkey = keyring.secret
    socket.curve_publickey = keyring.public
    socket.curve_serverkey = keyring.public_of(CHANNELS[channel].server)
