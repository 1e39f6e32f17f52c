"""Shared set-up for the Placewise benchmarks in this folder.

Each benchmark runs against its own fresh database: a SQLite file in a temporary folder, or
the PostgreSQL database ``placewise_bench`` (dropped and created again by the script). The
dev database (var/placewise.sqlite3) is never opened. The Django cache (import progress),
MEDIA_ROOT and STATIC_ROOT are pointed at the temporary folder too, so nothing is written
outside bench/ and temporary folders except the bench databases.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
SHARED_DATA = Path(os.environ.get("PLACEWISE_SHARED_DATA", ROOT.parent / "shared" / "data"))
LEICESTERSHIRE = SHARED_DATA / "police_uk" / "leicestershire"

PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_USER = "postgres"
PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "placewise_bench")
DATABASES = ("sqlite", "postgres")

_state: dict = {}


def street_files(months: int | None = None) -> list[Path]:
    """The Leicestershire street files, oldest first (the first ``months`` of them)."""
    files = sorted(LEICESTERSHIRE.glob("*/*-leicestershire-street.csv"))
    if not files:
        sys.exit(f"no police.uk street files under {LEICESTERSHIRE}")
    return files[:months] if months else files


def parse_args(description: str, default: str = "both", extra=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres", "both"],
        default=default,
        help=f"which database to benchmark (default: {default})",
    )
    parser.add_argument("--json-out", help=argparse.SUPPRESS)  # used when run as a child
    if extra:
        extra(parser)
    return parser.parse_args()


def run_children(script: str, databases: list[str], extra_args: list[str], tmp: Path) -> dict:
    """Run ``script`` once per database in a fresh interpreter; collect their JSON results.

    Django can be set up only once per process, so ``--database both`` runs a child each.
    """
    results = {}
    for db in databases:
        out = tmp / f"result-{db}.json"
        cmd = [sys.executable, script, "--database", db, "--json-out", str(out), *extra_args]
        print(f"\n##### {db}: {' '.join(Path(c).name if c == script else c for c in cmd[1:])}")
        sys.stdout.flush()
        proc = subprocess.run(cmd, check=False)
        if proc.returncode != 0:
            print(f"!! the {db} run exited with status {proc.returncode}")
            continue
        results[db] = json.loads(out.read_text())
    shutil.rmtree(tmp, ignore_errors=True)
    return results


# --- database and Django set-up -----------------------------------------------------------


def _pg_admin():
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    )


def recreate_pg_database(name: str | None = None) -> None:
    from psycopg import sql

    ident = sql.Identifier(name or PG_BENCH_DB)
    with _pg_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def database_url(database: str, workdir: Path, sqlite_file: Path | None = None) -> str:
    if database == "sqlite":
        return f"sqlite:///{sqlite_file or (workdir / 'bench.sqlite3')}"
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_BENCH_DB}"


def configure(
    database: str,
    workdir: Path,
    *,
    sqlite_file: Path | None = None,
    fresh: bool = True,
    migrate: bool = True,
) -> None:
    """Point Django at a bench database, set it up and (by default) migrate a fresh one."""
    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url(database, workdir, sqlite_file)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "placewise.settings",
            "DEBUG": "true",
            "TASK_BACKEND": "immediate",
            "DATABASE_URL": url,
            "MEDIA_ROOT": str(workdir / "media"),
            "STATIC_ROOT": str(workdir / "static"),
        }
    )
    os.environ.pop("REDIS_URL", None)
    _state.update(database=database, workdir=workdir, url=url)
    if fresh:
        _drop_files_or_database()

    # The settings module keeps its file cache under var/; send it to the temp folder instead
    # (same backend, so progress publishing costs what it costs in a laptop install).
    import placewise.settings as placewise_settings

    placewise_settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(workdir / "cache"),
        }
    }
    import django

    django.setup()
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    if "var/placewise.sqlite3" in name or name == "placewise":
        sys.exit(f"refusing to benchmark against {name}")
    if migrate:
        run_migrate()


def run_migrate() -> float:
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    return time.perf_counter() - t0


def _drop_files_or_database() -> None:
    if _state["database"] == "sqlite":
        path = Path(_state["url"].removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        recreate_pg_database()


def reset_database() -> float:
    """Throw the bench database away and migrate a new one; returns the migrate seconds."""
    from django.db import connections

    connections.close_all()
    _drop_files_or_database()
    return run_migrate()


def close_database() -> None:
    from django.db import connections

    connections.close_all()


def cleanup(database: str, workdir: Path) -> None:
    """Drop the PostgreSQL bench database, or delete the temp folder with the SQLite file."""
    drop_pg_database_if(database)
    close_database()
    shutil.rmtree(workdir, ignore_errors=True)


def drop_pg_database_if(database: str) -> None:
    if database == "postgres":
        close_database()
        from psycopg import sql

        with _pg_admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(PG_BENCH_DB)
                )
            )


# --- small helpers ------------------------------------------------------------------------


def server_versions() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("select sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def machine() -> str:
    import platform

    return (
        f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"{load()}"
    )


def load() -> str:
    """The 1/5/15-minute load averages: other work on a 2-core machine skews timings."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def table(headers: list[str], rows: list[list], right: set[int] | None = None) -> str:
    """A plain fixed-width text table."""
    right = right if right is not None else set(range(1, len(headers)))
    cells = [[str(c) for c in r] for r in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)
    ]

    def line(values):
        return "  ".join(
            v.rjust(widths[i]) if i in right else v.ljust(widths[i]) for i, v in enumerate(values)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def load_demo_places() -> dict:
    """The harm scheme, the demo area files and groups (what load_demo loads before any
    incidents), each step timed; returns step -> seconds."""
    from placewise.core.management.commands.load_demo import AREA_FILES
    from placewise.incidents.actions import do_seed_harm_scheme
    from placewise.places.actions import do_import_area_file, do_import_groups

    steps = {}
    t0 = time.perf_counter()
    do_seed_harm_scheme()
    steps["harm scheme"] = time.perf_counter() - t0
    for name in AREA_FILES:
        t0 = time.perf_counter()
        summary = do_import_area_file(DEMO / name)
        steps[f"areas: {name}"] = time.perf_counter() - t0
        print(f"  areas: {summary}", flush=True)
    t0 = time.perf_counter()
    summary = do_import_groups(DEMO / "groups_leicestershire.csv", demo=True)
    steps["groups_leicestershire.csv"] = time.perf_counter() - t0
    print(f"  groups: {summary}", flush=True)
    return steps
