"""Import speed: Placewise's real import path against a plain bulk-load baseline.

For each database (SQLite and PostgreSQL by default) this imports the 24 Leicestershire
police.uk months (2019-12..2021-11, ~197k rows) with ``do_import_files`` into a fresh
database, then loads the same files with a plain baseline in the same process:

* SQLite: the csv module reading each file, ``executemany`` into a bare 12-text-column table
  (batches of 5,000, like Placewise), one transaction;
* PostgreSQL: the csv module reading each file, psycopg 3 ``cursor.copy`` + ``write_row``
  into a bare 12-text-column table, one transaction.

Every timed step runs twice and the better run is reported. It also times re-importing the
same 24 months on top (the replacement path) and checks the totals are unchanged, and says
where the extra time over the baseline goes: parse+validate alone (``read_street_file``
with no writes), the MonthlyCount summary write alone, and one instrumented import that splits its
own time by step.

    .venv/bin/python bench/bench_import.py [--database sqlite|postgres|both]
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from itertools import islice
from pathlib import Path

import _common as common

RUNS = 2
BATCH = 5000
BARE_COLUMNS = (
    "crime_id",
    "month",
    "reported_by",
    "falls_within",
    "longitude",
    "latitude",
    "location",
    "lsoa_code",
    "lsoa_name",
    "crime_type",
    "last_outcome_category",
    "context",
)
# The same index Incident has, on the bare table's matching columns.
BARE_INDEXES = (("month", "falls_within"),)


def best_of(label: str, fn, runs: int, before=None) -> dict:
    """Run ``fn`` ``runs`` times (``before`` untimed ahead of each); keep every time."""
    times, result = [], None
    for i in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        print(f"  {label}: run {i + 1}: {times[-1]:.2f} s", flush=True)
    return {"best": min(times), "runs": times, "result": result}


# --- Placewise's path ---------------------------------------------------------------------


def placewise_import(paths: list[Path]) -> dict:
    """One import exactly as the CLI does it (LSOA code list loaded afresh, as in a new process)."""
    from placewise.incidents import importer
    from placewise.incidents.actions import do_import_files

    importer.lsoa11_codes.cache_clear()
    run = do_import_files(None, paths, source="bench")
    if run.status != "succeeded":
        sys.exit(f"import failed: {run.error}")
    return {
        "rows_read": run.rows_read,
        "rows_imported": run.rows_imported,
        "rows_rejected": run.rows_rejected,
        "months": len(run.months),
        "notes": len(run.notes),
    }


def totals() -> dict:
    from django.db.models import Count, Sum

    from placewise.incidents.models import Incident, MonthlyCount

    per_month = dict(Incident.objects.values_list("month").annotate(n=Count("id")))
    agg = MonthlyCount.objects.aggregate(rows=Count("id"), n=Sum("n"))
    return {
        "incidents": Incident.objects.count(),
        "monthly_count_rows": agg["rows"],
        "monthly_count_sum": agg["n"],
        "months": len(per_month),
        "per_month": {f"{m:%Y-%m}": n for m, n in sorted(per_month.items())},
    }


def parse_only(paths: list[Path]) -> Counter:
    """Read and validate every row with Placewise's reader, writing nothing."""
    from placewise.incidents import importer
    from placewise.lib.policeuk import Rejected, find_sources, read_street_file

    importer.lsoa11_codes.cache_clear()
    codes = importer.lsoa11_codes()
    sources, _ = find_sources(paths)
    today = dt.date.today()
    seen: Counter = Counter()
    for source in sources:
        for item in read_street_file(source, codes, today):
            seen["rejected" if isinstance(item, Rejected) else "rows"] += 1
    return seen


