"""Progress in the place: the project area's incidents and harm against the rest of its
unit and the rest of its force, per 1,000 residents, before and during the project."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from placewise.core.charts import lines
from placewise.places import stats

from .models import Project


@dataclass(frozen=True)
class Progress:
    chart_incidents: str
    chart_harm: str
    table: list[dict]
    note: str


def project_progress(project: Project) -> Progress | None:
    """Cached under the place, the start month and the version of the data, so the three
    places' figures are read once per data change rather than on every project page."""
    start = project.start_date.replace(day=1)
    key = f"progress:{project.area_id}:{start:%Y-%m}:{stats.data_version()}"
    found = cache.get(key)
    if found is None:
        found = _progress(project)
        cache.set(key, found or "none", 24 * 3600)
    return None if found == "none" else found


def _progress(project: Project) -> Progress | None:
    force = stats.force_for(project.area)
    span = stats.data_range(stats.force_name_of(project.area))
    if span is None or force is None or force == project.area:
        return None
    period = stats.Period(*span)
    scheme = stats.default_scheme()
    weights = scheme.weights() if scheme else {}
    months = period.month_list()
    area = project.area
    # Compared with the rest of the unit (when the place is in one) and the rest of the force.
    wider = [w for w in (stats.unit_for(area), force) if w is not None and w != area]
    if not area.population or any(not w.population for w in wider):
        return Progress("", "", [], "Rates need the population of the area, its unit and force.")
    area_fig = stats.figures(area, period, scheme)
    wider_figs = [(w, stats.figures(w, period, scheme)) for w in wider]

    def monthly(fig, month, harm: bool) -> float:
        cats = fig.by_month.get(month, {})
        return sum(n * (weights.get(c, 0.0) if harm else 1) for c, n in cats.items())

    series: dict[str, dict[str, list]] = {"incidents": {}, "harm": {}}
    for measure in ("incidents", "harm"):
        harm = measure == "harm"
        series[measure][area.name] = [
            1000 * monthly(area_fig, m, harm) / area.population for m in months
        ]
        for w, fig in wider_figs:
            rest = (w.population or 0) - area.population
            series[measure][f"rest of {w.name}"] = [
                1000 * (monthly(fig, m, harm) - monthly(area_fig, m, harm)) / rest
                if rest > 0
                else None
                for m in months
            ]
    start = project.start_date.replace(day=1)
    return Progress(
        chart_incidents=lines(months, series["incidents"], start, "Incidents per 1,000 a month"),
        chart_harm=lines(months, series["harm"], start, "Harm per 1,000 a month"),
        table=_before_during(series["incidents"], months, start),
        note=(
            "The project started after the latest month held; the chart shows the baseline."
            if start > months[-1]
            else ""
        ),
    )


def _before_during(series: dict[str, list], months, start) -> list[dict]:
    rows = []
    for name, values in series.items():
        before = [v for m, v in zip(months, values, strict=True) if m < start and v is not None]
        during = [v for m, v in zip(months, values, strict=True) if m >= start and v is not None]
        rows.append(
            {
                "name": name,
                "before": sum(before) / len(before) if before else None,
                "during": sum(during) / len(during) if during else None,
                "months_before": len(before),
                "months_during": len(during),
            }
        )
    return rows
