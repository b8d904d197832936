"""Hosts for multi-host tests: Linux network namespaces joined by veth pairs and bridges.

    with Network("bsnet") as net:                    # pytest.skip(...) where it cannot work
        net.switch("st")                             # a bridge in the network's own namespace
        net.host("store").plug("st", "10.231.2.1")   # a namespace with one veth on that bridge
        net.host("store").exec(["python", "-m", "writer", ...])

Every interface lives in a namespace the test created (the bridges in a namespace of their own),
so nothing appears in the machine's own namespace and deleting the namespaces removes it all.
Namespaces are named ``<prefix><pid>-<role>``; those of a test process that is gone (a killed
run) are removed at the next start.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

PREFIX_LEN = 24 - 1  # the pid is appended; namespace names are file names, short is kinder


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; CalledProcessError with ip's own message when ``check`` and it fails."""
    argv = ["ip", *args]
    result = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=20)
    if check and result.returncode != 0:
        raise subprocess.CalledProcessError(result.returncode, argv, result.stdout, result.stderr)
    return result


def why_not() -> str | None:
    """Why namespaces cannot be created here, or None when they can."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    return None


@dataclass
class Host:
    """One namespace; ``plug`` gives it a veth on a switch, ``exec`` runs a command inside."""

    network: Network
    name: str
    role: str
    interfaces: dict[str, str] = field(default_factory=dict)  # switch → interface name

    def plug(self, switch: str, address: str, prefix_len: int = 24) -> str:
        """A veth pair: one end here with ``address``, the other on ``switch``; its name here."""
        net = self.network
        mine = f"{net.short}{self.role[:4]}{switch[:2]}"
        theirs = f"{mine}s"
        ip("-n", self.name, "link", "add", mine, "type", "veth", "peer", "name", theirs,
           "netns", net.core)  # fmt: skip
        ip("-n", net.core, "link", "set", theirs, "master", f"br{switch}", "up")
        ip("-n", self.name, "addr", "add", f"{address}/{prefix_len}", "dev", mine)
        ip("-n", self.name, "link", "set", mine, "up")
        self.interfaces[switch] = mine
        return mine

    def link(self, switch: str, up: bool) -> None:
        """``ip link set <veth> down`` (or up): this host's cable to ``switch`` pulled (or back)."""
        ip("-n", self.name, "link", "set", self.interfaces[switch], "up" if up else "down")

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run inside this namespace (``ip netns exec`` execs it: same pid)."""
        return ["ip", "netns", "exec", self.name, *argv]


class Network:
    """The namespaces of one test; a context manager that always deletes them."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix[:PREFIX_LEN]
        self.pid = os.getpid()
        self.short = f"v{self.pid % 100_000:05d}"  # veth names: at most 15 characters
        self.core = f"{self.prefix}{self.pid}-core"
        self.hosts: dict[str, Host] = {}
        self._created: list[str] = []

    def __enter__(self) -> Network:
        reason = why_not()
        if reason is not None:
            pytest.skip(f"network namespaces unavailable: {reason}")
        self._remove_stale()
        try:
            self._add(self.core)
        except subprocess.CalledProcessError as exc:
            pytest.skip(f"network namespaces unavailable: `ip netns add` failed: {exc.stderr}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Delete every namespace this network created (their interfaces go with them)."""
        for name in reversed(self._created):
            ip("netns", "del", name, check=False)
        self._created.clear()

    def _add(self, name: str) -> None:
        ip("netns", "add", name)
        self._created.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def _remove_stale(self) -> None:
        pattern = re.compile(rf"^{re.escape(self.prefix)}(\d+)-\w+$")
        for line in ip("netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            match = pattern.match(name)
            if match and not _alive(int(match.group(1))):
                ip("netns", "del", name, check=False)

    def switch(self, name: str) -> None:
        """A bridge ``br<name>`` in the core namespace: one network segment."""
        ip("-n", self.core, "link", "add", f"br{name}", "type", "bridge")
        ip("-n", self.core, "link", "set", f"br{name}", "up")

    def host(self, role: str) -> Host:
        """The host namespace ``role`` (created on first use)."""
        if role not in self.hosts:
            name = f"{self.prefix}{self.pid}-{role}"
            self._add(name)
            self.hosts[role] = Host(self, name, role)
        return self.hosts[role]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
