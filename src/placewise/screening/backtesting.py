"""Back-testing targeting methods on the user's own data (web face of analysis.targeting)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from placewise.analysis import grid as gridlib
from placewise.analysis.targeting import METHODS, backtest
from placewise.places.models import Area, AreaKind
from placewise.places.stats import default_scheme

from .aggregate import place_month_counts
from .service import ScreeningError, ScreenParams, check_level, resolve_scope

BACKTEST_LEVELS = ("lsoa", "grid")


@dataclass(frozen=True)
class BacktestRequest:
    level: str
    test_from: dt.date
    test_to: dt.date
    train_months: int = 12
    methods: tuple[str, ...] = METHODS
    coverages: tuple[float, ...] = (0.01, 0.05, 0.1)
    cell_m: int = 250
    within: Area | None = None


def run_backtest(req: BacktestRequest):
    check_level(req.level, req.cell_m, BACKTEST_LEVELS)
    scope = resolve_scope(ScreenParams(level=req.level, within=req.within))
    scheme = default_scheme()
    start = (pd.Timestamp(req.test_from) - pd.DateOffset(months=req.train_months)).date()
    counts = place_month_counts(
        req.level, start, req.test_to, scheme.weights() if scheme else {}, scope, (), req.cell_m
    )
    if counts.empty:
        raise ScreeningError("no incidents in the months asked for")
    places = _places(req, counts, scope)
    counts = counts[counts["place"].isin(places.index)]
    try:
        return backtest(
            counts[["place", "month", "n", "harm"]],
            places,
            test_from=pd.Timestamp(req.test_from),
            test_to=pd.Timestamp(req.test_to),
            train_months=req.train_months,
            methods=req.methods,
            coverages=req.coverages,
        )
    except ValueError as exc:
        raise ScreeningError(str(exc)) from None


def _places(req: BacktestRequest, counts: pd.DataFrame, scope) -> pd.DataFrame:
    """Each place's area (km²) and centre in British National Grid metres."""
    if req.level == "grid":
        codes = sorted(counts["place"].unique())
        ix, iy = np.array([[int(v) for v in c.split(":")] for c in codes]).T
        x, y = gridlib.cell_centre(ix, iy, req.cell_m)
        area = gridlib.cell_area_km2(req.cell_m)
        return pd.DataFrame({"area_km2": area, "x": x, "y": y}, index=pd.Index(codes))
    lsoas = Area.objects.filter(kind=AreaKind.LSOA).exclude(geometry="")
    if scope.lsoa_codes is not None:
        lsoas = lsoas.filter(code__in=scope.lsoa_codes)
    elif scope.force_name:
        force = Area.objects.filter(kind=AreaKind.FORCE, force_name=scope.force_name).first()
        if force is not None:
            lsoas = lsoas.filter(group_memberships__group=force)
    rows = list(lsoas.values_list("code", "geometry", "centroid_lon", "centroid_lat"))
    if not rows:
        raise ScreeningError("no LSOA boundaries in scope: import boundaries first")
    codes = [r[0] for r in rows]
    areas = [_area_km2(r[1]) for r in rows]
    x, y = gridlib.to_bng(
        np.array([r[2] for r in rows], float), np.array([r[3] for r in rows], float)
    )
    return pd.DataFrame({"area_km2": areas, "x": x, "y": y}, index=pd.Index(codes))


def _area_km2(geometry_text: str) -> float:
    import json

    geom = shape(json.loads(geometry_text))
    projected = shapely.transform(
        geom, lambda xy: np.column_stack(gridlib.to_bng(xy[:, 0], xy[:, 1]))
    )
    return projected.area / 1e6
