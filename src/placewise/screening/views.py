"""Screening pages: run a screen, save it, export it, brief a place, back-test methods."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest, role_required, staff_required
from placewise.accounts.models import SCREEN_ROLES
from placewise.analysis import grid as gridlib
from placewise.analysis.targeting import METHODS, concentration
from placewise.core.charts import concentration_curves
from placewise.lib.geojson import CONTENT_TYPE, feature_collection_text
from placewise.lib.policeuk import POLICE_UK_CATEGORIES
from placewise.places import stats
from placewise.places.models import Area, AreaKind
from placewise.places.stats import parse_month

from . import actions
from .backtesting import BacktestRequest, run_backtest
from .export import records, to_csv
from .models import BacktestRun, ScreeningRun
from .service import (
    DEFAULT_MONTHS,
    DEFAULT_WEIGHTS,
    WEIGHT_KEYS,
    ScreeningError,
    ScreenParams,
    check_weights,
    resolve_scope,
    screen,
)

# Supervisors and analysts choose where to focus; officers and partners may read the runs.
screen_required = role_required(*SCREEN_ROLES)


def access_screening_run(user, run_id: int | str) -> ScreeningRun:
    """Saved runs are readable by every staff role (they hold only published data)."""
    try:
        return ScreeningRun.objects.get(pk=int(run_id))
    except (ScreeningRun.DoesNotExist, ValueError, TypeError):
        raise Http404("No such screening run") from None


def params_from(data) -> ScreenParams:
    level = data.get("level", "lsoa")
    try:
        cell_m = int(data.get("cell_m") or 250)
        months = int(data.get("months") or DEFAULT_MONTHS)
        weights = {k: float(data.get(f"w_{k}", DEFAULT_WEIGHTS[k])) for k in WEIGHT_KEYS}
    except ValueError as exc:
        raise ScreeningError(f"not a number: {exc}") from None
    check_weights(weights)
    end = parse_month(data.get("end")) if data.get("end") else None
    if data.get("end") and end is None:
        raise ScreeningError(f"end month {data.get('end')!r} is not a month (YYYY-MM)")
    category = data.get("category", "")
    within = None
    if data.get("within"):
        within = (
            Area.objects.filter(pk=int(data["within"])).first()
            if str(data["within"]).isdigit()
            else None
        )
        if within is None:
            raise ScreeningError("the area to screen within no longer exists")
    return ScreenParams(
        level=level,
        cell_m=cell_m,
        end=end,
        months=months,
        categories=(category,) if category else (),
        weights=weights,
        within=within,
    )


@screen_required
@require_http_methods(["GET", "POST"])
def screening_page(request: AuthedRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    context = _form_context(data)
    if "level" in data:
        try:
            result = screen(params_from(data))
        except ScreeningError as exc:
            messages.error(request, f"The screen could not run: {exc}")
            return render(request, "screening/screen.html", context)
        if request.method == "POST":
            run = actions.do_save_screening_run(request.user, result, data.get("title", ""))
            messages.success(request, f"Saved as screening run {run.pk}.")
            return redirect("screening:run_detail", run.pk)
        rows = records(result.table)
        context.update(
            result=result,
            rows=rows[:200],
            total=len(rows),
            conc=_concentration(result.table),
            map_json=_map_features(rows, result.params.level, result.params.cell_m),
        )
    return render(request, "screening/screen.html", context)


def _form_context(data) -> dict:
    weights = {k: data.get(f"w_{k}", DEFAULT_WEIGHTS[k]) for k in WEIGHT_KEYS}
    return {
        "data": data,
        "weights": weights,
        "categories": POLICE_UK_CATEGORIES,
        "areas": Area.objects.filter(
            kind__in=[AreaKind.FORCE, AreaKind.UNIT, AreaKind.NEIGHBOURHOOD, AreaKind.IMPACT_AREA]
        ).only("id", "name", "kind"),
        "default_months": DEFAULT_MONTHS,
        "last_backtest": BacktestRun.objects.first(),
    }


def _concentration(table) -> dict:
    """Top-share figures and the curves for incidents and harm across the places screened."""
    shares, curves = {}, {}
    for column in ("incidents", "harm"):
        values = table[column].to_numpy(dtype=float)
        if values.sum() > 0:
            c = concentration(values)
            shares[column] = {f"{round(k * 100)}%": v for k, v in c.top_shares.items()}
            curves[column] = list(zip(c.curve["place_share"], c.curve["value_share"], strict=True))
    return {"shares": shares, "chart": concentration_curves(curves) if curves else ""}


def _map_features(rows: list[dict], level: str, cell_m: int) -> list[dict]:
    """Places as map shapes: area boundaries, or grid squares built from their cell ids."""
    features = []
    if level == "grid":
        for r in rows:
            ix, iy = (int(v) for v in r["code"].split(":"))
            features.append(
                {
                    "code": r["code"],
                    "name": f"#{r['rank']} {r['name']}",
                    "score": r["score"],
                    "hotspot": r["hotspot"],
                    "geometry": gridlib.cell_polygon_lonlat(ix, iy, cell_m),
                }
            )
        return features
    kind = AreaKind.LSOA if level == "lsoa" else AreaKind.NEIGHBOURHOOD
    shapes = dict(
        Area.objects.filter(kind=kind, code__in=[r["code"] for r in rows]).values_list(
            "code", "geometry"
        )
    )
    for r in rows:
        if shapes.get(r["code"]):
            features.append(
                {
                    "code": r["code"],
                    "name": f"#{r['rank']} {r['name']}",
                    "score": r["score"],
                    "hotspot": r["hotspot"],
                    "geometry": json.loads(shapes[r["code"]]),
                }
            )
    return features


@staff_required
def run_list(request: AuthedRequest) -> HttpResponse:
    page = Paginator(ScreeningRun.objects.select_related("created_by").defer("rows"), 50)
    return render(
        request, "screening/run_list.html", {"page": page.get_page(request.GET.get("page"))}
    )


@staff_required
def run_detail(request: AuthedRequest, screening_id: int) -> HttpResponse:
    run = access_screening_run(request.user, screening_id)
    rows = run.rows
    return render(
        request,
        "screening/run_detail.html",
        {
            "run": run,
            "rows": rows[:200],
            "total": len(rows),
            "map_json": _map_features(rows[:200], run.level, run.cell_m or 250),
        },
    )


@staff_required
def run_csv(request: AuthedRequest, screening_id: int) -> HttpResponse:
    run = access_screening_run(request.user, screening_id)
    response = HttpResponse(to_csv(run.rows), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="screening-run-{run.pk}.csv"'
    return response


@staff_required
def run_geojson(request: AuthedRequest, screening_id: int) -> HttpResponse:
    run = access_screening_run(request.user, screening_id)
    by_code = {r["code"]: r for r in run.rows}
    shapes = _map_features(run.rows, run.level, run.cell_m or 250)
    features = ((json.dumps(f["geometry"]), by_code[f["code"]]) for f in shapes)
    response = HttpResponse(feature_collection_text(features), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="screening-run-{run.pk}.geojson"'
    return response


@staff_required
def brief(request: AuthedRequest, screening_id: int, code: str) -> HttpResponse:
    """One printable page for a place: what the data says and why it was chosen."""
    run = access_screening_run(request.user, screening_id)
    row = run.row(code)
    if row is None:
        raise Http404("That place is not in this screening run")
    context: dict = {"run": run, "row": row, "shapes": []}
    kind = {"lsoa": AreaKind.LSOA, "neighbourhood": AreaKind.NEIGHBOURHOOD}.get(run.level)
    area = Area.objects.filter(kind=kind, code=code).first() if kind else None
    if run.level == "grid":
        ix, iy = (int(v) for v in code.split(":"))
        context["shapes"] = [
            {"name": row["name"], "geometry": gridlib.cell_polygon_lonlat(ix, iy, run.cell_m)}
        ]
    if area is not None:
        period = stats.Period(run.start, run.end)
        scheme = stats.default_scheme()
        fig = stats.figures(area, period, scheme)
        force = stats.force_for(area)
        context.update(
            area=area,
            fig=fig,
            force=force,
            force_fig=stats.figures(force, period, scheme) if force else None,
            shapes=[{"name": area.name, "geometry": area.geometry_dict}] if area.geometry else [],
            profile=_profile(fig, period),
        )
    return render(request, "screening/brief.html", context)


def _profile(fig, period) -> list[tuple[str, float]]:
    """Mean incidents per calendar month over the window (the place's seasonal shape)."""
    totals: dict[int, list[int]] = {}
    for month in period.month_list():
        totals.setdefault(month.month, []).append(sum(fig.by_month.get(month, {}).values()))
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    return [(names[m - 1], sum(v) / len(v)) for m, v in sorted(totals.items())]


@screen_required
def backtest_page(request: AuthedRequest) -> HttpResponse:
    """Compare targeting methods on this force's own months; the best PAI at 5% is suggested."""
    data = request.GET
    context: dict = {"data": data, "methods": METHODS, "areas": _form_context(data)["areas"]}
    if "test_from" in data:
        try:
            backtest_request = _backtest_request(data)
            result = run_backtest(backtest_request)
        except ScreeningError as exc:
            messages.error(request, f"The back-test could not run: {exc}")
        else:
            scope = resolve_scope(ScreenParams(within=backtest_request.within)).label
            saved = actions.do_save_backtest(request.user, backtest_request, result, scope)
            context.update(result=result, records=result.as_records(), saved=saved)
    return render(request, "screening/backtest.html", context)


def _backtest_request(data) -> BacktestRequest:
    first, last = parse_month(data.get("test_from")), parse_month(data.get("test_to"))
    if first is None or last is None:
        raise ScreeningError("give the first and last test months (YYYY-MM)")
    try:
        train = int(data.get("train_months") or 12)
        cell_m = int(data.get("cell_m") or 250)
    except ValueError as exc:
        raise ScreeningError(f"not a number: {exc}") from None
    within = None
    if str(data.get("within", "")).isdigit():
        within = Area.objects.filter(pk=int(data["within"])).first()
    return BacktestRequest(
        level=data.get("level", "lsoa"),
        test_from=first,
        test_to=last,
        train_months=train,
        cell_m=cell_m,
        within=within,
    )
