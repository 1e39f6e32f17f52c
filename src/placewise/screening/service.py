"""Screening: rank places on volume, harm, trend and deprivation, with a hotspot test.

The database aggregates (see ``aggregate``); the statistics come from ``placewise.analysis``;
this module joins them to the places Placewise knows and builds the ranked table.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from shapely.geometry import shape

from placewise.analysis import grid as gridlib
from placewise.analysis.hotspots import contiguity_neighbours, getis_ord_gi_star, grid_neighbours
from placewise.analysis.trend import seasonal_strength_table, trend_table
from placewise.incidents.models import HarmScheme, MonthlyCount
from placewise.lib.policeuk import POLICE_UK_CATEGORIES
from placewise.places.models import Area, AreaKind, AreaMembership
from placewise.places.stats import default_scheme, home_force

from .aggregate import LEVELS, Scope, place_month_counts

WEIGHT_KEYS = ("volume", "harm", "trend", "deprivation")
DEFAULT_WEIGHTS = {"volume": 1.0, "harm": 1.0, "trend": 0.5, "deprivation": 0.5}
DEFAULT_MONTHS, MIN_MONTHS = 36, 12


class ScreeningError(ValueError):
    """A screen that cannot be run as asked, with what to change."""


@dataclass(frozen=True)
class ScreenParams:
    level: str = "lsoa"
    cell_m: int = 250
    end: dt.date | None = None
    months: int = DEFAULT_MONTHS
    categories: tuple[str, ...] = ()
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    within: Area | None = None


@dataclass(frozen=True)
class ScreenResult:
    params: ScreenParams
    start: dt.date
    end: dt.date
    scope_label: str
    scheme_label: str
    table: pd.DataFrame
    neighbours: str
    timings: dict[str, float]
    notes: tuple[str, ...] = ()


def parse_weights(text: str) -> dict[str, float]:
    """``volume=1,harm=1,trend=0.5`` -> weights; keys not given are zero."""
    weights = dict.fromkeys(WEIGHT_KEYS, 0.0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in WEIGHT_KEYS:
            raise ScreeningError(
                f"weight {part!r}: use NAME=NUMBER with NAME one of {', '.join(WEIGHT_KEYS)}"
            )
        try:
            weights[key] = float(value)
        except ValueError:
            raise ScreeningError(f"weight {key}={value!r} is not a number") from None
    check_weights(weights)
    return weights


def check_weights(weights: dict[str, float]) -> None:
    for key, value in weights.items():
        if key not in WEIGHT_KEYS:
            raise ScreeningError(f"unknown weight {key!r}; use {', '.join(WEIGHT_KEYS)}")
        if not np.isfinite(value) or value < 0:
            raise ScreeningError(f"weight {key}={value} must be zero or more")
    if not any(weights.get(k, 0) > 0 for k in WEIGHT_KEYS):
        raise ScreeningError("at least one weight must be above zero")


def window(params: ScreenParams, force_name: str) -> tuple[dt.date, dt.date]:
    """The months to screen: ending at ``end`` (default the latest), ``months`` long."""
    rows = MonthlyCount.objects.filter(force=force_name) if force_name else MonthlyCount.objects
    months = sorted(set(rows.values_list("month", flat=True).distinct()))
    if not months:
        raise ScreeningError("no incident data has been imported yet")
    end = params.end or months[-1]
    if end > months[-1] or end < months[0]:
        raise ScreeningError(
            f"end month {end:%Y-%m} is outside the data ({months[0]:%Y-%m} to {months[-1]:%Y-%m})"
        )
    available = [m for m in months if m <= end]
    if params.months < MIN_MONTHS:
        raise ScreeningError(f"a window needs at least {MIN_MONTHS} months for a trend")
    if len(available) < MIN_MONTHS:
        raise ScreeningError(
            f"only {len(available)} months of data up to {end:%Y-%m}; a screen needs at least "
            f"{MIN_MONTHS} for a trend (data from {months[0]:%Y-%m})"
        )
    chosen = available[-params.months :]
    return chosen[0], end


def resolve_scope(params: ScreenParams) -> Scope:
    area = params.within or home_force()
    if area is None:
        return Scope(label="all data")
    if area.kind == AreaKind.FORCE:
        return Scope(label=area.name, force_name=area.force_name or area.name)
    codes = tuple(AreaMembership.objects.filter(group=area).values_list("lsoa__code", flat=True))
    if area.kind == AreaKind.LSOA:
        codes = (area.code,)
    if not codes:
        raise ScreeningError(f"{area.name} has no LSOAs to screen")
    return Scope(label=area.name, lsoa_codes=codes)


def check_level(level: str, cell_m: int, levels: tuple[str, ...] = LEVELS) -> None:
    """A known level, and for a grid a cell size the grid allows."""
    if level not in levels:
        raise ScreeningError(f"level {level!r} is not one of: {', '.join(levels)}")
    if level == "grid":
        try:
            gridlib.validate_cell_size(cell_m)
        except ValueError as exc:
            raise ScreeningError(str(exc)) from None


def screen(params: ScreenParams) -> ScreenResult:
    check_level(params.level, params.cell_m)
    unknown = [c for c in params.categories if c not in POLICE_UK_CATEGORIES]
    if unknown:
        raise ScreeningError(
            f"unknown category {unknown[0]!r}; police.uk categories: "
            + ", ".join(POLICE_UK_CATEGORIES)
        )
    check_weights(params.weights)
    scope = resolve_scope(params)
    start, end = window(params, scope.force_name)
    scheme = default_scheme()
    weights = scheme.weights() if scheme else {}
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    counts = place_month_counts(
        params.level, start, end, weights, scope, params.categories, params.cell_m
    )
    timings["database aggregation"] = time.perf_counter() - t0
    places = _places(params, scope, counts)
    if places.empty:
        raise ScreeningError(f"no {params.level} places with data in {scope.label}")
    t1 = time.perf_counter()
    table, neighbour_text = _statistics(params, counts, places, start, end)
    timings["statistics"] = time.perf_counter() - t1
    return ScreenResult(
        params=params,
        start=start,
        end=end,
        scope_label=scope.label,
        scheme_label=scheme.label() if isinstance(scheme, HarmScheme) else "no harm scheme",
        table=table,
        neighbours=neighbour_text,
        timings=timings,
    )


def _places(params: ScreenParams, scope: Scope, counts: pd.DataFrame) -> pd.DataFrame:
    """Every place in scope (with or without incidents), with name, population, deciles."""
    if params.level == "grid":
        codes = sorted(counts["place"].unique())
        return pd.DataFrame(
            {
                "name": [f"{params.cell_m} m cell {c}" for c in codes],
                "population": np.nan,
                "imd_decile": np.nan,
                "crime_decile": np.nan,
                "geometry": None,
            },
            index=pd.Index(codes, name="place"),
        )
    kind = AreaKind.LSOA if params.level == "lsoa" else AreaKind.NEIGHBOURHOOD
    areas = Area.objects.filter(kind=kind)
    if scope.lsoa_codes is not None:
        if kind == AreaKind.LSOA:
            areas = areas.filter(code__in=scope.lsoa_codes)
        else:
            areas = areas.filter(memberships__lsoa__code__in=scope.lsoa_codes).distinct()
    elif scope.force_name:
        force = Area.objects.filter(kind=AreaKind.FORCE, force_name=scope.force_name).first()
        if force is not None and kind == AreaKind.LSOA:
            areas = areas.filter(group_memberships__group=force)
        elif force is not None:
            areas = areas.filter(memberships__lsoa__group_memberships__group=force).distinct()
    rows = areas.values_list(
        "code", "name", "population", "imd_decile", "crime_decile", "geometry", "id"
    )
    frame = pd.DataFrame(
        list(rows),
        columns=["place", "name", "population", "imd_decile", "crime_decile", "geometry", "id"],
    )
    return frame.set_index("place")


def _statistics(params, counts, places, start, end) -> tuple[pd.DataFrame, str]:
    months = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="MS")
    counts = counts[counts["place"].isin(places.index)]
    wide = (
        counts.pivot_table(index="place", columns="month", values="n", aggfunc="sum")
        .reindex(index=places.index, columns=months)
        .fillna(0)
    )
    totals = counts.groupby("place")[["n", "harm", "asb"]].sum().reindex(places.index).fillna(0)
    table = places.drop(columns=["geometry"]).copy()
    table["incidents"] = totals["n"].astype(int)
    table["asb"] = totals["asb"].astype(int)
    table["harm"] = totals["harm"]
    table["rate_per_1000"] = 1000 * table["incidents"] / table["population"]
    harm_total = table["harm"].sum()
    table["share_of_harm"] = table["harm"] / harm_total if harm_total else 0.0
    trend = trend_table(wide)
    table["change"], table["change_pct"] = trend["change"], trend["change_pct"]
    table["trend"] = trend["rate_ratio"]
    table["trend_low"], table["trend_high"] = trend["rr_low"], trend["rr_high"]
    table["trend_p"], table["trend_direction"] = trend["p_value"], trend["direction"]
    seasonal = seasonal_strength_table(wide)
    table = table.join(seasonal.add_prefix("season_"))
    gi, description = _hotspots(params, places, table["incidents"])
    table["gi_z"], table["gi_p"] = gi["gi_z"], gi["gi_p"]
    table["gi_p_adj"], table["hotspot"] = gi["gi_p_adj"], gi["hotspot"].astype(bool)
    table = score(table, params.weights)
    return table, description


def _hotspots(params, places, incidents: pd.Series) -> tuple[pd.DataFrame, str]:
    """Gi* for each place; returns the statistics indexed like ``places`` and the
    neighbourhood used, in words."""
    if params.level != "grid":
        geoms = [shape(_json(g)) for g in places["geometry"]]
        neighbours = contiguity_neighbours(geoms, list(places.index))
        gi = getis_ord_gi_star(incidents.reindex(list(neighbours.ids)).to_numpy(float), neighbours)
        return gi.set_axis(places.index), neighbours.description
    # A grid cell left out would neighbour nothing, so the cells next to every cell with
    # incidents join the test with a count of zero (they are not listed in the table).
    x, y, ring_x, ring_y, position = grid_ring(incidents.index)
    neighbours = grid_neighbours(ring_x, ring_y)
    values = np.zeros(len(ring_x))
    values[position] = incidents.to_numpy(float)
    gi = getis_ord_gi_star(values, neighbours)
    text = neighbours.description + "; cells next to a cell with incidents count as zero"
    return gi.iloc[position].set_axis(places.index), text


def grid_ring(cell_ids: pd.Index) -> tuple[np.ndarray, ...]:
    """Grid cells "x:y" and every cell next to one of them, in (x, y) order, with numpy
    arrays rather than Python tuples (a national 250 m grid has millions of cells).

    Returns the cells' x and y, the ring's x and y (the cells included) and where each cell
    sits in the ring."""
    parts = cell_ids.str.split(":", n=1, expand=True)
    x = np.asarray(parts.get_level_values(0), dtype=np.int64)
    y = np.asarray(parts.get_level_values(1), dtype=np.int64)
    if not len(x):
        empty = np.array([], dtype=np.int64)
        return x, y, empty, empty, empty
    x0, y0 = x.min() - 1, y.min() - 1
    span = int(y.max() - y0) + 2
    step = np.array([-1, 0, 1], dtype=np.int64)
    ring_keys = np.unique(
        ((x[:, None, None] + step[:, None] - x0) * span + (y[:, None, None] + step - y0)).ravel()
    )
    keys = (x - x0) * span + (y - y0)
    return x, y, ring_keys // span + x0, ring_keys % span + y0, np.searchsorted(ring_keys, keys)


def _json(text: str):
    import json

    return json.loads(text)


def score(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """The priority score and its parts: each component scaled 0-1, then weighted.

    volume and harm: percentile rank among the places screened; trend: 1 - p for a rise
    (evidence that the place is getting worse), 0 otherwise; deprivation: IMD decile 1
    (most deprived) = 1 down to decile 10 = 0, unknown = 0.
    """
    parts = pd.DataFrame(index=table.index)
    parts["volume"] = table["incidents"].rank(pct=True, method="average")
    parts["harm"] = table["harm"].rank(pct=True, method="average")
    rising = table["trend"] > 1
    parts["trend"] = np.where(rising, 1 - table["trend_p"].fillna(1.0), 0.0)
    parts["deprivation"] = ((10 - table["imd_decile"]) / 9).fillna(0.0).clip(0, 1)
    total = sum(weights.get(k, 0.0) for k in WEIGHT_KEYS)
    out = table.copy()
    out["score"] = 0.0
    for key in WEIGHT_KEYS:
        out[f"part_{key}"] = parts[key] * weights.get(key, 0.0) / total
        out["score"] += out[f"part_{key}"]
    # Ties on the score fall back to harm, then volume, then the code: a stable order.
    out = out.reset_index().sort_values(
        ["score", "harm", "incidents", "place"], ascending=[False, False, False, True]
    )
    out["rank"] = np.arange(1, len(out) + 1)
    return out.set_index("place")
