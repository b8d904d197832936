"""The DuckDB reference: the same 24-hour volume profile and 60-second order flow over Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from query.analytics.profile import pick_poc, value_area

PROFILE_SQL = """
SELECT floor(price / $bin)::BIGINT AS b, sum(qty) AS volume, count(*) AS trades,
       sum(CASE WHEN buyer_maker THEN 0 ELSE qty END) AS buy,
       sum(CASE WHEN buyer_maker THEN qty ELSE 0 END) AS sell
FROM read_parquet($trades)
WHERE second >= $start AND second < $end
GROUP BY b ORDER BY b
"""

# Added and removed quantity in the top 20 levels of each side between consecutive seconds, the
# Cont-Kukanov-Stoikov OFI at the touch, and the taker volumes: what get_order_flow reports.
FLOW_SQL = """
WITH s AS (
  SELECT second, bid_price, bid_qty, ask_price, ask_qty
  FROM read_parquet($snaps) WHERE second >= $start - 1 AND second < $end
),
lv AS (
  SELECT second, 'b' AS side, unnest(bid_price) AS p, unnest(bid_qty) AS q FROM s
  UNION ALL
  SELECT second, 'a' AS side, unnest(ask_price) AS p, unnest(ask_qty) AS q FROM s
),
pairs AS (
  SELECT coalesce(n.second, o.second + 1) AS second, coalesce(n.side, o.side) AS side,
         coalesce(n.q, 0) - coalesce(o.q, 0) AS dq
  FROM (SELECT * FROM lv WHERE second >= $start) n
  FULL OUTER JOIN (SELECT * FROM lv WHERE second < $end - 1) o
    ON n.side = o.side AND n.p = o.p AND n.second = o.second + 1
),
changes AS (
  SELECT side, sum(greatest(dq, 0)) AS added, sum(greatest(-dq, 0)) AS removed
  FROM pairs WHERE second >= $start AND second < $end GROUP BY side
),
touch AS (
  SELECT second, bid_price[1] AS bp, bid_qty[1] AS bq, ask_price[1] AS ap, ask_qty[1] AS aq,
         lag(bid_price[1]) OVER w AS pbp, lag(bid_qty[1]) OVER w AS pbq,
         lag(ask_price[1]) OVER w AS pap, lag(ask_qty[1]) OVER w AS paq
  FROM s WINDOW w AS (ORDER BY second)
),
ofi AS (
  SELECT sum(
    (CASE WHEN bp >= pbp THEN bq ELSE 0 END) - (CASE WHEN bp <= pbp THEN pbq ELSE 0 END)
    - (CASE WHEN ap <= pap THEN aq ELSE 0 END) + (CASE WHEN ap >= pap THEN paq ELSE 0 END)
  ) AS ofi
  FROM touch WHERE second >= $start AND pbp IS NOT NULL
),
taker AS (
  SELECT sum(CASE WHEN buyer_maker THEN 0 ELSE qty END) AS buy,
         sum(CASE WHEN buyer_maker THEN qty ELSE 0 END) AS sell, count(*) AS trades
  FROM read_parquet($trades) WHERE second >= $start AND second < $end
)
SELECT (SELECT list(struct_pack(side, added, removed)) FROM changes) AS changes,
       (SELECT ofi FROM ofi) AS ofi, taker.* FROM taker
"""


def volume_profile(
    con: duckdb.DuckDBPyConnection, trades: Path, start: int, end: int, bin_size: int
) -> dict[str, Any]:
    """Bins, POC and 70% value area (the latter two with booksnap's own pure functions)."""
    rows = con.execute(
        PROFILE_SQL, {"bin": bin_size, "trades": str(trades), "start": start, "end": end}
    ).fetchall()
    first = rows[0][0]
    volumes = [0] * (rows[-1][0] - first + 1)
    for b, volume, *_ in rows:
        volumes[b - first] = int(volume)
    poc = pick_poc(volumes)
    low, high = value_area(volumes, poc)
    return {
        "bins": len(rows),
        "poc": (first + poc) * bin_size,
        "value_area": ((first + low) * bin_size, (first + high + 1) * bin_size),
        "volume": sum(volumes),
    }


def order_flow(
    con: duckdb.DuckDBPyConnection, snaps: Path, trades: Path, start: int, end: int
) -> dict[str, Any]:
    row = con.execute(
        FLOW_SQL, {"snaps": str(snaps), "trades": str(trades), "start": start, "end": end}
    ).fetchone()
    assert row is not None
    return {"changes": row[0], "ofi": row[1], "buy": row[2], "sell": row[3], "trades": row[4]}
