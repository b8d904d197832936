"""Every booksnap metric named in docs/operations.md and the Grafana dashboard exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

from shared import metrics

DOCS = Path(__file__).resolve().parents[3] / "docs"
NAME = re.compile(r"\bbooksnap_[a-z_]+")
SUFFIXES = ("_total", "_bucket", "_count", "_sum")


def defined() -> set[str]:
    return {v.name for v in vars(metrics).values() if isinstance(v, metrics.Metric)}


def base(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def test_operations_doc_names_only_defined_metrics() -> None:
    text = (DOCS / "operations.md").read_text()
    used = {base(n) for n in NAME.findall(text)}
    assert used - defined() == set()


def test_the_dashboard_uses_only_defined_metrics_and_all_of_them_are_documented() -> None:
    dashboard = json.loads((DOCS / "grafana-booksnap.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {base(n) for e in exprs for n in NAME.findall(e)}
    assert used - defined() == set()
    assert (
        defined() - {base(n) for n in NAME.findall((DOCS / "operations.md").read_text())} == set()
    )
