"""Counts per place and month, aggregated by the database (never row by row in Python).

Three levels: LSOA and neighbourhood from the monthly summary table, grid cells from the
incidents' British National Grid references. Harm is summed in SQL with the scheme's
weights, so a national screen moves place-month totals, not incidents, into Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db import connection

from placewise.incidents.models import ASB, Incident, MonthlyCount
from placewise.places.models import Area, AreaKind, AreaMembership

LEVELS = ("lsoa", "neighbourhood", "grid")


@dataclass(frozen=True)
class Scope:
    """Where to screen: a whole force (by its police.uk name) or the LSOAs of a group area."""

    label: str
    force_name: str = ""
    lsoa_codes: tuple[str, ...] | None = None


def _harm_case(weights: dict[str, float]) -> tuple[str, list]:
    parts, params = [], []
    for category, weight in sorted(weights.items()):
        # Double precision, not numeric: PostgreSQL sums numeric literals exactly, and slowly.
        parts.append("WHEN category = %s THEN CAST(%s AS DOUBLE PRECISION)")
        params += [category, float(weight)]
    return "CASE " + " ".join(parts) + " ELSE 0.0 END", params


def _filters(alias: str, start: dt.date, end: dt.date, categories, scope: Scope, lsoa_col: str):
    clauses = [f"{alias}.month >= %s", f"{alias}.month <= %s"]
    params: list = [start, end]
    if categories:
        clauses.append(f"{alias}.category IN ({', '.join(['%s'] * len(categories))})")
        params += list(categories)
    if scope.lsoa_codes is not None:
        clauses.append(f"{alias}.{lsoa_col} IN ({', '.join(['%s'] * len(scope.lsoa_codes))})")
        params += list(scope.lsoa_codes)
    elif scope.force_name:
        clauses.append(f"{alias}.force = %s")
        params.append(scope.force_name)
    return " AND ".join(clauses), params


def place_month_counts(
    level: str,
    start: dt.date,
    end: dt.date,
    weights: dict[str, float],
    scope: Scope,
    categories: tuple[str, ...] = (),
    cell_m: int = 250,
) -> pd.DataFrame:
    """Columns place, month (Timestamp), n, harm, asb: one row per place and month with data."""
    harm_sql, harm_params = _harm_case(weights)
    if level == "grid":
        sql, params = _grid_sql(harm_sql, start, end, scope, categories, cell_m)
    elif level == "lsoa":
        sql, params = _lsoa_sql(harm_sql, start, end, scope, categories)
    elif level == "neighbourhood":
        sql, params = _group_sql(harm_sql, start, end, scope, categories)
    else:
        raise ValueError(f"level {level!r} is not one of: {', '.join(LEVELS)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*harm_params, ASB, *params])
        rows = cursor.fetchall()
    frame = pd.DataFrame(rows, columns=["place", "month", "n", "harm", "asb"])
    frame["month"] = pd.to_datetime(frame["month"])
    return frame.astype({"n": "int64", "harm": "float64", "asb": "int64"})


def _lsoa_sql(harm_sql, start, end, scope, categories):
    table = MonthlyCount._meta.db_table
    where, params = _filters("mc", start, end, categories, scope, "lsoa_code")
    sql = (
        f"SELECT mc.lsoa_code, mc.month, SUM(mc.n), SUM(mc.n * ({harm_sql})), "  # noqa: S608
        f"SUM(CASE WHEN mc.category = %s THEN mc.n ELSE 0 END) FROM {table} mc "
        f"WHERE {where} AND mc.lsoa_code <> '' GROUP BY mc.lsoa_code, mc.month"
    )
    return sql, params


def _group_sql(harm_sql, start, end, scope, categories):
    counts, areas = MonthlyCount._meta.db_table, Area._meta.db_table
    members = AreaMembership._meta.db_table
    where, params = _filters("mc", start, end, categories, scope, "lsoa_code")
    sql = (
        f"SELECT g.code, mc.month, SUM(mc.n), SUM(mc.n * ({harm_sql})), "  # noqa: S608
        f"SUM(CASE WHEN mc.category = %s THEN mc.n ELSE 0 END) FROM {counts} mc "
        f"JOIN {areas} l ON l.kind = 'lsoa' AND l.code = mc.lsoa_code "
        f"JOIN {members} m ON m.lsoa_id = l.id "
        f"JOIN {areas} g ON g.id = m.group_id AND g.kind = '{AreaKind.NEIGHBOURHOOD}' "
        f"WHERE {where} GROUP BY g.code, mc.month"
    )
    return sql, params


def _grid_sql(harm_sql, start, end, scope, categories, cell_m):
    table = Incident._meta.db_table
    where, params = _filters("i", start, end, categories, scope, "lsoa_code")
    # Integer division of whole-metre grid references: both databases truncate, and
    # eastings and northings are positive, so this is the floor.
    cell = int(cell_m)
    ix, iy = f"CAST(i.easting / {cell} AS INTEGER)", f"CAST(i.northing / {cell} AS INTEGER)"
    sql = (
        f"SELECT {ix} || ':' || {iy}, i.month, COUNT(*), SUM({harm_sql}), "  # noqa: S608
        f"SUM(CASE WHEN i.category = %s THEN 1 ELSE 0 END) FROM {table} i "
        f"WHERE {where} AND i.easting IS NOT NULL GROUP BY {ix}, {iy}, i.month"
    )
    return sql, params
