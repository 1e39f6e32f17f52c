"""Import memory: the peak should stay flat however many months (or however big a file) go in.

Each case runs in a fresh interpreter against a fresh, already-migrated bench database (a
copy of a template SQLite file, so migrating does not count towards the peak), and imports
with Placewise's real path (``do_import_files``):

* the first 3, 6, 12 and 24 Leicestershire months (one CSV per month);
* one synthetic file: the 24 months concatenated into a single CSV (header once), written
  to a temporary folder, to show one large file streams too.

Per case it reports, for the import call alone:

* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` after the import, with the
  process's high-water mark reset (``/proc/self/clear_refs`` = 5) just before the call, so
  interpreter start-up and Django set-up do not count; the RSS just before the call is shown
  too, and the growth (peak minus that);
* tracemalloc peak: in a second fresh interpreter with ``tracemalloc`` started just before
  the call (Python allocations made during the import that were live at once).

    .venv/bin/python bench/bench_memory.py [--database sqlite|postgres|both]   (default sqlite)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common as common

MONTHS = (3, 6, 12, 24)
SYNTHETIC_NAME = "synthetic-concatenated-24-months-street.csv"
MIB = 1024 * 1024
PG_TEMPLATE = f"{common.PG_BENCH_DB}_template"


# --- child side: one measurement in a fresh interpreter -----------------------------------


def _status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _maxrss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child_measure(args) -> None:
    workdir = Path(args.workdir)
    common.configure(
        args.database,
        workdir,
        sqlite_file=Path(args.db_file) if args.db_file else None,
        fresh=False,
        migrate=False,
    )
    from placewise.incidents.actions import do_import_files

    paths = [Path(p) for p in json.loads(args.paths)]
    startup_peak = _maxrss()
    import gc

    gc.collect()
    rss_before = _status("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
        reset = True
    except OSError:
        reset = False
    traced_peak = None
    if args.trace:
        import tracemalloc

        tracemalloc.start()
    t0 = time.perf_counter()
    run = do_import_files(None, paths, source="bench")
    seconds = time.perf_counter() - t0
    if args.trace:
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    result = {
        "status": run.status,
        "error": run.error,
        "rows": run.rows_read,
        "rows_imported": run.rows_imported,
        "seconds": seconds,
        "startup_peak": startup_peak,
        "rss_before": rss_before,
        "hwm_reset": reset,
        "peak_rss": _maxrss(),
        "vm_hwm": _status("VmHWM"),
        "traced_peak": traced_peak,
    }
    common.close_database()
    Path(args.json_out).write_text(json.dumps(result))


def child_prepare(args) -> None:
    """Migrate the template database once (in its own process)."""
    common.configure(
        args.database,
        Path(args.workdir),
        sqlite_file=Path(args.db_file) if args.db_file else None,
    )
    common.close_database()


# --- parent side --------------------------------------------------------------------------


def concatenate(paths: list[Path], out: Path) -> Path:
    """One CSV holding every file's rows, the header written once."""
    with open(out, "wb") as f:
        for i, path in enumerate(paths):
            data = path.read_bytes()
            if i:
                data = data.split(b"\n", 1)[1]
            f.write(data)
            if not data.endswith(b"\n"):
                f.write(b"\n")
    return out


def _pg(sql_text: str) -> None:
    from psycopg import sql

    with common._pg_admin() as conn:
        conn.execute(sql.SQL(sql_text))


