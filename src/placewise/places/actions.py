"""Changing areas. Each action writes, records the audit entry, and is all-or-nothing."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils.text import slugify
from shapely.geometry import shape

from placewise.accounts.audit import record
from placewise.accounts.models import User
from placewise.incidents.importer import refresh_statistics
from placewise.lib.areafiles import (
    SOURCES,
    AreaFileError,
    detect_kind,
    polygon_geometry,
    read_boundaries,
    read_groups,
    read_values,
)

from .models import Area, AreaKind, AreaMembership


def do_import_area_file(
    path: Path, actor: User | None = None, create_missing: bool = False
) -> dict:
    """Import one ONS/MHCLG area file (kind detected from its header); returns a summary."""
    kind = detect_kind(path)
    if kind == "boundaries":
        return do_import_boundaries(path, actor)
    values = read_values(path, kind)
    with transaction.atomic():
        existing = {a.code: a for a in Area.objects.filter(kind=AreaKind.LSOA, code__in=values)}
        missing = [c for c in values if c not in existing]
        if create_missing and kind == "centroids":
            existing.update(_create_bare_lsoas(missing))
        fields = _apply_values(existing, values, kind)
        Area.objects.bulk_update(list(existing.values()), fields, batch_size=500)
        if "population" in fields:
            refresh_group_populations()
        summary = {
            "file": path.name,
            "kind": kind,
            "rows": len(values),
            "areas_updated": len(existing),
            "codes_not_in_placewise": len(values) - len(existing),
        }
        record(
            actor, "import_areas", object_type="places.area", object_repr=path.name, after=summary
        )
    return summary


def refresh_group_populations() -> None:
    """Groups' populations are the sums of their LSOAs'; unknown if any LSOA's is unknown."""
    groups = (
        Area.objects.filter(memberships__isnull=False)
        .distinct()
        .annotate(
            total=Sum("memberships__lsoa__population"),
            unknown=Count("memberships", filter=Q(memberships__lsoa__population__isnull=True)),
        )
    )
    changed = []
    for group in groups:
        population = group.total if group.unknown == 0 else None
        if population != group.population:
            group.population = population
            group.population_source = "sum of LSOAs" if population is not None else ""
            changed.append(group)
    Area.objects.bulk_update(changed, ["population", "population_source"], batch_size=500)


def _create_bare_lsoas(codes: list[str]) -> dict[str, Area]:
    Area.objects.bulk_create(
        [Area(kind=AreaKind.LSOA, code=c, name=c, vintage="2011") for c in codes], batch_size=1000
    )
    return {a.code: a for a in Area.objects.filter(kind=AreaKind.LSOA, code__in=codes)}


def _apply_values(areas: dict[str, Area], values: dict[str, dict], kind: str) -> list[str]:
    fields: set[str] = set()
    for code, area in areas.items():
        for name, value in values[code].items():
            setattr(area, name, value)
            fields.add(name)
    source_field = {
        "centroids": "centroid_source",
        "population": "population_source",
        "census": "population_source",
        "imd": "deprivation_source",
        "domains": "deprivation_source",
    }[kind]
    for area in areas.values():
        setattr(area, source_field, SOURCES[kind])
    return sorted(fields | {source_field})


def do_import_boundaries(path: Path, actor: User | None = None) -> dict:
    """Create or update LSOAs from an ONS boundary GeoJSON."""
    boundaries = read_boundaries(path)
    with transaction.atomic():
        existing = {
            a.code: a
            for a in Area.objects.filter(kind=AreaKind.LSOA, code__in=[b.code for b in boundaries])
        }
        created: list[Area] = []
        updated: list[Area] = []
        for b in boundaries:
            area = existing.get(b.code) or Area(kind=AreaKind.LSOA, code=b.code)
            area.name, area.vintage = b.name, b.vintage
            _set_geometry(area, b.geometry)
            if area.centroid_lon is None:
                area.centroid_lon, area.centroid_lat = b.centroid
                area.centroid_source = "boundary representative point"
            (updated if area.pk else created).append(area)
        Area.objects.bulk_create(created, batch_size=500)
        Area.objects.bulk_update(
            updated,
            ["name", "vintage", "geometry", "min_lon", "min_lat", "max_lon", "max_lat"],
            batch_size=500,
        )
        summary = {
            "file": path.name,
            "kind": "boundaries",
            "created": len(created),
            "updated": len(updated),
        }
        record(
            actor, "import_areas", object_type="places.area", object_repr=path.name, after=summary
        )
    return summary


def _set_geometry(area: Area, geometry: dict) -> None:
    geom = shape(geometry)
    area.geometry = json.dumps(geometry, separators=(",", ":"))
    area.min_lon, area.min_lat, area.max_lon, area.max_lat = geom.bounds