def rebuild_only() -> int:
    """The MonthlyCount summary write (delete old counts, insert the tallied ones) for every
    (force, month) stored, in one transaction. The tally itself is counted while streaming."""
    from django.db import transaction

    from placewise.incidents import importer
    from placewise.incidents.models import MonthlyCount

    tally = importer._Tally()
    for force, month, lsoa, category, n in MonthlyCount.objects.values_list(
        "force", "month", "lsoa_code", "category", "n"
    ):
        tally.counts[(force, month, lsoa, category)] = n
        tally.slices[(force, month)] = (0, "bench")
    with transaction.atomic():
        MonthlyCount.objects.all().delete()  # as each slice's claim does in the import
        importer._write_counts(tally)
    return len(tally.slices)


class _Timers:
    """Exclusive time per wrapped step (time spent in wrapped callees is not double counted)."""

    def __init__(self):
        self.seconds: Counter = Counter()
        self.calls: Counter = Counter()
        self.stack: list[float] = []

    def start(self) -> float:
        self.stack.append(0.0)
        return time.perf_counter()

    def stop(self, name: str, t0: float) -> None:
        elapsed = time.perf_counter() - t0
        inner = self.stack.pop()
        self.seconds[name] += elapsed - inner
        self.calls[name] += 1
        if self.stack:
            self.stack[-1] += elapsed

    def wrap(self, name: str, fn):
        def wrapped(*args, **kwargs):
            t0 = self.start()
            try:
                return fn(*args, **kwargs)
            finally:
                self.stop(name, t0)

        return wrapped


def instrumented_import(paths: list[Path]) -> dict:
    """One fresh import with its steps timed by wrapping the importer's own functions."""
    from django.db import transaction as django_transaction

    from placewise.incidents import importer

    timers = _Timers()

    class _TimedAtomic:
        def __init__(self, inner):
            self.inner = inner

        def __enter__(self):
            return self.inner.__enter__()

        def __exit__(self, *exc):
            t0 = timers.start()
            try:
                return self.inner.__exit__(*exc)
            finally:
                timers.stop("commit", t0)

    class _TimedTransaction:
        @staticmethod
        def atomic(*args, **kwargs):
            return _TimedAtomic(django_transaction.atomic(*args, **kwargs))

    # The importer's own module-level steps; any that a later version renames is skipped
    # (its time then shows up under "rest").
    wanted = (
        "bulk_insert",
        "_claim_slice",
        "_write_counts",
        "_record_slices",
        "_publish",
        "_finish",
    )
    patches = {name: name for name in wanted if callable(getattr(importer, name, None))}
    originals = {name: getattr(importer, name) for name in [*patches, "transaction"]}
    importer.lsoa11_codes.cache_clear()
    t_codes = time.perf_counter()
    importer.lsoa11_codes()
    codes_seconds = time.perf_counter() - t_codes
    try:
        for name, label in patches.items():
            setattr(importer, name, timers.wrap(label, originals[name]))
        importer.transaction = _TimedTransaction()
        t0 = time.perf_counter()
        result = placewise_import_no_clear(paths)
        total = time.perf_counter() - t0
    finally:
        for name, fn in originals.items():
            setattr(importer, name, fn)
    steps = dict(timers.seconds)
    steps["lsoa11_codes"] = codes_seconds
    steps["rest"] = total - sum(timers.seconds.values())
    missing = [name for name in wanted if name not in patches]
    if missing:
        print(f"  note: importer has no {', '.join(missing)} any more; not timed separately")
    return {
        "total": total + codes_seconds,
        "steps": steps,
        "calls": dict(timers.calls),
        "rows": result["rows_read"],
    }


def placewise_import_no_clear(paths: list[Path]) -> dict:
    from placewise.incidents.actions import do_import_files

    run = do_import_files(None, paths, source="bench")
    if run.status != "succeeded":
        sys.exit(f"import failed: {run.error}")
    return {"rows_read": run.rows_read}


# --- the plain baseline -------------------------------------------------------------------


