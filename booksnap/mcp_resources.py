"""The MCP server's resources: the stored symbols with their coverage, and docs/analytics.md.

Both are read on demand: the symbols through the query process (``status`` for the list,
``coverage`` of the last hour for each), the definitions from the documentation file shipped
with booksnap.
"""

from __future__ import annotations

import json
import sysconfig
import time
from pathlib import Path
from typing import Any

import mcp_types as types

from booksnap.client import QueryClient

SYMBOLS_URI = "booksnap://symbols"
ANALYTICS_URI = "booksnap://docs/analytics.md"
MAX_SYMBOLS = 200  # a status reply naming more symbols is cut here (each costs one request)

# docs/analytics.md beside the package (a checkout, an editable install), else where
# setup.cfg's data_files put it in a regular install.
ANALYTICS_PATHS = (
    Path(__file__).resolve().parents[1] / "docs" / "analytics.md",
    Path(sysconfig.get_path("data")) / "share" / "booksnap" / "analytics.md",
)

RESOURCES = (
    types.Resource(
        uri=SYMBOLS_URI,
        name="symbols",
        title="Symbols and their coverage",
        description="Every symbol the pipeline collects: whether its collector is publishing, "
        "its last stored second, and which seconds of the last hour are stored (fraction, "
        "count, missing ranges). Read it to learn which symbols and windows the tools can "
        "answer for.",
        mime_type="application/json",
    ),
    types.Resource(
        uri=ANALYTICS_URI,
        name="analytics.md",
        title="Analytics definitions",
        description="How every tool computes its numbers: windows, formulas, units, the "
        "minimum data each needs, and how to read the results.",
        mime_type="text/markdown",
    ),
)


class ResourceMissing(Exception):
    """The resource cannot be read (its file is not installed)."""


def symbols_document(client: QueryClient) -> dict[str, Any]:
    """The ``booksnap://symbols`` document; QueryTimeout/QueryFailed propagate.

    One deadline (the client's timeout) covers all its requests, so a query process that
    slows down half-way still fails the read in time.
    """
    deadline = time.monotonic() + client.timeout

    def ask(method: str, params: dict[str, Any]) -> Any:
        client.timeout = max(deadline - time.monotonic(), 0.001)
        return client.request(method, params)

    status = ask("status", {})
    listed = status.get("symbols") if isinstance(status, dict) else None
    names = sorted(listed)[:MAX_SYMBOLS] if isinstance(listed, dict) else []
    symbols = []
    for name in names:
        health = listed[name] if isinstance(listed[name], dict) else {}  # type: ignore[index]
        symbols.append(
            {
                "symbol": name,
                "publishing": health.get("publishing"),
                "last_stored_second": health.get("last_stored_second"),
                "stored_last_minute": health.get("stored_last_minute"),
                "stored_last_hour": health.get("stored_last_hour"),
                "coverage_last_hour": ask("coverage", {"symbol": name}),
            }
        )
    return {
        "now": status.get("now") if isinstance(status, dict) else None,
        "symbols": symbols,
        "symbols_truncated": isinstance(listed, dict) and len(listed) > MAX_SYMBOLS,
    }


def symbols_contents(client: QueryClient) -> types.TextResourceContents:
    return types.TextResourceContents(
        uri=SYMBOLS_URI,
        mime_type="application/json",
        text=json.dumps(symbols_document(client), indent=1),
    )


def analytics_contents() -> types.TextResourceContents:
    for path in ANALYTICS_PATHS:
        if path.is_file():
            return types.TextResourceContents(
                uri=ANALYTICS_URI, mime_type="text/markdown", text=path.read_text("utf-8")
            )
    raise ResourceMissing(
        f"docs/analytics.md is not installed (looked in {', '.join(map(str, ANALYTICS_PATHS))})"
    )
