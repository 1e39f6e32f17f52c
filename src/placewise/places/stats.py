"""Figures about areas: counts by month and category, harm, rates, comparison with the force.

Aggregation is done by the database on the monthly summary table; only custom polygons
read incident points, and only those inside their bounding box.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Max, Min, Q, Sum
from shapely.geometry import shape

from placewise.incidents.models import ASB, HarmScheme, ImportRun, Incident, MonthlyCount

from .models import Area, AreaKind, AreaMembership


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive, first of month

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def label(self) -> str:
        count = "1 month" if self.months == 1 else f"{self.months} months"
        if self.start == self.end:
            return f"{self.start:%b %Y} ({count})"
        return f"{self.start:%b %Y} to {self.end:%b %Y} ({count})"

    def month_list(self) -> list[dt.date]:
        out, m = [], self.start
        while m <= self.end:
            out.append(m)
            m = dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)
        return out


def data_range(force_name: str = "") -> tuple[dt.date, dt.date] | None:
    """First and last month with data, for one force (by its police.uk name) or for all."""
    rows = MonthlyCount.objects.filter(force=force_name) if force_name else MonthlyCount.objects
    # Two queries, not one: SQLite answers a lone MIN or MAX from the index, both together
    # by reading every row.
    first = rows.aggregate(v=Min("month"))["v"]
    last = rows.aggregate(v=Max("month"))["v"]
    return (first, last) if first else None


def parse_month(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        return None


def default_period(
    start_text: str | None = None, end_text: str | None = None, force_name: str = ""
) -> Period | None:
    """The requested months, clipped to the data; by default the latest 12 months.

    With ``force_name`` the data range is that force's, so another force's newer months do
    not leave a force's pages showing an empty year.
    """
    span = data_range(force_name) or data_range()
    if span is None:
        return None
    first, last = span
    end = min(max(parse_month(end_text) or last, first), last)
    default_start = (
        dt.date(end.year - 1, end.month, 1)
        if end.month == 12
        else dt.date(end.year - 1, end.month + 1, 1)
    )
    start = parse_month(start_text) or max(first, default_start)
    start = min(max(start, first), end)
    return Period(start, end)


def default_scheme() -> HarmScheme | None:
    return HarmScheme.objects.filter(is_default=True).first() or HarmScheme.objects.first()


def scope_filter(area: Area) -> Q:
    """The MonthlyCount rows that belong to an area made of LSOAs (or a whole force)."""
    if area.kind == AreaKind.FORCE:
        return Q(force=area.force_name or area.name)
    if area.kind == AreaKind.LSOA:
        return Q(lsoa_code=area.code)
    codes = AreaMembership.objects.filter(group=area).values("lsoa__code")
    return Q(lsoa_code__in=codes)


def counts(area: Area, period: Period) -> Counter:
    """(month, category) -> incidents in the area over the period."""
    if area.kind == AreaKind.CUSTOM:
        return _custom_counts(area, period)
    rows = (
        MonthlyCount.objects.filter(
            scope_filter(area), month__gte=period.start, month__lte=period.end
        )
        .values_list("month", "category")
        .annotate(total=Sum("n"))
    )
    return Counter({(m, c): t for m, c, t in rows})


def _custom_counts(area: Area, period: Period) -> Counter:
    if not area.geometry or area.bbox is None:
        return Counter()
    west, south, east, north = area.bbox
    rows = list(
        Incident.objects.filter(
            month__gte=period.start,
            month__lte=period.end,
            longitude__gte=west,
            longitude__lte=east,
            latitude__gte=south,
            latitude__lte=north,
        ).values_list("month", "category", "longitude", "latitude")
    )
    if not rows:
        return Counter()
    xy = np.array([(r[2], r[3]) for r in rows])
    inside = shapely.contains_xy(shape(area.geometry_dict), xy[:, 0], xy[:, 1])
    return Counter((r[0], r[1]) for r, keep in zip(rows, inside, strict=True) if keep)


def harm(by_category: dict[str, int], weights: dict[str, float]) -> float:
    return float(sum(n * weights.get(cat, 0.0) for cat, n in by_category.items()))


@dataclass(frozen=True)
class AreaFigures:
    period: Period
    incidents: int
    asb: int
    by_category: list[tuple[str, int]]
    by_month: dict[dt.date, dict[str, int]]
    harm: float
    scheme_label: str
    population: int | None
    rate_per_1000: float | None
    harm_per_1000: float | None


def figures(area: Area, period: Period, scheme: HarmScheme | None) -> AreaFigures:
    table = counts(area, period)
    by_cat: Counter = Counter()
    by_month: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for (month, cat), n in table.items():
        by_cat[cat] += n
        by_month[month][cat] = n
    weights = scheme.weights() if scheme else {}
    total = sum(by_cat.values())
    area_harm = harm(by_cat, weights)
    pop = area.population
    return AreaFigures(
        period=period,
        incidents=total,
        asb=by_cat.get(ASB, 0),
        by_category=by_cat.most_common(),
        by_month=dict(by_month),
        harm=area_harm,
        scheme_label=scheme.label() if scheme else "no harm scheme loaded",
        population=pop,
        rate_per_1000=1000 * total / pop if pop else None,
        harm_per_1000=1000 * area_harm / pop if pop else None,
    )


def home_force() -> Area | None:
    """The force the home page shows: the first force defined (most installs have one)."""
    return Area.objects.filter(kind=AreaKind.FORCE).order_by("name").first()


def force_name_of(area: Area | None) -> str:
    force = force_for(area) if area is not None else None
    return (force.force_name or force.name) if force else ""


def force_for(area: Area) -> Area | None:
    """The force an area belongs to: by membership, else the only force defined."""
    if area.kind == AreaKind.FORCE:
        return area
    if area.kind == AreaKind.LSOA:
        force = Area.objects.filter(kind=AreaKind.FORCE, memberships__lsoa=area).first()
    else:
        node: Area | None = area
        while node is not None and node.parent_id is not None and node.kind != AreaKind.FORCE:
            node = node.parent
        force = node if node is not None and node.kind == AreaKind.FORCE else None
    return force or Area.objects.filter(kind=AreaKind.FORCE).first()


def unit_for(area: Area) -> Area | None:
    """The unit (e.g. a local policing area) that holds an area: by its LSOA membership for
    an LSOA, else by the first of its LSOAs, else up its parents."""
    if area.kind == AreaKind.UNIT:
        return None
    lsoa = area if area.kind == AreaKind.LSOA else None
    if lsoa is None:
        first = AreaMembership.objects.filter(group=area).select_related("lsoa").first()
        lsoa = first.lsoa if first else None
    if lsoa is not None:
        unit = Area.objects.filter(kind=AreaKind.UNIT, memberships__lsoa=lsoa).first()
        if unit is not None:
            return unit
    node = area.parent
    while node is not None and node.kind != AreaKind.UNIT:
        node = node.parent
    return node


def bbox_of(area: Area) -> tuple[float, float, float, float] | None:
    """The area's bounding box, or that of the LSOAs it is made of."""
    if area.bbox is not None:
        return area.bbox
    box = Area.objects.filter(group_memberships__group=area).aggregate(
        west=Min("min_lon"), south=Min("min_lat"), east=Max("max_lon"), north=Max("max_lat")
    )
    values = (box["west"], box["south"], box["east"], box["north"])
    return None if any(v is None for v in values) else values  # type: ignore[return-value]


