"""Importing police.uk street-level data: atomic, idempotent, streaming, nothing dropped.

Re-importing a (force, month) replaces that slice in the same transaction, so importing the
same files twice leaves the same totals and a failed import changes nothing. Rows go in
with the database's bulk tools: ``COPY`` on PostgreSQL, ``executemany`` on SQLite.
"""

from __future__ import annotations

import datetime as dt
import gzip
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import connection, transaction
from django.utils import timezone

from placewise.lib.policeuk import InputError, Rejected, Source, find_sources, read_street_file

from .models import ImportRun, Incident, MonthlyCount, Rejection

BATCH = 5000
INCIDENT_COLUMNS = (
    "import_run_id",
    "force",
    "month",
    "crime_id",
    "reported_by",
    "longitude",
    "latitude",
    "location",
    "lsoa_code",
    "lsoa_name",
    "lsoa_vintage",
    "category",
    "outcome",
    "context",
)
REJECTION_COLUMNS = ("import_run_id", "file_name", "row_number", "field", "reason", "detail", "raw")


@cache
def lsoa11_codes() -> frozenset[str]:
    """Every LSOA 2011 code in England and Wales (from the ONS centroids file)."""
    path = settings.PLACEWISE_DATA_DIR / "reference" / "lsoa11_codes.txt.gz"
    with gzip.open(path, "rt") as f:
        return frozenset(line.strip() for line in f if line.strip())


def progress_key(run_id: int) -> str:
    return f"placewise:import-progress:{run_id}"


@dataclass
class _Tally:
    rows_read: int = 0
    rows_imported: int = 0
    rejections: Counter = field(default_factory=Counter)
    slices: dict[tuple[str, dt.date], str] = field(default_factory=dict)
    slice_rows: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def do_import_police_uk(
    run: ImportRun,
    paths: list[Path],
    on_progress: Callable[[ImportRun], None] | None = None,
    today: dt.date | None = None,
) -> ImportRun:
    """Import police.uk street files into ``run``; returns the run, succeeded or failed.

    A file that cannot be read at all fails the whole run and nothing stored changes.
    """
    run.status, run.started_at = ImportRun.Status.RUNNING, timezone.now()
    run.inputs = run.inputs or [p.name for p in paths]
    run.save()
    tally = _Tally()
    try:
        sources, skipped = find_sources(paths)
        tally.notes += [f"skipped {s.name}: {s.why}" for s in skipped]
        if not sources:
            raise InputError("no police.uk street-level files found in the input")
        run.bytes_total = sum(s.size for s in sources)
        with transaction.atomic():
            _import_sources(run, sources, tally, on_progress, today or dt.date.today())
            _rebuild_counts(list(tally.slices))
    except InputError as exc:
        return _finish(run, tally, failed=str(exc))
    return _finish(run, tally)


def _import_sources(run, sources, tally, on_progress, today) -> None:
    writer = _Writer(run.pk)
    done_before = 0
    last = [0.0]

    def bytes_read(n: int) -> None:
        run.bytes_done = done_before + n
        now = time.monotonic()
        if now - last[0] > 0.5:
            last[0] = now
            _publish(run, tally)
            if on_progress:
                on_progress(run)

    for source in sources:
        run.current_file = source.name
        for item in read_street_file(source, lsoa11_codes(), today, bytes_read):
            tally.rows_read += 1
            if isinstance(item, Rejected):
                tally.rejections[item.reason] += 1
                writer.reject(source.name, item)
                continue
            key = (item[0], item[1])
            owner = tally.slices.get(key)
            if owner != source.name:
                _claim_slice(key, source, owner, tally, writer)
            tally.slice_rows[key] += 1
            tally.rows_imported += 1
            writer.add(item)
        writer.flush()
        done_before += source.size
        run.bytes_done = done_before
    writer.flush()


def _claim_slice(key, source: Source, owner: str | None, tally: _Tally, writer) -> None:
    """First sight of a (force, month) in this import: clear what was stored for it."""
    writer.flush()
    Incident.objects.filter(force=key[0], month=key[1]).delete()
    if owner is not None:
        tally.notes.append(
            f"{key[0]} {key[1]:%Y-%m} appears in {owner} and again in {source.name}: "
            f"the later file replaces the earlier"
        )
        tally.rows_imported -= tally.slice_rows.pop(key, 0)
    tally.slices[key] = source.name


class _Writer:
    """Buffers rows and writes them in batches with the database's bulk path."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.rows: list[tuple] = []
        self.rejected: list[tuple] = []
        self.vendor = connection.vendor

    def add(self, row: tuple) -> None:
        self.rows.append((self.run_id, *row))
        if len(self.rows) >= BATCH:
            self.flush()

    def reject(self, file_name: str, r: Rejected) -> None:
        self.rejected.append(
            (self.run_id, file_name[:300], r.row_number, r.field, r.reason, r.detail[:300], r.raw)
        )
        if len(self.rejected) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            bulk_insert(Incident._meta.db_table, INCIDENT_COLUMNS, self.rows)
            self.rows = []
        if self.rejected:
            bulk_insert(Rejection._meta.db_table, REJECTION_COLUMNS, self.rejected)
            self.rejected = []


def bulk_insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows with COPY on PostgreSQL and executemany elsewhere."""
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    name = connection.ops.quote_name(table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:  # noqa: S608
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)  # noqa: S608


def _rebuild_counts(slices: list[tuple[str, dt.date]]) -> None:
    """Recount the monthly summary for each (force, month) the import touched."""
    table = MonthlyCount._meta.db_table
    incidents = Incident._meta.db_table
    for force, month in slices:
        MonthlyCount.objects.filter(force=force, month=month).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (force, month, lsoa_code, category, n) "  # noqa: S608
                f"SELECT force, month, lsoa_code, category, COUNT(*) FROM {incidents} "
                "WHERE force = %s AND month = %s GROUP BY force, month, lsoa_code, category",
                [force, month],
            )


def _publish(run: ImportRun, tally: _Tally) -> None:
    """Share progress through the cache: the import's own transaction hides its rows."""
    shared_cache.set(
        progress_key(run.pk),
        {
            "bytes_done": run.bytes_done,
            "bytes_total": run.bytes_total,
            "rows_read": tally.rows_read,
            "rows_rejected": sum(tally.rejections.values()),
            "current_file": run.current_file,
        },
        timeout=3600,
    )


def _finish(run: ImportRun, tally: _Tally, failed: str = "") -> ImportRun:
    run.finished_at = timezone.now()
    run.rows_read = tally.rows_read
    run.notes = tally.notes
    if failed:
        run.status, run.error = ImportRun.Status.FAILED, failed
        run.rows_imported = run.rows_rejected = 0
        run.rejections, run.months, run.forces = {}, [], []
    else:
        run.status = ImportRun.Status.SUCCEEDED
        run.rows_imported = tally.rows_imported
        run.rows_rejected = sum(tally.rejections.values())
        run.rejections = dict(sorted(tally.rejections.items()))
        run.months = sorted({f"{m:%Y-%m}" for _, m in tally.slices})
        run.forces = sorted({f for f, _ in tally.slices})
    run.save()
    shared_cache.delete(progress_key(run.pk))
    return run
