"""Saving a screening run (with its audit entry)."""

from __future__ import annotations

from placewise.accounts.audit import record
from placewise.accounts.models import User

from .export import records
from .models import BacktestRun, ScreeningRun
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


def do_save_backtest(actor: User | None, request, result, scope: str) -> BacktestRun:
    """Keep a back-test's figures; the newest one's suggestion is shown when screening."""
    margin = [None if v != v else float(v) for v in result.margin]  # NaN is not equal to itself
    run = BacktestRun.objects.create(
        created_by=actor if actor is not None and actor.pk else None,
        level=request.level,
        cell_m=request.cell_m if request.level == "grid" else None,
        scope=scope,
        test_from=request.test_from,
        test_to=request.test_to,
        train_months=request.train_months,
        records=result.as_records(),
        suggested=result.suggested or "",
        suggested_coverage=result.suggested_coverage,
        runner_up=result.runner_up or "",
        margin=margin,
    )
    record(actor, "save_backtest", run, after={"suggested": run.suggested, "level": run.level})
    return run
