"""Wait for a condition with a deadline, never a bare sleep."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_for(
    condition: Callable[[], T], timeout: float, interval: float = 0.05, what: str = ""
) -> T:
    """Call ``condition`` until it returns a truthy value; AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the condition may fail until the thing is up
            last_error = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or condition}{detail}"
            )
        time.sleep(interval)


# Below Linux's ephemeral range (32768-60999 by default): a port the OS hands out for ``bind(0)``
# can be taken, between this check and the server's bind, as the source port of some process's
# outgoing connection (a collector dialling the simulator), which a port below the range never is.
_PORTS = range(20000, 32768)
_rng = random.Random()  # its own generator: a test seeding ``random`` must not repeat the ports
_handed: set[int] = set()  # never hand out a port twice (two endpoints of one start on one port)


def free_port() -> int:
    """A TCP port on 127.0.0.1, outside the ephemeral range, free a moment ago and not handed
    out before by this process."""
    if len(_handed) > len(_PORTS) // 2:
        _handed.clear()  # a very long session: start over (the oldest are long closed)
    for _ in range(1000):
        port = _rng.choice(_PORTS)
        if port in _handed:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed.add(port)
        return port
    raise AssertionError("no free TCP port in 20000-32767")


def free_endpoint() -> str:
    return f"tcp://127.0.0.1:{free_port()}"
