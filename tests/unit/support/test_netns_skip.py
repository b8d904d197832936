"""The namespace hosts skip with their reason where namespaces cannot be created."""

from __future__ import annotations

import pytest

from tests.support import netns


def test_no_ip_command_is_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda _: None)
    assert netns.why_not() == "the `ip` command (iproute2) is not installed"


def test_not_root_is_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.shutil, "which", lambda _: "/usr/sbin/ip")
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert netns.why_not() == "creating network namespaces needs root"


def test_network_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(netns.shutil, "which", lambda _: "/usr/sbin/ip")
    with pytest.raises(pytest.skip.Exception, match="needs root"), netns.Network("bsnet"):
        pass
