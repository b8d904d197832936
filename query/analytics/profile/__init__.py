"""get_volume_profile: traded volume per price bin, point of control and 70% value area.

``histogram`` holds the binning, POC and value area (and the row path), ``merge`` sums the
writer's aggregates and raw trades per exact price as numpy columns, ``columns`` bins those
columns (the query handler's path) and ``cache`` keeps decoded aggregates between requests.
"""

from __future__ import annotations

from query.analytics.profile.columns import (
    derive_symbol_tick_columns,
    get_volume_profile,
    get_volume_profile_columns,
)
from query.analytics.profile.histogram import (
    MAX_AUTO_BINS,
    MAX_BINS,
    MIN_TRADES,
    PriceVolume,
    auto_bin_size,
    derive_symbol_tick,
    pick_poc,
    rows_from_trades,
    value_area,
)
from query.analytics.profile.merge import PriceColumns, VolumeColumns

__all__ = [
    "MAX_AUTO_BINS",
    "MAX_BINS",
    "MIN_TRADES",
    "PriceColumns",
    "PriceVolume",
    "VolumeColumns",
    "auto_bin_size",
    "derive_symbol_tick",
    "derive_symbol_tick_columns",
    "get_volume_profile",
    "get_volume_profile_columns",
    "pick_poc",
    "rows_from_trades",
    "value_area",
]