def map_lsoas(force: Area | None):
    """LSOAs to draw on the home map: the force's own when it has a membership list."""
    lsoas = Area.objects.filter(kind=AreaKind.LSOA).exclude(geometry="")
    if force is not None and force.memberships.exists():
        lsoas = lsoas.filter(group_memberships__group=force)
    return lsoas


def lsoa_values(
    period: Period, measure: str, scheme: HarmScheme | None, category: str = ""
) -> dict:
    """LSOA code -> incidents or harm over the period, for shading a map."""
    qs = MonthlyCount.objects.filter(month__gte=period.start, month__lte=period.end).exclude(
        lsoa_code=""
    )
    if category:
        qs = qs.filter(category=category)
    if measure == "harm":
        weights = scheme.weights() if scheme else {}
        out: dict[str, float] = defaultdict(float)
        for code, cat, n in qs.values_list("lsoa_code", "category").annotate(t=Sum("n")):
            out[code] += n * weights.get(cat, 0.0)
        return dict(out)
    return dict(qs.values_list("lsoa_code").annotate(t=Sum("n")))


def freshness() -> dict:
    span = data_range()
    last_import = ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED).first()
    return {
        "first_month": span[0] if span else None,
        "last_month": span[1] if span else None,
        "last_import": last_import,
    }


# What the figures of a place are made from: incidents, areas and groups, harm weights.
DATA_RECORDS = (
    "incidents.importrun",
    "incidents.harmscheme",
    "incidents.harmweight",
    "places.area",
    "places.areamembership",
)


def data_version() -> int:
    """A number that changes whenever incidents, areas, groups or harm weights change: the
    latest audit entry about them (every such change is audited). Figures cached under it
    are never out of date."""
    from placewise.accounts.models import AuditEntry

    latest = (
        AuditEntry.objects.filter(object_type__in=DATA_RECORDS)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    return latest or 0