def create_bare_table(name: str, indexes: bool) -> None:
    from django.db import connection

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        cols = ", ".join(f"{quote(c)} text" for c in BARE_COLUMNS)
        cursor.execute(f"CREATE TABLE {quote(name)} ({cols})")
        if indexes:
            for i, columns in enumerate(BARE_INDEXES):
                cursor.execute(
                    f"CREATE INDEX {quote(f'{name}_ix{i}')} ON {quote(name)} "
                    f"({', '.join(quote(c) for c in columns)})"
                )


def csv_rows(path: Path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        yield from reader


def csv_read_only(paths: list[Path]) -> int:
    n = 0
    for path in paths:
        for _row in csv_rows(path):
            n += 1
    return n


def baseline_load(paths: list[Path], name: str) -> dict:
    """csv module + executemany (SQLite) or COPY write_row (PostgreSQL), one transaction."""
    from django.db import connection, transaction

    connection.ensure_connection()
    n = 0
    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        raw = connection.connection  # the driver's own connection, no Django wrappers
        cursor = raw.cursor()
        if connection.vendor == "postgresql":
            for path in paths:
                with cursor.copy(f'COPY "{name}" FROM STDIN') as copy:
                    for row in csv_rows(path):
                        copy.write_row(row)
                        n += 1
        else:
            marks = ", ".join(["?"] * len(BARE_COLUMNS))
            sql = f'INSERT INTO "{name}" VALUES ({marks})'  # noqa: S608 (our own table name)
            for path in paths:
                rows = csv_rows(path)
                while batch := list(islice(rows, BATCH)):
                    cursor.executemany(sql, batch)
                    n += len(batch)
        cursor.close()
    except BaseException:
        atomic.__exit__(*sys.exc_info())
        raise
    t0 = time.perf_counter()
    atomic.__exit__(None, None, None)
    return {"rows": n, "commit": time.perf_counter() - t0}


# --- one database -------------------------------------------------------------------------

STEP_LABELS = {
    "rest": "read + validate rows, loop, tally (everything not wrapped)",
    "bulk_insert": "write batches into Incident (bulk_insert)",
    "commit": "commit",
    "_write_counts": "MonthlyCount summary write (_write_counts)",
    "_record_slices": "record each slice's import (_record_slices)",
    "_claim_slice": "clear each (force, month) before writing it (_claim_slice)",
    "_publish": "progress to the cache (_publish)",
    "_finish": "save the run summary (_finish)",
    "lsoa11_codes": "load the LSOA 2011 code list (lsoa11_codes)",
}


def bench_one(database: str, runs: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"placewise-bench-import-{database}-"))
    common.configure(database, tmp)
    paths = common.street_files()
    size = sum(p.stat().st_size for p in paths)
    for p in paths:  # warm the OS file cache so no run pays for the first disk read
        p.read_bytes()
    version = common.server_versions()
    print(f"{version}; {len(paths)} files, {size / 1e6:.1f} MB; temp folder {tmp}")
    print(f"Each step runs {runs} times; the better (lower) time is reported. {common.load()}")

    def fresh_before_all_but_first():
        calls = [0]

        def before():
            calls[0] += 1
            if calls[0] > 1:
                common.reset_database()

        return before

    print("Placewise do_import_files into a fresh database (migrated anew before each run):")
    fresh = best_of(
        "placewise fresh", lambda: placewise_import(paths), runs, fresh_before_all_but_first()
    )
    after_fresh = totals()
    print("Placewise re-import of the same 24 months on top (replacement path):")
    after_reimports = []

    def reimport():
        result = placewise_import(paths)
        after_reimports.append(totals())
        return result

    replace = best_of("placewise re-import", reimport, runs)
    print("MonthlyCount summary write alone, every stored (force, month), one transaction:")
    rebuild = best_of("rebuild only", rebuild_only, runs)
    print("Parse + validate alone (read_street_file over every file, nothing written):")
    parse = best_of("parse+validate only", lambda: parse_only(paths), runs)
    print("csv module alone (csv.reader over every file, nothing written):")
    csv_only = best_of("csv read only", lambda: csv_read_only(paths), runs)
    baseline_label = (
        "baseline: csv + COPY write_row, bare table"
        if database == "postgres"
        else "baseline: csv + executemany, bare table"
    )
    print(f"{baseline_label} (12 text columns, no indexes):")
    base = best_of(
        "baseline",
        lambda: baseline_load(paths, "bench_bare"),
        runs,
        lambda: create_bare_table("bench_bare", indexes=False),
    )
    print("The same baseline into a bare table with Incident's index:")
    base_ix = best_of(
        "baseline + index",
        lambda: baseline_load(paths, "bench_bare_ix"),
        runs,
        lambda: create_bare_table("bench_bare_ix", indexes=True),
    )
    print("Instrumented Placewise import into a fresh database (steps timed):")
    instrumented = []
    for i in range(runs):
        common.reset_database()
        instrumented.append(instrumented_import(paths))
        print(f"  instrumented: run {i + 1}: {instrumented[-1]['total']:.2f} s", flush=True)
    common.cleanup(database, tmp)

    result = {
        "database": database,
        "version": version,
        "files": len(paths),
        "bytes": size,
        "rows": fresh["result"]["rows_read"],
        "rows_rejected": fresh["result"]["rows_rejected"],
        "fresh": fresh,
        "replace": replace,
        "rebuild": rebuild,
        "parse": parse,
        "csv_only": csv_only,
        "baseline": base,
        "baseline_label": baseline_label,
        "baseline_ix": base_ix,
        "instrumented": min(instrumented, key=lambda r: r["total"]),
        "totals_after_fresh": after_fresh,
        "totals_after_reimports": after_reimports,
        "load_after": common.load(),
    }
    report_one(result)
    return result


