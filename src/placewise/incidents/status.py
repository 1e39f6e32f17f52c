"""The state of the data: what is loaded, what was rejected, when it last changed."""

from __future__ import annotations

from django.db.models import Count

from placewise.places.models import Area

from .models import DataSlice, ImportRun, Rejection


def data_status() -> dict:
    by_force_month = [
        {"force": force, "month": f"{month:%Y-%m}", "count": n}
        for force, month, n in DataSlice.objects.values_list("force", "month", "rows")
    ]
    last = ImportRun.objects.filter(status=ImportRun.Status.SUCCEEDED).first()
    return {
        "incidents": sum(r["count"] for r in by_force_month),
        "by_force_month": by_force_month,
        # Rejections of the imports whose rows are the current data (replaced imports excluded).
        "rejected_rows": Rejection.objects.filter(
            import_run_id__in=DataSlice.objects.values("import_run_id")
        ).count(),
        "areas": dict(Area.objects.values_list("kind").annotate(n=Count("id")).order_by("kind")),
        "last_import": {
            "id": last.pk,
            "finished_at": last.finished_at.isoformat() if last.finished_at else None,
            "rows_imported": last.rows_imported,
            "rows_rejected": last.rows_rejected,
        }
        if last
        else None,
        "imports": ImportRun.objects.count(),
    }
