"""CURVE key files: one key pair per role and an allow-list of client public keys.

Layout of a keys folder (``booksnap keys init DIR`` writes it; ``BOOKSNAP_KEYS_DIR`` names it)::

    DIR/                      0700
      collector.key           public key of the collectors      (pyzmq certificate format)
      collector.key_secret    its secret key                    (only on collector hosts)
      writer.key  writer.key_secret
      query.key   query.key_secret
      client.key  client.key_secret
      clients/                0700: the allow-list of the query and feed sockets;
        client.key            every ``*.key`` here is an allowed client public key

Every file is 0600. A process loads its own role's secret file and the public files of the
roles it talks to, so a host only needs the secrets of the roles it runs. A secret file that
others can read is refused (as ssh refuses a loose private key).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import zmq
import zmq.auth
from zmq.utils import z85

from shared.config import ENV_KEYS_DIR, os_reason, shown_path
from shared.errors import ConfigError
from shared.private_files import DIR_MODE, FILE_MODE

ROLES = ("collector", "writer", "query", "client")
CLIENTS_DIR = "clients"
PUBLIC_SUFFIX = ".key"
SECRET_SUFFIX = ".key_secret"
MAX_CLIENT_KEYS = 10_000  # bounds the allow-list a folder can make us load
OPTION = ENV_KEYS_DIR  # what a ConfigError about the keys folder names


@dataclass(frozen=True, slots=True)
class Keyring:
    """What one process knows: its own key pair, the roles' public keys, the client allow-list.

    Keys are the 40-character Z85 text pyzmq uses for ``curve_publickey`` and friends.
    """

    role: str
    public: bytes
    secret: bytes
    publics: dict[str, bytes] = field(default_factory=dict)  # role → public key, where present
    clients: frozenset[bytes] = frozenset()  # allowed client public keys

    def public_of(self, role: str) -> bytes:
        """The public key of ``role``; ConfigError naming the missing file."""
        try:
            return self.publics[role]
        except KeyError:
            raise ConfigError(OPTION, f"no {role}{PUBLIC_SUFFIX} in the keys folder") from None


def init_keys(directory: str | Path, *, force: bool = False) -> list[Path]:
    """Write a key pair per role and the allow-list holding the client key; the files written.

    Refuses (ConfigError) to overwrite existing keys unless ``force``: replacing keys locks out
    every host that has the old ones.
    """
    folder = Path(directory)
    if not force and any((folder / f"{role}{SECRET_SUFFIX}").exists() for role in ROLES):
        raise ConfigError("DIR", f"{folder} already holds keys (use --force to replace them)")
    previous = os.umask(0o077)  # no window in which a secret is readable by others
    try:
        clients = folder / CLIENTS_DIR
        clients.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        written: list[Path] = []
        for role in ROLES:
            for name in zmq.auth.create_certificates(folder, role):
                written.append(Path(name))
        allowed = clients / f"client{PUBLIC_SUFFIX}"
        allowed.write_bytes((folder / f"client{PUBLIC_SUFFIX}").read_bytes())
        written.append(allowed)
    finally:
        os.umask(previous)
    for path in (folder, clients):
        path.chmod(DIR_MODE)
    for path in written:
        path.chmod(FILE_MODE)
    return written


def load_keyring(directory: str | Path, role: str) -> Keyring:
    """The keyring of a process of ``role``; ConfigError naming the file on any problem."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    folder = Path(directory)
    try:
        return _keyring(folder, role)
    except OSError as exc:  # a path the system refuses (too long, no permission, ...)
        raise ConfigError(
            OPTION, f"cannot read the keys folder {shown_path(folder)}: {os_reason(exc)}"
        ) from None


def _keyring(folder: Path, role: str) -> Keyring:
    if not folder.is_dir():
        raise ConfigError(
            OPTION, f"{shown_path(folder)} is not a folder (make one: booksnap keys init DIR)"
        )
    secret_path = folder / f"{role}{SECRET_SUFFIX}"
    if not secret_path.is_file():
        raise ConfigError(
            OPTION, f"{shown_path(secret_path)} is missing (a {role} needs its secret key)"
        )
    mode = stat.S_IMODE(secret_path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            OPTION, f"{shown_path(secret_path)} is readable by others ({oct(mode)}); chmod 600"
        )
    public, secret = _load(secret_path)
    if secret is None:
        raise ConfigError(OPTION, f"{shown_path(secret_path)} holds no secret-key")
    publics = {
        other: _load(folder / f"{other}{PUBLIC_SUFFIX}")[0]
        for other in ROLES
        if (folder / f"{other}{PUBLIC_SUFFIX}").is_file()
    }
    publics[role] = public
    return Keyring(role, public, secret, publics, load_allow_list(folder / CLIENTS_DIR))


def load_allow_list(folder: Path) -> frozenset[bytes]:
    """The public keys of every ``*.key`` file in ``folder`` (empty if there is no folder)."""
    if not folder.is_dir():
        return frozenset()
    paths = sorted(folder.glob(f"*{PUBLIC_SUFFIX}"))
    if len(paths) > MAX_CLIENT_KEYS:
        raise ConfigError(
            OPTION, f"{shown_path(folder)} holds more than {MAX_CLIENT_KEYS} client keys"
        )
    return frozenset(_load(path)[0] for path in paths)


def _load(path: Path) -> tuple[bytes, bytes | None]:
    try:
        public, secret = zmq.auth.load_certificate(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(OPTION, f"{shown_path(path)}: {exc}") from None
    for key in (public, secret):
        if key is None:
            continue
        try:
            valid = len(key) == 40 and len(z85.decode(key)) == 32
        except (KeyError, ValueError, TypeError):
            valid = False
        if not valid:
            raise ConfigError(OPTION, f"{shown_path(path)}: a key is not 40 characters of Z85")
    return public, secret