HEADERS = ["database", "method", "rows", "seconds", "rows/s", "placewise/baseline", "runs (s)"]


def method_rows(r: dict) -> list[list]:
    rows = r["rows"]
    base = r["baseline"]["best"]

    def line(method, step, ratio=False):
        s = step["best"]
        return [
            r["database"],
            method,
            f"{rows:,}",
            f"{s:.2f}",
            f"{rows / s:,.0f}",
            f"{s / base:.2f}x" if ratio else "",
            " / ".join(f"{t:.2f}" for t in step["runs"]),
        ]

    return [
        line("placewise do_import_files, fresh DB", r["fresh"], ratio=True),
        line("placewise re-import (replacement path)", r["replace"], ratio=True),
        line(r["baseline_label"], r["baseline"], ratio=True),
        line("  (the baseline into a table with Incident's index)", r["baseline_ix"]),
        line("  (parse+validate only: read_street_file, no writes)", r["parse"]),
        line("  (csv.reader only, no writes)", r["csv_only"]),
        line("  (MonthlyCount summary write only, 24 slices)", r["rebuild"]),
    ]


def report_one(r: dict) -> None:
    print()
    print(
        f"== {r['database']} ({r['version']}): {r['files']} files, {r['rows']:,} rows read, "
        f"{r['rows_rejected']:,} rejected =="
    )
    print("seconds = better of the runs; placewise/baseline = seconds / baseline seconds;")
    print("rows/s = the 24 months' rows / seconds, also for the part-step lines (for scale).")
    print(common.table(HEADERS, method_rows(r), right={2, 3, 4, 5}))

    print("\nTotals (must be equal after the fresh import and after each re-import):")
    first = r["totals_after_fresh"]
    checks = [["after fresh import", *_totals_cells(first), ""]]
    for i, t in enumerate(r["totals_after_reimports"], 1):
        same = "yes" if t == first else "NO"
        checks.append([f"after re-import {i}", *_totals_cells(t), same])
    print(
        common.table(
            ["state", "incidents", "MonthlyCount rows", "sum of MonthlyCount.n", "months", "same"],
            checks,
        )
    )
    print("\n" + extra_cost_note(r))


