from __future__ import annotations

import csv

from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from placewise.accounts.access import (
    AuthedRequest,
    admin_required,
    data_role_required,
    staff_required,
)
from placewise.accounts.models import Role

from . import actions
from .importer import progress_key
from .models import ASB, POLICE_UK_CATEGORIES, HarmScheme, ImportRun
from .status import data_status


def access_import(user, run_id: int) -> ImportRun:
    """Analysts and admins see every import; nobody else sees any."""
    if not user.has_role(Role.ANALYST, Role.ADMIN):
        raise Http404("No such import")
    try:
        return ImportRun.objects.get(pk=int(run_id))
    except (ImportRun.DoesNotExist, ValueError):
        raise Http404("No such import") from None


@data_role_required
@require_http_methods(["GET", "POST"])
def import_upload(request: AuthedRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            run = actions.do_queue_upload_import(request.user, request.FILES.getlist("files"))
        except actions.UploadError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("incidents:import_detail", run.pk)
    recent = ImportRun.objects.select_related("created_by")[:20]
    return render(request, "incidents/import_upload.html", {"recent": recent})


@data_role_required
def import_detail(request: AuthedRequest, run_id: int) -> HttpResponse:
    run = access_import(request.user, run_id)
    template = (
        "incidents/_import_progress.html"
        if request.headers.get("HX-Request")
        else ("incidents/import_detail.html")
    )
    live = cache.get(progress_key(run.pk)) if not run.is_finished else None
    rejected = run.rejected.all()[:50]
    return render(request, template, {"run": run, "live": live, "rejected": rejected})


class _Echo:
    def write(self, value):
        return value


@data_role_required
def import_rejections_csv(request: AuthedRequest, run_id: int) -> StreamingHttpResponse:
    run = access_import(request.user, run_id)
    writer = csv.writer(_Echo())
    header = ["file", "row", "field", "reason", "detail", "raw"]
    rows = run.rejected.values_list("file_name", "row_number", "field", "reason", "detail", "raw")
    body = (writer.writerow(r) for r in [header, *rows.iterator()])
    response = StreamingHttpResponse(body, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-rejected-rows.csv"'
    return response


@staff_required
def status_page(request: AuthedRequest) -> HttpResponse:
    status = data_status()
    forces = sorted({r["force"] for r in status["by_force_month"]})
    months = sorted({r["month"] for r in status["by_force_month"]})
    cells = {(r["force"], r["month"]): r["count"] for r in status["by_force_month"]}
    table = [(m, [cells.get((f, m)) for f in forces]) for m in months]
    recent = ImportRun.objects.select_related("created_by")[:10]
    return render(
        request,
        "incidents/status.html",
        {"status": status, "forces": forces, "table": table, "recent": recent},
    )


@staff_required
@require_http_methods(["GET", "POST"])
def harm_weights(request: AuthedRequest) -> HttpResponse:
    scheme = HarmScheme.objects.filter(is_default=True).first() or HarmScheme.objects.first()
    if request.method == "POST":
        return _save_weights(request, scheme)
    weights = scheme.weights() if scheme else {}
    rows = [
        (c, weights.get(c), scheme.weight_rows.filter(category=c).first() if scheme else None)
        for c in POLICE_UK_CATEGORIES
    ]
    can_edit = request.user.has_role(Role.ADMIN)
    return render(
        request,
        "incidents/harm.html",
        {"scheme": scheme, "rows": rows, "can_edit": can_edit, "ASB": ASB},
    )


@admin_required
def _save_weights(request: AuthedRequest, scheme: HarmScheme | None) -> HttpResponse:
    if scheme is None:
        raise Http404("No harm scheme")
    new = {}
    try:
        for category in POLICE_UK_CATEGORIES:
            raw = request.POST.get(f"w-{category}", "").strip()
            if raw:
                new[category] = float(raw)
        actions.do_set_harm_weights(request.user, scheme, new)
    except ValueError as exc:
        messages.error(request, f"Weights not saved: {exc}")
    else:
        messages.success(request, "Harm weights saved; every figure now uses them.")
    return redirect("incidents:harm_weights")