def run_case(database: str, tmp: Path, paths: list[Path], trace: bool) -> dict:
    out = tmp / "case.json"
    out.unlink(missing_ok=True)
    db_file = ""
    if database == "sqlite":
        db_file = str(tmp / "case.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(db_file + suffix).unlink(missing_ok=True)
        shutil.copyfile(tmp / "template.sqlite3", db_file)
    else:
        _pg(f'DROP DATABASE IF EXISTS "{common.PG_BENCH_DB}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{common.PG_BENCH_DB}" TEMPLATE "{PG_TEMPLATE}"')
    cmd = [
        sys.executable,
        __file__,
        "--child",
        "measure",
        "--database",
        database,
        "--workdir",
        str(tmp / "work"),
        "--db-file",
        db_file,
        "--paths",
        json.dumps([str(p) for p in paths]),
        "--json-out",
        str(out),
    ]
    if trace:
        cmd.append("--trace")
    subprocess.run(cmd, check=True)
    result = json.loads(out.read_text())
    if result["status"] != "succeeded":
        sys.exit(f"import failed: {result['error']}")
    return result


def bench_database(database: str, tmp: Path, cases: list[tuple[str, list[Path]]]) -> list[dict]:
    tmp = tmp / database
    tmp.mkdir()
    print(f"\n##### {database}: preparing a migrated template database", flush=True)
    # The template is migrated in its own process, which then exits (closing its connection:
    # PostgreSQL copies a template only when nobody is connected to it).
    cmd = [sys.executable, __file__, "--child", "prepare", "--database", database]
    cmd += ["--workdir", str(tmp / "work")]
    if database == "sqlite":
        cmd += ["--db-file", str(tmp / "template.sqlite3")]
    else:
        cmd += ["--pg-db", PG_TEMPLATE]
    subprocess.run(cmd, check=True)

    rows = []
    for label, paths in cases:
        size = sum(p.stat().st_size for p in paths)
        plain = run_case(database, tmp, paths, trace=False)
        traced = run_case(database, tmp, paths, trace=True)
        row = {
            "database": database,
            "case": label,
            "files": len(paths),
            "bytes": size,
            **plain,
            "traced_peak": traced["traced_peak"],
            "traced_seconds": traced["seconds"],
        }
        rows.append(row)
        print(
            f"  {label}: {row['rows']:,} rows, {row['seconds']:.1f} s, peak RSS "
            f"{row['peak_rss'] / MIB:.1f} MiB, tracemalloc peak {row['traced_peak'] / MIB:.1f} MiB",
            flush=True,
        )
    if database == "postgres":
        _pg(f'DROP DATABASE IF EXISTS "{common.PG_BENCH_DB}" WITH (FORCE)')
        _pg(f'DROP DATABASE IF EXISTS "{PG_TEMPLATE}" WITH (FORCE)')
    return rows


def report(rows: list[dict]) -> None:
    print("\n" + "=" * 100)
    print(f"Import memory, one fresh interpreter per figure; {common.machine()}")
    print(
        "MiB = 1,048,576 bytes. RSS before = resident just before do_import_files; peak RSS = "
        "ru_maxrss after it,\nwith the high-water mark reset just before the call; growth = peak "
        "RSS - RSS before; tracemalloc peak\n= peak of Python allocations made during the call "
        "(separate run, tracemalloc started just before it)."
    )
    if not all(r["hwm_reset"] for r in rows):
        print("NOTE: the RSS high-water mark could not be reset; peak RSS includes start-up.")
    headers = [
        "database",
        "case",
        "files",
        "rows",
        "input MiB",
        "seconds",
        "RSS before",
        "peak RSS",
        "growth",
        "tracemalloc peak",
    ]
    cells = [
        [
            r["database"],
            r["case"],
            r["files"],
            f"{r['rows']:,}",
            f"{r['bytes'] / MIB:.1f}",
            f"{r['seconds']:.1f}",
            f"{r['rss_before'] / MIB:.1f}",
            f"{r['peak_rss'] / MIB:.1f}",
            f"{(r['peak_rss'] - r['rss_before']) / MIB:.1f}",
            f"{r['traced_peak'] / MIB:.2f}",
        ]
        for r in rows
    ]
    print(common.table(headers, cells, right=set(range(2, len(headers)))))
    for database in dict.fromkeys(r["database"] for r in rows):
        mine = {r["case"]: r for r in rows if r["database"] == database}
        small, big = mine.get("3 months"), mine.get("24 months")
        one = mine.get("24 months, one file")
        if small and big:
            print(
                f"{database}: 24 months / 3 months ({big['rows'] / small['rows']:.1f}x the rows): "
                f"peak RSS {big['peak_rss'] / small['peak_rss']:.2f}x, growth "
                f"{_ratio(big, small)}, tracemalloc peak "
                f"{big['traced_peak'] / small['traced_peak']:.2f}x"
            )
        if one and big:
            print(
                f"{database}: one 24-month file / 24 files: peak RSS "
                f"{one['peak_rss'] / big['peak_rss']:.2f}x, tracemalloc peak "
                f"{one['traced_peak'] / big['traced_peak']:.2f}x"
            )


def _ratio(a: dict, b: dict) -> str:
    ga, gb = a["peak_rss"] - a["rss_before"], b["peak_rss"] - b["rss_before"]
    return f"{ga / gb:.2f}x" if gb > 0 else "n/a"


def main() -> None:
    def extra(parser):
        parser.add_argument("--child", choices=["prepare", "measure"], help="internal")
        parser.add_argument("--workdir", help="internal")
        parser.add_argument("--db-file", default="", help="internal")
        parser.add_argument("--pg-db", default="", help="internal")
        parser.add_argument("--paths", help="internal")
        parser.add_argument("--trace", action="store_true", help="internal")

    args = common.parse_args(__doc__.splitlines()[0], default="sqlite", extra=extra)
    if args.pg_db:
        common.PG_BENCH_DB = args.pg_db
    if args.child == "prepare":
        return child_prepare(args)
    if args.child == "measure":
        return child_measure(args)

    tmp = Path(tempfile.mkdtemp(prefix="placewise-bench-memory-"))
    print(f"temp folder {tmp}; {common.load()}")
    files = common.street_files()
    synthetic = concatenate(files, tmp / SYNTHETIC_NAME)
    print(f"wrote {synthetic.name}: {synthetic.stat().st_size / MIB:.1f} MiB")
    cases = [(f"{n} months", files[:n]) for n in MONTHS]
    cases.append(("24 months, one file", [synthetic]))
    databases = list(common.DATABASES) if args.database == "both" else [args.database]
    rows = []
    for database in databases:
        rows += bench_database(database, tmp, cases)
    report(rows)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
