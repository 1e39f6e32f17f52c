from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import AuthedRequest, data_role_required, staff_required
from placewise.analysis.trend import forecast, seasonal_profile
from placewise.core.charts import stacked_months
from placewise.lib.areafiles import AreaFileError, is_boundary_file
from placewise.lib.geojson import CONTENT_TYPE, feature_collection_text

from . import actions, stats
from .models import Area, AreaKind


def access_area(user, area_id: int | str) -> Area:
    """The one way views fetch an area; every staff role may read every area."""
    try:
        return Area.objects.select_related("parent").get(pk=int(area_id))
    except (Area.DoesNotExist, ValueError, TypeError):
        raise Http404("No such area") from None


@staff_required
def area_list(request: AuthedRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    q = request.GET.get("q", "").strip()
    areas = Area.objects.only("id", "kind", "code", "name", "population", "imd_decile", "vintage")
    if kind in AreaKind.values:
        areas = areas.filter(kind=kind)
    if q:
        areas = areas.filter(name__icontains=q) | areas.filter(code__iexact=q)
    page = Paginator(areas.order_by("kind", "name"), 100).get_page(request.GET.get("page"))
    kinds = dict(Area.objects.values_list("kind").annotate(n=Count("id")))
    return render(
        request,
        "places/area_list.html",
        {
            "page": page,
            "kind": kind,
            "q": q,
            "kinds": [(k, label, kinds.get(k, 0)) for k, label in AreaKind.choices],
        },
    )


@staff_required
def area_detail(request: AuthedRequest, area_id: int) -> HttpResponse:
    area = access_area(request.user, area_id)
    period = stats.default_period(
        request.GET.get("from"), request.GET.get("to"), stats.force_name_of(area)
    )
    scheme = stats.default_scheme()
    context: dict[str, Any] = {
        "area": area,
        "period": period,
        "scheme": scheme,
        "shapes": _shapes(area),
    }
    if period:
        fig = stats.figures(area, period, scheme)
        force = stats.force_for(area)
        force_fig = stats.figures(force, period, scheme) if force and force != area else None
        top = [c for c, _ in fig.by_category[:6]]
        months = period.month_list()
        series = {c: [fig.by_month.get(m, {}).get(c, 0) for m in months] for c in top}
        others = [
            sum(v for c, v in fig.by_month.get(m, {}).items() if c not in top) for m in months
        ]
        if any(others):
            series["All other categories"] = others
        context.update(
            fig=fig,
            force=force,
            force_fig=force_fig,
            months=months,
            chart=stacked_months(months, series),
            share=_share(fig, force_fig),
        )
    if period:
        context.update(seasonal_demand(area))
    context["children"] = area.children.only("id", "name", "kind", "parent_id")[:200]
    context["members"] = Area.objects.filter(group_memberships__group=area).only(
        "id", "name", "code"
    )[:1000]
    context["groups"] = Area.objects.filter(memberships__lsoa=area).only("id", "name", "kind")
    return render(request, "places/area_detail.html", context)


def seasonal_demand(area: Area) -> dict:
    """Monthly profile over all the data held, and a forecast of the next six months."""
    span = stats.data_range(stats.force_name_of(area)) or stats.data_range()
    if span is None:
        return {}
    full = stats.Period(*span)
    table = stats.counts(area, full)
    months = full.month_list()
    if len(months) < 12:
        return {"seasonal_note": f"Seasonal demand needs 12 months of data; {len(months)} held."}
    totals: dict = {}
    for (month, _category), n in table.items():
        totals[month] = totals.get(month, 0) + n
    series = pd.Series([totals.get(m, 0) for m in months], index=pd.DatetimeIndex(months))
    profile = seasonal_profile(series)
    # The seasonal model wants three years: with two, one shock (such as 2020's lockdown
    # rise in ASB) is read as a trend and carried forward. Below that, the 12-month mean.
    method = "seasonal_glm" if len(months) >= 36 else "mean"
    ahead = forecast(series, horizon=6, method=method, seed=0)
    return {"profile": profile.to_dict("records"), "forecast": ahead.to_dict("records"),
            "forecast_months": len(months)}  # fmt: skip


def _share(fig, force_fig) -> dict | None:
    if not force_fig:
        return None
    return {
        "incidents": 100 * fig.incidents / force_fig.incidents if force_fig.incidents else None,
        "harm": 100 * fig.harm / force_fig.harm if force_fig.harm else None,
        "rate_ratio": fig.rate_per_1000 / force_fig.rate_per_1000
        if fig.rate_per_1000 and force_fig.rate_per_1000
        else None,
    }


def _shapes(area: Area) -> list[dict]:
    shapes = []
    if area.geometry:
        shapes.append({"name": area.name, "geometry": area.geometry_dict})
    return shapes


@staff_required
def map_geojson(request: AuthedRequest) -> HttpResponse:
    """LSOAs with the chosen measure over the period, for the home page map."""
    force = stats.home_force()
    period = stats.default_period(
        request.GET.get("from"), request.GET.get("to"), stats.force_name_of(force)
    )
    measure = "harm" if request.GET.get("measure") == "harm" else "incidents"
    scheme = stats.default_scheme()
    values = (
        stats.lsoa_values(period, measure, scheme, request.GET.get("category", ""))
        if period
        else {}
    )
    areas = stats.map_lsoas(force)
    detail = reverse("places:area_detail", args=[0])[:-2]
    rows = areas.values_list("id", "code", "name", "geometry")
    features = (
        (
            raw,
            {
                "id": pk,
                "code": code,
                "name": name,
                "value": round(values.get(code, 0), 2),
                "url": f"{detail}{pk}/",
            },
        )
        for pk, code, name, raw in rows
    )
    return HttpResponse(feature_collection_text(features), content_type=CONTENT_TYPE)


@data_role_required
@require_http_methods(["GET", "POST"])
def define_area(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("mode") == "files":
        try:
            for summary in _import_area_files(request):
                messages.success(request, _describe(summary))
        except AreaFileError as exc:
            messages.error(request, f"Nothing was changed: {exc}")
        return redirect("places:define_area")
    if request.method == "POST":
        try:
            area = _define_from_post(request)
        except AreaFileError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"{area.name} saved.")
            return redirect("places:area_detail", area.pk)
    units = Area.objects.filter(kind__in=[AreaKind.UNIT, AreaKind.FORCE]).only("id", "name", "kind")
    force_shapes = [
        {"name": a.name, "geometry": a.geometry_dict, "fill": 0.03}
        for a in Area.objects.filter(kind=AreaKind.FORCE).exclude(geometry="")
    ]
    return render(
        request,
        "places/define.html",
        {
            "units": units,
            "kinds": [
                (AreaKind.NEIGHBOURHOOD, "Neighbourhood"),
                (AreaKind.UNIT, "Unit"),
                (AreaKind.IMPACT_AREA, "Impact area"),
            ],
            "shapes": force_shapes,
            "post": request.POST,
        },
    )


AREA_FILE_SUFFIXES = (".geojson", ".json", ".csv", ".geojson.gz", ".csv.gz", ".json.gz")


def _import_area_files(request: AuthedRequest) -> list[dict]:
    """Area files uploaded in the browser: saved to a temporary folder, imported one by one."""
    uploads = request.FILES.getlist("area_files")
    if not uploads:
        raise AreaFileError("choose at least one area file")
    limit = settings.PLACEWISE_MAX_UPLOAD_MB * 1024 * 1024
    summaries = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for f in uploads:
            name = f.name or "upload"
            if not name.lower().endswith(AREA_FILE_SUFFIXES):
                raise AreaFileError(f"{name}: area files are GeoJSON or CSV (optionally .gz)")
            if (f.size or 0) > limit:
                raise AreaFileError(f"{f.name}: larger than {settings.PLACEWISE_MAX_UPLOAD_MB} MB")
            path = Path(tmp) / Path(name).name
            with open(path, "wb") as out:
                for chunk in f.chunks():
                    out.write(chunk)
            paths.append(path)
        # Boundaries first: the other files update LSOAs that boundaries create. One
        # transaction for the whole upload: a bad file leaves the earlier ones unimported too.
        with transaction.atomic():
            for path in sorted(paths, key=lambda p: not is_boundary_file(p.name)):
                summaries.append(actions.do_import_area_file(path, request.user))
    return summaries


def _describe(summary: dict) -> str:
    if summary["kind"] == "boundaries":
        return (
            f"{summary['file']}: {summary['created']} LSOAs created, {summary['updated']} updated."
        )
    return (
        f"{summary['file']} ({summary['kind']}): {summary['areas_updated']} LSOAs updated; "
        f"{summary['codes_not_in_placewise']} codes in the file are not in Placewise."
    )


def _define_from_post(request: AuthedRequest) -> Area:
    name = request.POST.get("name", "").strip()
    if request.POST.get("mode") == "lsoas":
        parent = None
        if request.POST.get("parent"):
            parent = access_area(request.user, request.POST["parent"])
        codes = request.POST.get("lsoa_codes", "").replace(",", " ").split()
        return actions.do_define_group(
            request.user, request.POST.get("kind", ""), name, codes, parent
        )
    upload = request.FILES.get("geojson_file")
    if upload:
        where = upload.name or "the uploaded file"
        if (upload.size or 0) > 5 * 1024 * 1024:
            raise AreaFileError(f"{where}: larger than 5 MB; upload one polygon")
        text = upload.read().decode("utf-8", errors="replace")
    else:
        where, text = "the drawn polygon", request.POST.get("drawn", "") or ""
    if not text.strip():
        raise AreaFileError("draw a polygon on the map (click at least three points) or upload one")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise AreaFileError(f"{where}: not GeoJSON ({exc.msg} at line {exc.lineno})") from exc
    return actions.do_create_custom_area(request.user, name, data, where)
