"""Pure microstructure analytics over stored snapshots and trades (no I/O, no clock reads).

The query process loads snapshots/trades in ``[window_start - HISTORY_SECONDS[tool],
window_end]`` and calls one function per tool; see docs/analytics.md for every formula.
"""

from __future__ import annotations

from query.analytics.anomalies import detect_market_anomalies
from query.analytics.errors import AnalyticsError, InsufficientData, ParameterError
from query.analytics.flow import get_order_flow
from query.analytics.health import get_microstructure_health
from query.analytics.orderbook import orderbook_l1, orderbook_l2
from query.analytics.params import (
    check_hours,
    check_levels,
    check_symbol,
    check_threshold,
    check_tick_size,
    check_window,
)
from query.analytics.profile import (
    PriceVolume,
    derive_symbol_tick,
    get_volume_profile,
    rows_from_trades,
)
from query.analytics.profile_columns import (
    derive_symbol_tick_columns,
    get_volume_profile_columns,
)
from query.analytics.profile_merge import PriceColumns, VolumeColumns
from query.analytics.vacuums import get_liquidity_vacuums
from query.analytics.window import HISTORY_SECONDS, TRADE_HISTORY_SECONDS

__all__ = [
    "HISTORY_SECONDS",
    "TRADE_HISTORY_SECONDS",
    "AnalyticsError",
    "InsufficientData",
    "ParameterError",
    "PriceColumns",
    "PriceVolume",
    "VolumeColumns",
    "check_hours",
    "check_levels",
    "check_symbol",
    "check_threshold",
    "check_tick_size",
    "check_window",
    "derive_symbol_tick",
    "derive_symbol_tick_columns",
    "detect_market_anomalies",
    "get_liquidity_vacuums",
    "get_microstructure_health",
    "get_order_flow",
    "get_volume_profile",
    "get_volume_profile_columns",
    "orderbook_l1",
    "orderbook_l2",
    "rows_from_trades",
]
