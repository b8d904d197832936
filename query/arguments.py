"""Request parameters checked against their one definition (``shared/methods.py``).

``parse`` rejects parameters a method does not take (a typo is never silently ignored), applies
each parameter's strict parser, range and default, and returns plain Python values. Times stay
unresolved when absent (None): "now" is the handler's clock's business.
"""

from __future__ import annotations

from typing import Any

from query.analytics import ParameterError
from query.analytics.params import (
    check_int_range,
    check_symbol,
    check_threshold,
    check_tick_size,
)
from shared.methods import Method, Param
from shared.times import parse_time

Params = dict[str, Any]


def parse(method: Method, params: Params) -> Params:
    """The method's parameters, validated, with defaults; ParameterError names the first bad one."""
    unknown = sorted(set(params) - {p.name for p in method.params})
    if unknown:
        expected = ", ".join(p.name for p in method.params) or "none"
        raise ParameterError(str(unknown[0])[:40], f"unknown parameter (expected: {expected})")
    return {p.name: _value(p, params.get(p.name)) for p in method.params}


def _value(param: Param, value: object) -> Any:
    if value is None:
        if param.required:
            raise ParameterError(param.name, f"required: {param.description}")
        if param.kind != "int":
            return param.default
    if param.kind == "symbol":
        return check_symbol(value)
    if param.kind == "int":
        low, high = param.bounds()
        return check_int_range(value, param.name, low, high, param.default)
    if param.kind == "time":
        try:
            return parse_time(value)
        except ValueError as exc:
            raise ParameterError(param.name, str(exc)) from exc
    if param.kind == "decimal":
        return check_tick_size(value, param.name)
    if param.kind == "fraction":
        return check_threshold(value, param.name)
    if not isinstance(value, bool):
        raise ParameterError(param.name, f"must be true or false, got {str(value)[:40]!r}")
    return value
