"""Screening results as records, CSV and GeoJSON (the same columns everywhere)."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd

COLUMNS = (
    "code",
    "name",
    "rank",
    "score",
    "incidents",
    "asb",
    "harm",
    "rate_per_1000",
    "share_of_harm",
    "change",
    "change_pct",
    "trend",
    "trend_low",
    "trend_high",
    "trend_p",
    "trend_direction",
    "imd_decile",
    "crime_decile",
    "gi_z",
    "gi_p",
    "gi_p_adj",
    "hotspot",
    "part_volume",
    "part_harm",
    "part_trend",
    "part_deprivation",
)


def _clean(value):
    """JSON-safe scalars: numpy values unwrapped; NaN, infinity and pandas' NA become None."""
    if hasattr(value, "item"):
        value = value.item()
    if value is pd.NA or value is None:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def records(table: pd.DataFrame) -> list[dict]:
    frame = table.reset_index().rename(columns={"place": "code"})
    extra = [c for c in frame.columns if c.startswith("season_")]
    cols = [c for c in (*COLUMNS, *extra) if c in frame.columns]
    return [
        {c: _clean(v) for c, v in zip(cols, row, strict=True)}
        for row in frame[cols].itertuples(index=False)
    ]


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()
