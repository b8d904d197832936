"""``python -m simulator.ready``: wait until a simulator answers its REST ping, then exit 0.

honcho starts every line of ``Procfile.demo`` at once, and the simulator needs a few seconds to
load its recordings before it listens, so collectors started with it logged refused connections
(and, on a loaded machine, failed REST snapshots) before the demo settled. The demo's collector
line runs this first. Exit 1, with one line on stderr, if no answer comes within ``--timeout``.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.request

import click

from shared.config import DEFAULT_SIM_HOST, DEFAULT_SIM_PORT, ENV_REST_URL, FiniteRange

PING = "/api/v3/ping"
INTERVAL = 0.2  # seconds between attempts
ATTEMPT_TIMEOUT = 1.0  # seconds one attempt may take


def answers(rest_url: str) -> bool:
    """Whether the server at ``rest_url`` answers its ping with 200."""
    try:
        with urllib.request.urlopen(rest_url + PING, timeout=ATTEMPT_TIMEOUT) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def wait_until_ready(rest_url: str, timeout: float) -> bool:
    """Ask until the simulator answers (True) or ``timeout`` seconds have passed (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if answers(rest_url):
            return True
        if time.monotonic() + INTERVAL > deadline:
            return False
        time.sleep(INTERVAL)


@click.command(name="simulator.ready")
@click.option(
    "--rest-url",
    envvar=ENV_REST_URL,
    default=f"http://{DEFAULT_SIM_HOST}:{DEFAULT_SIM_PORT}",
    show_default=True,
    help="The simulator's REST base URL.",
)
@click.option(
    "--timeout",
    type=FiniteRange(0.0, 600.0),
    default=60.0,
    show_default=True,
    help="Seconds to wait at most.",
)
def main(rest_url: str, timeout: float) -> None:
    """Wait until the simulator at --rest-url answers, so the collectors start after it."""
    if not wait_until_ready(rest_url.rstrip("/"), timeout):
        click.echo(f"simulator.ready: no answer from {rest_url} within {timeout:g} s", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