def do_import_groups(path: Path, actor: User | None = None, demo: bool = False) -> dict:
    """Define forces, units, neighbourhoods and impact areas from a grouping CSV."""
    rows = read_groups(path)
    lsoas = {a.code: a for a in Area.objects.filter(kind=AreaKind.LSOA)}
    unknown = sorted({r.lsoa_code for r in rows if r.lsoa_code and r.lsoa_code not in lsoas})
    if unknown:
        raise AreaFileError(
            f"{path.name}: {len(unknown)} LSOA codes are not in Placewise (import boundaries "
            f"first): {', '.join(unknown[:5])}"
        )
    with transaction.atomic():
        groups = _upsert_groups(rows, demo, path.name)
        members = defaultdict(set)
        for r in rows:
            if r.lsoa_code:
                members[groups[(r.kind, r.code)].pk].add(lsoas[r.lsoa_code].pk)
        AreaMembership.objects.filter(group_id__in=[g.pk for g in groups.values()]).delete()
        AreaMembership.objects.bulk_create(
            [AreaMembership(group_id=g, lsoa_id=a) for g, ids in members.items() for a in ids],
            batch_size=2000,
        )
        for group in groups.values():
            _outline_group(group)
        summary = {
            "file": path.name,
            "groups": len(groups),
            "memberships": sum(len(v) for v in members.values()),
        }
        record(
            actor, "define_groups", object_type="places.area", object_repr=path.name, after=summary
        )
    refresh_statistics()
    return summary


_PARENT_KIND = {"unit": "force", "neighbourhood": "unit", "impact_area": "unit", "force": ""}


def _upsert_groups(rows, demo: bool, file_name: str) -> dict[tuple[str, str], Area]:
    groups: dict[tuple[str, str], Area] = {}
    parents: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (r.kind, r.code)
        if key not in groups:
            area, _ = Area.objects.update_or_create(
                kind=r.kind,
                code=r.code,
                defaults={"name": r.name, "force_name": r.name if r.kind == "force" else ""},
                create_defaults={
                    "name": r.name,
                    "is_demo": demo,
                    "force_name": r.name if r.kind == "force" else "",
                },
            )
            groups[key] = area
            parents[key] = r.parent_code
    for key, parent_code in parents.items():
        if parent_code:
            parent = Area.objects.filter(kind=_PARENT_KIND[key[0]], code=parent_code).first()
            if parent is None:
                raise AreaFileError(
                    f"{file_name}: {key[0]} {key[1]}: parent {parent_code!r} is not a "
                    f"{_PARENT_KIND[key[0]]} in the file or in Placewise"
                )
            groups[key].parent = parent
            groups[key].save(update_fields=["parent"])
    return groups


def _outline_group(group: Area) -> None:
    """A group's boundary is the union of its LSOAs' boundaries; population is their sum."""
    lsoas = list(Area.objects.filter(group_memberships__group=group).exclude(geometry=""))
    if lsoas:
        from shapely import union_all
        from shapely.geometry import mapping

        union = union_all([shape(a.geometry_dict) for a in lsoas]).simplify(0.0002)
        _set_geometry(group, mapping(union))
        group.centroid_lon, group.centroid_lat = union.representative_point().coords[0]
    pops = [a.population for a in Area.objects.filter(group_memberships__group=group)]
    group.population = sum(p for p in pops if p is not None) if pops and None not in pops else None
    group.population_source = "sum of LSOAs" if group.population is not None else ""
    group.save()


def do_define_group(
    actor: User, kind: str, name: str, lsoa_codes: list[str], parent: Area | None = None
) -> Area:
    """Create a unit, neighbourhood or impact area from LSOA codes (the web form's action)."""
    if kind not in {AreaKind.UNIT, AreaKind.NEIGHBOURHOOD, AreaKind.IMPACT_AREA}:
        raise AreaFileError(f"kind {kind!r} cannot be defined from LSOAs")
    codes = sorted({c.strip().upper() for c in lsoa_codes if c.strip()})
    if not codes:
        raise AreaFileError("list at least one LSOA code")
    found = {a.code: a for a in Area.objects.filter(kind=AreaKind.LSOA, code__in=codes)}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise AreaFileError(f"unknown LSOA codes: {', '.join(unknown[:10])}")
    with transaction.atomic():
        area = Area.objects.create(
            kind=kind, code=_unique_code(kind, name), name=name, parent=parent, created_by=actor
        )
        AreaMembership.objects.bulk_create(
            [AreaMembership(group=area, lsoa=a) for a in found.values()]
        )
        _outline_group(area)
        record(actor, "define_area", area, after={"kind": kind, "name": name, "lsoas": codes})
    return area


def do_create_custom_area(actor: User, name: str, geojson: object, where: str = "polygon") -> Area:
    """A custom area from a drawn or uploaded polygon; incidents are found by point-in-polygon."""
    if not name.strip():
        raise AreaFileError("give the area a name")
    geometry = polygon_geometry(geojson, where)
    with transaction.atomic():
        area = Area(
            kind=AreaKind.CUSTOM,
            code=_unique_code("custom", name),
            name=name.strip(),
            created_by=actor,
        )
        _set_geometry(area, geometry)
        point = shape(geometry).representative_point()
        area.centroid_lon, area.centroid_lat = point.x, point.y
        area.save()
        record(actor, "define_area", area, after={"kind": "custom", "name": area.name})
    return area


def _unique_code(kind: str, name: str) -> str:
    base = slugify(name)[:50] or kind
    code, n = base, 1
    while Area.objects.filter(kind=kind, code=code).exists():
        n += 1
        code = f"{base}-{n}"
    return code