def _totals_cells(t: dict) -> list[str]:
    return [
        f"{t['incidents']:,}",
        f"{t['monthly_count_rows']:,}",
        f"{t['monthly_count_sum']:,}",
        str(t["months"]),
    ]


def extra_cost_note(r: dict) -> str:
    """Where the time over the baseline goes, from the instrumented run and the part steps."""
    inc = r["instrumented"]
    total, steps = inc["total"], inc["steps"]
    base, csv_only = r["baseline"]["best"], r["csv_only"]["best"]
    base_write = base - csv_only
    lines = [
        f"Where the time goes (instrumented fresh import, best of {len(r['fresh']['runs'])}: "
        f"{total:.2f} s; baseline {base:.2f} s = csv read {csv_only:.2f} s + "
        f"insert/commit {base_write:.2f} s):",
        common.table(
            ["step", "seconds", "share", "calls"],
            [
                [STEP_LABELS[k], f"{v:.2f}", f"{100 * v / total:.0f}%", inc["calls"].get(k, "")]
                for k, v in sorted(steps.items(), key=lambda kv: -kv[1])
            ],
        ),
    ]
    write = steps.get("bulk_insert", 0) + steps.get("commit", 0)
    index_cost = r["baseline_ix"]["best"] - base
    validate = r["parse"]["best"] - csv_only
    other = sum(v for k, v in steps.items() if k not in {"rest", "bulk_insert", "commit"})
    lines.append(
        "\nExtra over the baseline, step by step:\n"
        f"  reading: Placewise read+validate {steps['rest']:.2f} s in the import "
        f"(alone: {r['parse']['best']:.2f} s) vs csv only {csv_only:.2f} s -> validation "
        f"costs about {validate:+.2f} s\n"
        f"  writing: bulk_insert+commit {write:.2f} s vs the baseline's insert+commit "
        f"{base_write:.2f} s -> {write - base_write:+.2f} s, of which Incident's index "
        f"explain about {index_cost:+.2f} s (baseline with vs without them)\n"
        f"  MonthlyCount summary write {steps.get('_write_counts', 0):.2f} s in the import "
        f"(alone, with its delete of the old counts: {r['rebuild']['best']:.2f} s)\n"
        f"  slice clears, progress, run summary, LSOA list: "
        f"{other - steps.get('_write_counts', 0):.2f} s"
    )
    return "\n".join(lines)


def report_all(results: dict) -> None:
    print("\n" + "=" * 100)
    print(f"Summary: import of the 24 Leicestershire months; {common.machine()}")
    print("seconds = better of the runs; placewise/baseline = seconds / baseline seconds")
    rows = []
    for r in results.values():
        rows += method_rows(r)
    print(common.table(HEADERS, rows, right={2, 3, 4, 5}))
    for r in results.values():
        first = r["totals_after_fresh"]
        same = all(t == first for t in r["totals_after_reimports"])
        print(
            f"{r['database']}: totals {first['incidents']:,} incidents, "
            f"{first['monthly_count_sum']:,} counted in MonthlyCount, {first['months']} months; "
            f"unchanged after {len(r['totals_after_reimports'])} re-imports: "
            f"{'yes' if same else 'NO'}"
        )


def main() -> None:
    def extra(parser):
        parser.add_argument(
            "--runs", type=int, default=RUNS, help=f"runs per step, best kept (default {RUNS})"
        )

    args = common.parse_args(__doc__.splitlines()[0], extra=extra)
    if args.database == "both":
        tmp = Path(tempfile.mkdtemp(prefix="placewise-bench-import-"))
        results = common.run_children(
            __file__, list(common.DATABASES), ["--runs", str(args.runs)], tmp
        )
    else:
        results = {args.database: bench_one(args.database, args.runs)}
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(results[args.database], default=str))
            return
    report_all(results)


if __name__ == "__main__":
    main()
