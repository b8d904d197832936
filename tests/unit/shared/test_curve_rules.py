"""The pure start-up rule for plain text, the key files and ``booksnap keys init``."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from booksnap.cli import cli
from shared.curve import CHANNELS, Security, decide_security, is_local
from shared.curve_keys import ROLES, init_keys, load_keyring
from shared.errors import ConfigError

LOCAL = [
    "tcp://127.0.0.1:5555",
    "tcp://127.8.9.10:5555",
    "tcp://localhost:5555",
    "tcp://[::1]:5555",
    "ipc:///tmp/booksnap.sock",
    "inproc://x",
]
REMOTE = [
    "tcp://*:5555",
    "tcp://0.0.0.0:5555",
    "tcp://[::]:5555",
    "tcp://10.1.2.3:5555",
    "tcp://eth0:5555",
    "tcp://example.org:5555",
    "tcp://127.0.0.1;10.0.0.1:5555",
    "tcp://127.0.0.1:5555\n",
    "pgm://10.0.0.1;239.192.1.1:5555",
    "garbage",
]


@pytest.mark.parametrize("endpoint", LOCAL)
def test_loopback_without_keys_stays_plain(endpoint):
    assert is_local(endpoint)
    assert decide_security(endpoint, keys=False, insecure=False) is Security.PLAIN


@pytest.mark.parametrize("endpoint", REMOTE)
def test_a_reachable_bind_without_keys_is_refused_with_how_to_make_keys(endpoint):
    assert not is_local(endpoint)
    with pytest.raises(ConfigError, match="booksnap keys init DIR") as caught:
        decide_security(endpoint, keys=False, insecure=False, option="--ingest-endpoint")
    assert "BOOKSNAP_KEYS_DIR" in str(caught.value)
    assert "--ingest-endpoint" in str(caught.value)
    assert decide_security(endpoint, keys=False, insecure=True) is Security.INSECURE


@pytest.mark.parametrize("endpoint", LOCAL + REMOTE)
def test_with_keys_every_socket_is_curve(endpoint):
    assert decide_security(endpoint, keys=True, insecure=False) is Security.CURVE
    assert decide_security(endpoint, keys=True, insecure=True) is Security.CURVE


def test_every_channel_is_served_by_a_role_and_open_to_roles():
    for channel in CHANNELS.values():
        assert channel.server in ROLES
        assert set(channel.allowed) <= set(ROLES)
        assert channel.server not in channel.allowed


def test_keys_init_writes_private_files_through_the_booksnap_command(tmp_path):
    folder = tmp_path / "keys"
    result = CliRunner().invoke(cli, ["keys", "init", str(folder)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(files) == 2 * len(ROLES) + 1
    for path in folder.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    again = CliRunner().invoke(cli, ["keys", "init", str(folder)])
    assert again.exit_code == 1
    assert "already holds keys" in again.output


def test_keyrings_hold_the_own_pair_the_publics_and_the_allow_list(tmp_path):
    init_keys(tmp_path)
    rings = {role: load_keyring(tmp_path, role) for role in ROLES}
    assert len({ring.public for ring in rings.values()}) == len(ROLES)
    assert rings["query"].clients == {rings["client"].public}
    assert rings["collector"].public_of("writer") == rings["writer"].public
    replaced = init_keys(tmp_path, force=True)
    assert replaced
    assert load_keyring(tmp_path, "writer").public != rings["writer"].public


def test_a_host_with_only_its_own_secret_loads_and_names_what_is_missing(tmp_path):
    init_keys(tmp_path)
    for role in ("writer", "query", "client"):
        (tmp_path / f"{role}.key_secret").unlink()
    (tmp_path / "query.key").unlink()
    ring = load_keyring(tmp_path, "collector")
    assert ring.public_of("writer")
    with pytest.raises(ConfigError, match=r"no query\.key"):
        ring.public_of("query")
    with pytest.raises(ConfigError, match=r"writer\.key_secret is missing"):
        load_keyring(tmp_path, "writer")


def test_a_loose_or_corrupt_secret_is_refused(tmp_path):
    init_keys(tmp_path)
    secret = tmp_path / "writer.key_secret"
    secret.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_keyring(tmp_path, "writer")
    secret.chmod(0o600)
    text = secret.read_text()
    secret.write_text(text.replace('secret-key = "', 'secret-key = "~', 1))
    with pytest.raises(ConfigError, match="not 40 characters of Z85"):
        load_keyring(tmp_path, "writer")
    with pytest.raises(ConfigError, match="is not a folder"):
        load_keyring(tmp_path / "nowhere", "writer")
