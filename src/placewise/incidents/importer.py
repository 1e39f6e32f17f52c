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

import numpy as np
from django.conf import settings
from django.core.cache import cache as shared_cache
from django.db import connection, transaction
from django.utils import timezone

from placewise.analysis.grid import to_bng
from placewise.lib.policeuk import InputError, Rejected, find_sources, read_street_file

from .models import DataSlice, ImportRun, Incident, MonthlyCount, Rejection

BATCH = 5000
MAX_COUNT_KEYS = 20_000  # a few MB of tally before it is written out mid-file
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
    "easting",
    "northing",
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
    # (force, month as ISO text) -> (position of the source that owns it, its name)
    slices: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    slice_rows: Counter = field(default_factory=Counter)
    # (force, month, lsoa_code, category) -> rows for the file being read: the monthly
    # summary, counted while streaming and written after each file, so it is never
    # recomputed from the incident table and memory holds one file's worth at most.
    counts: Counter = field(default_factory=Counter)
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
            _record_slices(run, tally)
    except InputError as exc:
        return _finish(run, tally, failed=str(exc))
    refresh_statistics()
    return _finish(run, tally)


def refresh_statistics() -> None:
    """Give SQLite's planner table statistics after the data changed (PostgreSQL's
    autovacuum does this itself): without them, screening's neighbourhood join reads
    every membership for every monthly count."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA analysis_limit=1000")
            cursor.execute("ANALYZE")


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

    # The loop below runs once per row: it keeps its work to lookups and appends.
    counts, run_id, pending = tally.counts, run.pk, writer.rows
    for position, source in enumerate(sources):
        run.current_file = source.name
        current: tuple | None = None
        for item in read_street_file(source, lsoa11_codes(), today, bytes_read):
            tally.rows_read += 1
            if isinstance(item, Rejected):
                tally.rejections[item.reason] += 1
                writer.reject(source.name, item)
                continue
            force, month = item[0], item[1]
            if (force, month) != current:
                current = (force, month)
                owner = tally.slices.get(current)
                if owner is None or owner[0] != position:
                    _claim_slice(current, (position, source.name), owner, tally, writer)
            counts[(force, month, item[7], item[10])] += 1
            pending.append((run_id, *item))
            if len(pending) >= BATCH:
                writer.flush()
                if len(counts) > MAX_COUNT_KEYS:
                    _write_counts(tally)  # a huge single file: summary rows are summed anyway
        writer.flush()
        _write_counts(tally)
        done_before += source.size
        run.bytes_done = done_before
    tally.rows_imported = sum(tally.slice_rows.values())


def _claim_slice(key, source: tuple[int, str], owner: tuple[int, str] | None, tally, writer):
    """First sight of a (force, month) in this import, or in a later file of it: clear what
    was stored for it (including what an earlier file of this import wrote)."""
    writer.flush()
    Incident.objects.filter(force=key[0], month=key[1]).delete()
    MonthlyCount.objects.filter(force=key[0], month=key[1]).delete()
    tally.slice_rows.pop(key, None)
    if owner is not None:
        tally.notes.append(
            f"{key[0]} {key[1][:7]} appears in {owner[1]} and again in {source[1]} "
            f"(input files {owner[0] + 1} and {source[0] + 1}): "
            f"the later file replaces the earlier"
        )
        for stale in [k for k in tally.counts if (k[0], k[1]) == key]:
            del tally.counts[stale]
    tally.slices[key] = source


class _Writer:
    """Buffers rows and writes them in batches with the database's bulk path."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.rows: list[tuple] = []
        self.rejected: list[tuple] = []
        self.vendor = connection.vendor

    def reject(self, file_name: str, r: Rejected) -> None:
        self.rejected.append(
            (self.run_id, file_name[:300], r.row_number, r.field, r.reason, r.detail[:300], r.raw)
        )
        if len(self.rejected) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            bulk_insert(Incident._meta.db_table, INCIDENT_COLUMNS, with_grid_refs(self.rows))
            self.rows.clear()  # in place: the import loop holds this list
        if self.rejected:
            bulk_insert(Rejection._meta.db_table, REJECTION_COLUMNS, self.rejected)
            self.rejected.clear()


def with_grid_refs(rows: list[tuple]) -> list[tuple]:
    """Append British National Grid easting and northing (whole metres) to each row.

    One vectorised projection per batch; rows with no location get nulls.
    """
    lon = np.fromiter((np.nan if r[5] is None else r[5] for r in rows), float, len(rows))
    lat = np.fromiter((np.nan if r[6] is None else r[6] for r in rows), float, len(rows))
    easting, northing = to_bng(lon, lat)
    east = [None if e != e else round(e) for e in easting.tolist()]  # NaN is not equal to itself
    north = [None if v != v else round(v) for v in northing.tolist()]
    return [(*r, e, n) for r, e, n in zip(rows, east, north, strict=True)]


def bulk_insert(table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Insert rows with COPY on PostgreSQL and executemany on SQLite.

    The driver's own cursor is used, on the same connection and so in the same transaction:
    Django's cursor wrapper adds per-row work (it re-iterates the parameters) that costs a
    third of the insert time at this volume.
    """
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    name = connection.ops.quote_name(table)
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["?"] * len(columns))
            cursor.executemany(f"INSERT INTO {name} ({quoted}) VALUES ({marks})", rows)  # noqa: S608
    finally:
        cursor.close()


def _write_counts(tally: _Tally) -> None:
    """Write the monthly summary counted so far (its slices were cleared when claimed)."""
    rows = []
    for (force, month, lsoa, category), n in tally.counts.items():
        rows.append((force, month, lsoa, category, n))
        tally.slice_rows[(force, month)] += n
    tally.counts.clear()
    for start in range(0, len(rows), BATCH):
        bulk_insert(
            MonthlyCount._meta.db_table,
            ("force", "month", "lsoa_code", "category", "n"),
            rows[start : start + BATCH],
        )


def _record_slices(run: ImportRun, tally: _Tally) -> None:
    """Say which import each touched (force, month) now comes from."""
    for (force, month), rows in tally.slice_rows.items():
        DataSlice.objects.update_or_create(
            force=force, month=month, defaults={"import_run": run, "rows": rows}
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
        run.months = sorted({m[:7] for _, m in tally.slices})
        run.forces = sorted({f for f, _ in tally.slices})
    run.save()
    shared_cache.delete(progress_key(run.pk))
    return run
