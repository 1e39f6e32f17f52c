"""Progress in the place: the project area's incidents and harm against the rest of its
force, per 1,000 residents, before and during the project."""

from __future__ import annotations

from dataclasses import dataclass

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
    force = stats.force_for(project.area)
    span = stats.data_range(stats.force_name_of(project.area))
    if span is None or force is None or force == project.area:
        return None
    period = stats.Period(*span)
    scheme = stats.default_scheme()
    area_fig = stats.figures(project.area, period, scheme)
    force_fig = stats.figures(force, period, scheme)
    weights = scheme.weights() if scheme else {}
    months = period.month_list()
    area_pop, force_pop = project.area.population, force.population
    if not area_pop or not force_pop:
        return Progress("", "", [], "Rates need the population of the area and the force.")
    rest_pop = force_pop - area_pop

    def monthly(fig, month, harm: bool) -> float:
        cats = fig.by_month.get(month, {})
        return sum(n * (weights.get(c, 0.0) if harm else 1) for c, n in cats.items())

    series: dict[str, dict[str, list]] = {"incidents": {}, "harm": {}}
    for measure in ("incidents", "harm"):
        harm = measure == "harm"
        area_rates = [1000 * monthly(area_fig, m, harm) / area_pop for m in months]
        rest_rates = [
            1000 * (monthly(force_fig, m, harm) - monthly(area_fig, m, harm)) / rest_pop
            for m in months
        ]
        series[measure] = {project.area.name: area_rates, f"rest of {force.name}": rest_rates}
    start = project.start_date.replace(day=1)
    table = _before_during(series["incidents"], months, start)
    return Progress(
        chart_incidents=lines(months, series["incidents"], start, "Incidents per 1,000 a month"),
        chart_harm=lines(months, series["harm"], start, "Harm per 1,000 a month"),
        table=table,
        note=(
            "The project started after the latest month held; the chart shows the baseline."
            if start > months[-1]
            else ""
        ),
    )


def _before_during(series: dict[str, list[float]], months, start) -> list[dict]:
    rows = []
    for name, values in series.items():
        before = [v for m, v in zip(months, values, strict=True) if m < start]
        during = [v for m, v in zip(months, values, strict=True) if m >= start]
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
