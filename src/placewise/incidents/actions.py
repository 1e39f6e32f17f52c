"""Changing incident data and harm weights; each action records its audit entry."""

from __future__ import annotations

import csv
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from placewise.accounts.audit import record
from placewise.accounts.models import User

from .importer import do_import_police_uk
from .models import POLICE_UK_CATEGORIES, HarmScheme, HarmWeight, ImportRun
from .tasks import run_import

ALLOWED_UPLOADS = (".csv", ".zip")


class UploadError(Exception):
    pass


def do_queue_upload_import(actor: User, files: list[UploadedFile]) -> ImportRun:
    """Save uploaded police.uk files and queue their import in the background."""
    if not files:
        raise UploadError("choose at least one police.uk CSV or zip file")
    limit = settings.PLACEWISE_MAX_UPLOAD_MB * 1024 * 1024
    for f in files:
        if not (f.name or "").lower().endswith(ALLOWED_UPLOADS):
            raise UploadError(f"{f.name}: only .csv and .zip files can be imported")
        if (f.size or 0) > limit:
            raise UploadError(f"{f.name}: larger than {settings.PLACEWISE_MAX_UPLOAD_MB} MB")
    folder = Path(settings.MEDIA_ROOT) / "imports" / uuid.uuid4().hex
    for i, f in enumerate(files):
        # One numbered folder per upload keeps the user's order and the file's own name.
        slot = folder / f"{i:03d}"
        slot.mkdir(parents=True)
        safe = "".join(
            c if c.isalnum() or c in "-_." else "_" for c in Path(f.name or "upload").name
        )
        with open(slot / safe, "wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
    run = ImportRun.objects.create(
        created_by=actor,
        source="upload",
        inputs=[f.name for f in files],
        upload_dir=str(folder),
        bytes_total=sum(f.size for f in files),
    )
    record(actor, "queue_import", run, after={"files": run.inputs})
    transaction.on_commit(lambda: run_import.enqueue(run.pk))
    return run


def do_import_files(actor: User | None, paths: list[Path], source: str = "cli", on_progress=None):
    """Import police.uk files now, in this process (the command line and the demo loader)."""
    run = ImportRun.objects.create(created_by=actor, source=source, inputs=[str(p) for p in paths])
    run = do_import_police_uk(run, paths, on_progress=on_progress)
    record(actor, "import_police_uk", run, after=run.summary())
    return run


def do_seed_harm_scheme() -> HarmScheme:
    """The default scheme: ONS CSS weights, volume-weighted per police.uk category."""
    path = settings.PLACEWISE_DATA_DIR / "reference" / "harm" / "css_weights_by_category.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with transaction.atomic():
        scheme, created = HarmScheme.objects.get_or_create(
            name="ONS CSS 2017/18, volume-weighted",
            defaults={
                "is_default": not HarmScheme.objects.filter(is_default=True).exists(),
                "source": "ONS Crime Severity Score weights x Home Office recorded crime "
                "2017/18; see docs/methods/harm-weights.md",
                "description": "Mean ONS Crime Severity Score of the offences in each police.uk "
                "category, weighted by how often each offence was recorded in England and Wales "
                "in 2017/18. ASB has no official weight: it uses PLACEWISE_ASB_HARM_WEIGHT.",
            },
        )
        if created:
            HarmWeight.objects.bulk_create(
                [
                    HarmWeight(
                        scheme=scheme,
                        category=r["category"],
                        weight=float(r["weight"]),
                        note=f"{int(float(r['offences'])):,} offences, {r['codes_used']} codes",
                    )
                    for r in rows
                ]
            )
            record(None, "seed_harm_scheme", scheme, after=scheme.weights())
    return scheme


def do_set_harm_weights(actor: User, scheme: HarmScheme, weights: dict[str, float]) -> None:
    """Change a scheme's weights; a missing ASB row means the setting applies."""
    for category, value in weights.items():
        if category not in POLICE_UK_CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        if not value >= 0:
            raise ValueError(f"{category}: weight must be zero or more, not {value}")
    before = scheme.weights()
    with transaction.atomic():
        for category, value in weights.items():
            HarmWeight.objects.update_or_create(
                scheme=scheme, category=category, defaults={"weight": value}
            )
        scheme.forget_weights()
        after = scheme.weights()
        record(actor, "set_harm_weights", scheme, before=before, after=after)
