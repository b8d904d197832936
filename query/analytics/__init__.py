"""Pure microstructure analytics over stored snapshots and trades (no I/O, no clock reads).

The query process loads snapshots in ``[window_start - HISTORY.snapshots, window_end]`` (trades
from ``window_start - HISTORY.trades``), ``HISTORY`` being the tool module's, and calls one
function per tool; see docs/analytics.md for every formula.
"""

from __future__ import annotations

from query.analytics.anomalies import HISTORY as ANOMALIES_HISTORY
from query.analytics.anomalies import detect_market_anomalies
from query.analytics.errors import AnalyticsError, InsufficientData, ParameterError
from query.analytics.flow import HISTORY as FLOW_HISTORY
from query.analytics.flow import get_order_flow
from query.analytics.health import HISTORY as HEALTH_HISTORY
from query.analytics.health import get_microstructure_health
from query.analytics.orderbook import orderbook_l1, orderbook_l2
from query.analytics.params import (
    check_hours,
    check_levels,
    check_quality_window,
    check_symbol,
    check_threshold,
    check_tick_size,
    check_vacuum_hours,
    check_window,
)
from query.analytics.profile import (
    PriceColumns,
    PriceVolume,
    VolumeColumns,
    derive_symbol_tick,
    derive_symbol_tick_columns,
    get_volume_profile,
    get_volume_profile_columns,
    rows_from_trades,
)
from query.analytics.quality import HISTORY as QUALITY_HISTORY
from query.analytics.quality import get_market_quality
from query.analytics.vacuums import get_liquidity_vacuums
from query.analytics.window import History

__all__ = [
    "ANOMALIES_HISTORY",
    "FLOW_HISTORY",
    "HEALTH_HISTORY",
    "QUALITY_HISTORY",
    "AnalyticsError",
    "History",
    "InsufficientData",
    "ParameterError",
    "PriceColumns",
    "PriceVolume",
    "VolumeColumns",
    "check_hours",
    "check_levels",
    "check_quality_window",
    "check_symbol",
    "check_threshold",
    "check_tick_size",
    "check_vacuum_hours",
    "check_window",
    "derive_symbol_tick",
    "derive_symbol_tick_columns",
    "detect_market_anomalies",
    "get_liquidity_vacuums",
    "get_market_quality",
    "get_microstructure_health",
    "get_order_flow",
    "get_volume_profile",
    "get_volume_profile_columns",
    "orderbook_l1",
    "orderbook_l2",
    "rows_from_trades",
]
