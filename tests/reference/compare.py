"""Production result == reference result: exact for strings/ints/labels, floats to a tolerance.

docs/analytics.md states which outputs are floats (derived statistics); the reference computes
them in 60-digit Decimal, so a float may differ by its own rounding: relative 1e-9 (absolute 1e-12
near 0) is far above double rounding and far below any meaningful difference.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from query.analytics import InsufficientData
from tests.reference.common import RefInsufficient

REL, ABS = 1e-9, 1e-12


def same(production: Any, reference: Any, path: str = "") -> None:
    """Assert equality, walking dicts and lists; name the first differing path."""
    if isinstance(reference, dict):
        assert isinstance(production, dict), path
        assert set(production) == set(reference), (path, set(production) ^ set(reference))
        for key in reference:
            same(production[key], reference[key], f"{path}.{key}")
    elif isinstance(reference, (list, tuple)):
        assert len(production) == len(reference), path
        for i, (p, r) in enumerate(zip(production, reference, strict=True)):
            same(p, r, f"{path}[{i}]")
    elif isinstance(reference, Decimal):
        assert isinstance(production, float), (path, production)
        assert math.isclose(production, float(reference), rel_tol=REL, abs_tol=ABS), (
            path,
            production,
            reference,
        )
    elif reference is None or isinstance(reference, (str, bool, int)):
        assert type(production) is type(reference), (path, production, reference)
        assert production == reference, (path, production, reference)
    elif isinstance(reference, float):
        assert math.isclose(production, reference, rel_tol=REL, abs_tol=ABS), (path, production)
    else:
        raise AssertionError(f"{path}: unexpected reference type {type(reference)}")


def agree(production: Callable[[], Any], reference: Callable[[], Any]) -> bool:
    """Both refuse for lack of data, or both answer the same; True when answers were compared."""
    try:
        expected = reference()
    except RefInsufficient:
        with pytest.raises(InsufficientData):
            production()
        return False
    same(production(), expected)
    return True
