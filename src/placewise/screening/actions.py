"""Saving a screening run (with its audit entry)."""

from __future__ import annotations

from placewise.accounts.audit import record
from placewise.accounts.models import User

from .export import records
from .models import ScreeningRun
from .service import ScreenResult


def do_save_screening_run(
    actor: User | None, result: ScreenResult, title: str = ""
) -> ScreeningRun:
    p = result.params
    run = ScreeningRun.objects.create(
        created_by=actor if actor is not None and actor.pk else None,
        title=title.strip()[:200],
        level=p.level,
        cell_m=p.cell_m if p.level == "grid" else None,
        start=result.start,
        end=result.end,
        scope=result.scope_label,
        within=p.within,
        categories=list(p.categories),
        weights=dict(p.weights),
        harm_scheme=result.scheme_label,
        neighbours=result.neighbours,
        rows=records(result.table),
        place_count=len(result.table),
    )
    record(
        actor,
        "save_screening_run",
        run,
        after={
            "level": p.level,
            "start": f"{result.start:%Y-%m}",
            "end": f"{result.end:%Y-%m}",
            "weights": p.weights,
            "places": run.place_count,
        },
    )
    return run
