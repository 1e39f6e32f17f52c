"""Community assets in an area, across every project the user may see: a map, a table and
CSV/GeoJSON exports that leave contact details out unless consent allows."""

from __future__ import annotations

import json

import numpy as np
import shapely
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from shapely.geometry import shape

from placewise.accounts.access import AuthedRequest
from placewise.places import stats
from placewise.places.models import Area, AreaKind
from placewise.places.views import access_area

from .access import visible_projects
from .models import Asset, ProjectMember
from .records import assets_csv_response, assets_geojson_response
from .views import casework_required

COLUMNS = (
    "id",
    "name",
    "category",
    "description",
    "longitude",
    "latitude",
    "highly_capable",
    "highly_connected",
    "project_id",
    "project",
    "contact",
)


def _outlines(area: Area) -> list:
    """The area's own boundary, or those of the LSOAs it is made of (cached until areas or
    groups change: a unit's hundreds of boundaries take a while to read)."""
    if area.geometry:
        return [shape(area.geometry_dict)]
    key = f"outlines:{area.pk}:{stats.data_version()}"
    found = cache.get(key)
    if found is None:
        members = (
            Area.objects.filter(group_memberships__group=area)
            .exclude(geometry="")
            .values_list("geometry", flat=True)
        )
        found = [shapely.to_wkb(shape(json.loads(g))) for g in members.iterator(chunk_size=500)]
        cache.set(key, found, 24 * 3600)
    return list(shapely.from_wkb(found)) if found else []


ASSET_FIELDS = (*COLUMNS[:8], "contact", "consent_to_share", "project_id", "project__title")


def assets_in(user, area: Area) -> tuple[list[Asset], list[Asset]]:
    """(assets on the map inside the area, assets with no location whose project is in the
    area), from the projects this user may see."""
    assets = (
        Asset.objects.filter(project__in=visible_projects(user))
        .select_related("project")
        .only(*ASSET_FIELDS)
    )
    located = assets.filter(longitude__isnull=False, latitude__isnull=False)
    outlines = _outlines(area)
    box = stats.bbox_of(area)
    placed: list[Asset] = []
    if outlines and box is not None:
        west, south, east, north = box
        # The box in SQL, then the exact boundaries for what is inside it.
        placed = list(
            located.filter(
                longitude__gte=west, longitude__lte=east, latitude__gte=south, latitude__lte=north
            )
        )
        if placed:
            tree = shapely.STRtree(outlines)
            points = shapely.points(np.array([(a.longitude, a.latitude) for a in placed]))
            hits = set(tree.query(points, predicate="intersects")[0].tolist())
            placed = [a for i, a in enumerate(placed) if i in hits]
    elif area.kind == AreaKind.FORCE:
        placed = list(located)  # a force with no boundary of its own holds every point
    unplaced = assets.filter(longitude__isnull=True)
    if area.kind != AreaKind.FORCE:
        within = {
            area.pk,
            *area.memberships.values_list("lsoa_id", flat=True),
            *area.children.values_list("pk", flat=True),
        }
        unplaced = unplaced.filter(project__area__in=within)
    return placed, list(unplaced)


def _rows(user, assets: list[Asset]) -> list[dict]:
    member_of = set(ProjectMember.objects.filter(user=user).values_list("project_id", flat=True))
    rows = []
    for a in assets:
        rows.append(
            {
                **{c: getattr(a, c) for c in COLUMNS[:8]},
                "project_id": a.project_id,
                "project": a.project.title,
                # Contact details: to members of the asset's project, with consent to share.
                "contact": a.contact if a.project_id in member_of and a.consent_to_share else "",
            }
        )
    return rows


def _table(assets: list[Asset], rows: list[dict]):
    """The table's rows, made in Python: a unit can hold hundreds of assets, and the same
    rows through the template language take several times as long."""
    base = reverse("projects:list")

    def short(text: str, limit: int = 160) -> str:
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

    return format_html_join(
        "",
        '<tr><td>{}{}</td><td>{}</td><td><a href="{}{}/network/#assets">{}</a></td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                a.name,
                mark_safe(' <span class="muted">(no location)</span>')  # noqa: S308
                if a.longitude is None
                else "",
                a.get_category_display(),
                base,
                a.project_id,
                a.project.title,
                short(a.description),
                " ".join(
                    w
                    for w, flag in (
                        ("capable", a.highly_capable),
                        ("connected", a.highly_connected),
                    )
                    if flag
                ),
                r["contact"] or "—",
            )
            for a, r in zip(assets, rows, strict=True)
        ),
    )


@casework_required
def area_assets(request: AuthedRequest, area_id: int) -> HttpResponse:
    area = access_area(request.user, area_id)
    placed, unplaced = assets_in(request.user, area)
    rows = _rows(request.user, placed + unplaced)
    fmt = request.GET.get("format")
    if fmt == "csv":
        return assets_csv_response(rows, COLUMNS, f"{area.code}-assets.csv")
    if fmt == "geojson":
        return assets_geojson_response(rows, f"{area.code}-assets.geojson")
    shapes = [{"name": area.name, "geometry": area.geometry_dict}] if area.geometry else []
    shapes += [
        {
            "name": f"{a.name} ({a.get_category_display()}), {a.project.title}",
            "geometry": {"type": "Point", "coordinates": [a.longitude, a.latitude]},
        }
        for a in placed
    ]
    categories: dict[str, int] = {}
    for a in placed + unplaced:
        categories[a.get_category_display()] = categories.get(a.get_category_display(), 0) + 1
    return render(
        request,
        "projects/area_assets.html",
        {
            "area": area,
            "table": _table(placed + unplaced, rows),
            "placed": len(placed),
            "unplaced": len(unplaced),
            "shapes": shapes,
            "categories": sorted(categories.items(), key=lambda kv: -kv[1]),
        },
    )
