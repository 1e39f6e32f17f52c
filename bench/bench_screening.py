"""Screening speed: screen() and run_backtest() at force scale and at a SYNTHETIC national scale.

A. Force scale, real data. Loads what ``bench_pages.py`` loads (harm scheme, the bundled
   Leicestershire LSOA files, ``groups_leicestershire.csv``, the 24 police.uk months
   2019-12..2021-11 through ``do_import_files``), then times, one warm-up then the best of 3:
   ``screen`` at LSOA level (default weights, 24-month window, Gi*), at neighbourhood level,
   at grid 250 m and grid 500 m; and ``run_backtest`` with every method over the 12 test
   months 2020-12..2021-11 (12 training months) at LSOA level and at grid 250 m.
   Aim: a screen in under 2 s.

B. National scale, SYNTHETIC data (every label says so). A fresh database gets 35,000
   synthetic LSOAs (codes ``SYN000001``..: Voronoi cells of clustered "town" seed points in
   a 600 km x 400 km box of British National Grid, stored as WGS84 GeoJSON), 7,000
   synthetic neighbourhoods of 5 LSOAs each (consecutive along a Hilbert curve) and one force,
   "Synthetic national force", with memberships; then 36 months of synthetic incidents at
   6 million a year (~18 million Incident rows, the matching MonthlyCount rows and one
   DataSlice per month), generated and written one month at a time with the importer's
   ``bulk_insert`` (COPY on PostgreSQL, executemany on SQLite). A second, fresh interpreter
   then times ``screen`` over the 36-month window at LSOA level, at neighbourhood level and at
   grid 1000 m (one warm-up, best of ``--national-runs``), and at grid 250 m (one run), with
   the split database aggregation / statistics, the statistics split by step, and the peak RSS
   of the process during each screen. Aim: a national screen in under 30 s, aggregated by
   the database.

A screen still running after ``--timeout`` seconds is interrupted (its query cancelled) and
reported as such. Diagnoses, printed apart from the as-is figures and never changing
Placewise: the query plans; on PostgreSQL, EXPLAIN ANALYZE of each aggregation query; on
SQLite, the neighbourhood screen again after a fresh ``ANALYZE``.

    .venv/bin/python bench/bench_screening.py [--database sqlite|postgres|both]
                                              [--scale force|national|both]

Default: both databases, both scales. Each (scale, database) runs in its own interpreter;
PostgreSQL uses the databases ``placewise_bench_screen`` (force) and
``placewise_bench_screen_syn`` (national), created and dropped by the script (autovacuum is
off on this server, so the script runs ``VACUUM (ANALYZE)`` after loading, as autovacuum
would); SQLite uses a file in a temporary folder that is deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from itertools import repeat
from pathlib import Path

import _common as common

PG_DB = {"force": "placewise_bench_screen", "national": "placewise_bench_screen_syn"}
AIM_FORCE_S = 2.0
AIM_NATIONAL_S = 30.0
FORCE_RUNS = 3

SYN_FORCE = "Synthetic national force"
SYN_FORCE_CODE = "SYN-FORCE"
SYN_PREFIX = "SYN"
SYN_FIRST_MONTH = dt.date(2021, 1, 1)
BOX = (100_000.0, 100_000.0, 700_000.0, 500_000.0)  # BNG metres: 600 km x 400 km
POINTS_PER_AREA = 20  # police.uk-like anonymous map points per LSOA (Leicestershire: ~20)
LSOAS_PER_NEIGHBOURHOOD = 5
INSERT_BATCH = 100_000
SEED = 20_250_101

# Shares of the 14 police.uk categories (about those of England and Wales; ASB 15%).
CATEGORY_SHARES = {
    "Violence and sexual offences": 0.340,
    "Anti-social behaviour": 0.150,
    "Public order": 0.100,
    "Criminal damage and arson": 0.090,
    "Other theft": 0.072,
    "Vehicle crime": 0.062,
    "Burglary": 0.048,
    "Shoplifting": 0.040,
    "Drugs": 0.030,
    "Other crime": 0.022,
    "Bicycle theft": 0.014,
    "Theft from the person": 0.012,
    "Robbery": 0.010,
    "Possession of weapons": 0.010,
}


# --- arguments and the parent process -----------------------------------------------------


def _extra_args(parser) -> None:
    parser.add_argument(
        "--scale",
        choices=["force", "national", "both"],
        default="both",
        help="force: real Leicestershire data; national: synthetic national set (default both)",
    )
    parser.add_argument("--national-areas", type=int, default=35_000, help="synthetic LSOAs")
    parser.add_argument("--national-months", type=int, default=36, help="synthetic months")
    parser.add_argument(
        "--national-per-year", type=int, default=6_000_000, help="synthetic incidents a year"
    )
    parser.add_argument(
        "--national-runs", type=int, default=2, help="timed national screens after a warm-up"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=90.0,
        help="interrupt a screen still running after this many seconds (default 90)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0], default="both", extra=_extra_args)
    if args.phase:
        result = PHASES[args.phase](args)
        Path(args.json_out).write_text(json.dumps(result, default=str))
        return
    databases = list(common.DATABASES) if args.database == "both" else [args.database]
    scales = ["force", "national"] if args.scale == "both" else [args.scale]
    results: dict = {"force": {}, "national": {}, "machine": common.machine()}
    started = time.perf_counter()
    for scale in scales:
        for database in databases:
            tmp = Path(tempfile.mkdtemp(prefix=f"placewise-bench-screen-{scale}-{database}-"))
            try:
                if scale == "force":
                    results["force"][database] = _child("force", database, tmp, args)
                else:
                    load = _child("national-load", database, tmp, args)
                    screens = _child("national-screen", database, tmp, args) if load else None
                    results["national"][database] = {"load": load, "screens": screens}
            finally:
                if database == "postgres":
                    _drop_pg(PG_DB[scale])
                shutil.rmtree(tmp, ignore_errors=True)
    results["wall_s"] = time.perf_counter() - started
    report(results, args)


def _child(phase: str, database: str, tmp: Path, args) -> dict | None:
    out = tmp / f"{phase}.json"
    cmd = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--database",
        database,
        "--workdir",
        str(tmp),
        "--json-out",
        str(out),
        "--national-areas",
        str(args.national_areas),
        "--national-months",
        str(args.national_months),
        "--national-per-year",
        str(args.national_per_year),
        "--national-runs",
        str(args.national_runs),
        "--timeout",
        str(args.timeout),
    ]
    print(f"\n##### {phase} on {database} (fresh interpreter)", flush=True)
    proc = subprocess.run(cmd, check=False)
    if proc.returncode != 0 or not out.exists():
        print(f"!! {phase} on {database} exited with status {proc.returncode}", flush=True)
        return None
    return json.loads(out.read_text())


def _drop_pg(name: str) -> None:
    from psycopg import sql

    try:
        with common._pg_admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    except Exception as exc:  # report, never hide, a database left behind
        print(f"!! could not drop the PostgreSQL database {name}: {exc}", flush=True)


def _setup(args, scale: str, fresh: bool) -> None:
    common.PG_BENCH_DB = PG_DB[scale]  # read by _common when it builds the URL or drops
    common.configure(args.database, Path(args.workdir), fresh=fresh, migrate=fresh)


# --- measuring ------------------------------------------------------------------------------


class Stopwatch:
    """Wraps module-level functions so the time spent in each is summed while it runs.

    The product modules look their helpers up at call time, so replacing the name in the
    module measures the real call with the real inputs (no copy of the product code).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.rows: dict[str, int] = {}

    def wrap(self, module, name: str, label: str, count_rows: bool = False) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - t0
            if count_rows:
                self.rows[label] = len(result)
            return result

        setattr(module, name, timed)

    def reset(self) -> None:
        self.seconds.clear()
        self.rows.clear()


class _TimedCursor:
    """A cursor that adds the time of ``execute`` and ``fetchall`` to a Stopwatch."""

    def __init__(self, cursor, watch: Stopwatch) -> None:
        self._cursor, self._watch = cursor, watch

    def __enter__(self):
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc):
        return self._cursor.__exit__(*exc)

    def __getattr__(self, name):
        return getattr(self._cursor, name)

    def execute(self, sql, params=None):
        t0 = time.perf_counter()
        try:
            return self._cursor.execute(sql, params)
        finally:
            self._watch.seconds["query: execute"] += time.perf_counter() - t0

    def fetchall(self):
        t0 = time.perf_counter()
        try:
            return self._cursor.fetchall()
        finally:
            self._watch.seconds["query: fetchall"] += time.perf_counter() - t0


class _TimedConnection:
    """Stands in for ``django.db.connection`` in one module; its cursors are timed."""

    def __init__(self, real, watch: Stopwatch) -> None:
        self._real, self._watch = real, watch

    def __getattr__(self, name):
        return getattr(self._real, name)

    def cursor(self):
        return _TimedCursor(self._real.cursor(), self._watch)


def _maxrss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the RSS high-water mark
        return True
    except OSError:
        return False


def _screen_watch():
    from placewise.screening import aggregate, service

    watch = Stopwatch()
    aggregate.connection = _TimedConnection(aggregate.connection, watch)
    for name, label in [
        ("window", "window (month list)"),
        ("resolve_scope", "scope"),
        ("place_month_counts", "aggregation call"),
        ("_places", "places query"),
        ("trend_table", "trend_table"),
        ("seasonal_strength_table", "seasonal_strength_table"),
        ("_hotspots", "hotspots (all)"),
        ("contiguity_neighbours", "contiguity_neighbours"),
        ("grid_neighbours", "grid_neighbours"),
        ("getis_ord_gi_star", "getis_ord_gi_star"),
        ("score", "score"),
    ]:
        watch.wrap(service, name, label, count_rows=name in ("place_month_counts", "_places"))
    return watch


def _stat_split(seconds: dict, statistics: float) -> dict:
    """The statistics step split into its parts (what the wrappers measured)."""
    hot = seconds.get("hotspots (all)", 0.0)
    neighbours = seconds.get("contiguity_neighbours", 0.0) + seconds.get("grid_neighbours", 0.0)
    gi = seconds.get("getis_ord_gi_star", 0.0)
    parts = {
        "trend_table": seconds.get("trend_table", 0.0),
        "seasonal_strength_table": seconds.get("seasonal_strength_table", 0.0),
        "neighbours": neighbours,
        "getis_ord_gi_star": gi,
        "hotspots: geometry parsing / cell ring": hot - neighbours - gi,
        "score": seconds.get("score", 0.0),
    }
    parts["pivot, reindex, joins"] = statistics - sum(parts.values())
    return parts


def _guarded(fn, timeout: float):
    """Run ``fn``; past ``timeout`` seconds, interrupt the database query it is waiting on."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    stop = raw.interrupt if connection.vendor == "sqlite" else raw.cancel
    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        return fn()
    finally:
        timer.cancel()


def time_screens(cases, warmups: int, runs: int, watch, timeout: float) -> list[dict]:
    """Each case: ``warmups`` untimed screens, then ``runs`` timed; the best is kept.

    A case given its own run count (third item) gets no warm-up. A screen still running
    after ``timeout`` seconds is interrupted (the database query is cancelled) and reported
    as such; the case's other runs are then skipped.
    """
    from django.db import DatabaseError

    from placewise.screening.service import screen

    out = []
    for label, params, case_runs in cases:
        n_warm = warmups if case_runs is None else 0
        n_runs = runs if case_runs is None else case_runs
        t0 = time.perf_counter()
        try:
            for _ in range(n_warm):
                _guarded(lambda p=params: screen(p), timeout)
            attempts = [_timed_screen(params, watch, timeout) for _ in range(n_runs)]
        except DatabaseError as exc:
            waited = time.perf_counter() - t0
            out.append(
                {
                    "label": label,
                    "level": params.level,
                    "cell_m": params.cell_m,
                    "interrupted": waited,
                    "error": str(exc).strip()[:120],
                }
            )
            print(
                f"  {label}: INTERRUPTED after {waited:.0f} s (limit {timeout:g} s per screen): "
                f"{exc}",
                flush=True,
            )
            continue
        best = min(attempts, key=lambda a: a["total"])
        best = dict(best, label=label, runs=[a["total"] for a in attempts], warmups=n_warm)
        best["peak_rss_max"] = max((a["peak_rss"] or 0) for a in attempts)
        out.append(best)
        print(
            f"  {label}: best {best['total']:.2f} s of {len(attempts)} "
            f"(aggregation {best['aggregation']:.2f} s, statistics {best['statistics']:.2f} s, "
            f"other {best['other']:.2f} s), {best['places']:,} places, "
            f"{best['db_rows']:,} place-month rows from the database, "
            f"peak RSS {best['peak_rss_max'] / 2**20:.0f} MiB",
            flush=True,
        )
    return out


def _timed_screen(params, watch, timeout: float) -> dict:
    from placewise.screening.service import screen

    gc.collect()
    watch.reset()
    rss_before = _status("VmRSS")
    reset = _reset_peak()
    t0 = time.perf_counter()
    result = _guarded(lambda: screen(params), timeout)
    total = time.perf_counter() - t0
    agg = result.timings["database aggregation"]
    stats = result.timings["statistics"]
    return {
        "total": total,
        "aggregation": agg,
        "execute": watch.seconds.get("query: execute", 0.0),
        "fetchall": watch.seconds.get("query: fetchall", 0.0),
        "statistics": stats,
        "other": total - agg - stats,
        "places": len(result.table),
        "hotspots": int(result.table["hotspot"].sum()),
        "db_rows": watch.rows.get("aggregation call", 0),
        "parts": _stat_split(dict(watch.seconds), stats),
        "other_parts": {
            k: watch.seconds.get(k, 0.0) for k in ("window (month list)", "scope", "places query")
        },
        "rss_before": rss_before,
        "peak_rss": _maxrss() if reset else None,
        "peak_hwm": _status("VmHWM") if reset else None,
        "window": f"{result.start:%Y-%m}..{result.end:%Y-%m}",
        "level": params.level,
        "cell_m": params.cell_m,
    }


def _sqlite_analyze() -> float:
    """``PRAGMA analysis_limit=1000; ANALYZE`` (what ``PRAGMA optimize`` runs). Placewise
    itself never runs it: this is a diagnosis, reported apart from the as-is figures."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA analysis_limit=1000")
        cursor.execute("ANALYZE")
    return time.perf_counter() - t0


def _plan(level: str, months: int, cell_m: int = 250) -> list[str]:
    """The database's plan for the screen's aggregation query (no execution)."""
    from django.db import connection

    sql, params = _aggregation_sql(level, cell_m, months)
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return [str(r[-1]) for r in cursor.fetchall()]


def _vacuum_analyze() -> float:
    """PostgreSQL here runs with autovacuum off: do what autovacuum would do after a load."""
    from django.db import connection

    t0 = time.perf_counter()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        autocommit = raw.autocommit
        raw.autocommit = True
        try:
            raw.execute("VACUUM (ANALYZE)")
        finally:
            raw.autocommit = autocommit
    return time.perf_counter() - t0


def _database_bytes() -> int:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
    name = Path(str(connection.settings_dict["NAME"]))
    return sum(
        Path(f"{name}{s}").stat().st_size for s in ("", "-wal") if Path(f"{name}{s}").exists()
    )


# --- A. force scale (real data) -------------------------------------------------------------


def phase_force(args) -> dict:
    _setup(args, "force", fresh=True)
    from bench_pages import load_data

    from placewise.incidents.models import Incident, MonthlyCount
    from placewise.places.models import Area, AreaKind
    from placewise.screening import backtesting
    from placewise.screening.backtesting import BacktestRequest, run_backtest
    from placewise.screening.service import ScreenParams

    version = common.server_versions()
    print(f"{version}; temp folder {args.workdir}; {common.load()}", flush=True)
    print("Loading areas, groups, harm scheme and the 24 Leicestershire months:", flush=True)
    t0 = time.perf_counter()
    steps = load_data()
    load_s = time.perf_counter() - t0
    vacuum_s = _vacuum_analyze()
    facts = {
        "incidents": Incident.objects.count(),
        "monthly_counts": MonthlyCount.objects.count(),
        "lsoas": Area.objects.filter(kind=AreaKind.LSOA).count(),
        "neighbourhoods": Area.objects.filter(kind=AreaKind.NEIGHBOURHOOD).count(),
    }
    print(f"  loaded in {load_s:.1f} s; {facts}", flush=True)
    watch = _screen_watch()
    cases = [
        ("LSOA, Gi*", ScreenParams(level="lsoa", months=24), None),
        ("neighbourhood, Gi*", ScreenParams(level="neighbourhood", months=24), None),
        ("grid 250 m, Gi*", ScreenParams(level="grid", cell_m=250, months=24), None),
        ("grid 500 m, Gi*", ScreenParams(level="grid", cell_m=500, months=24), None),
    ]
    print(f"Timing screens: 1 warm-up then best of {FORCE_RUNS} ({common.load()}):", flush=True)
    screens = time_screens(cases, 1, FORCE_RUNS, watch, args.timeout)

    profiles = _profiles(screens, 24, args.timeout)
    bwatch = Stopwatch()
    bwatch.wrap(backtesting, "place_month_counts", "aggregation", count_rows=True)
    bwatch.wrap(backtesting, "_places", "places", count_rows=True)
    bwatch.wrap(backtesting, "backtest", "methods")
    backtests = []
    print(f"Timing back-tests: 1 warm-up then best of {FORCE_RUNS}:", flush=True)
    for label, level in (("LSOA", "lsoa"), ("grid 250 m", "grid")):
        req = BacktestRequest(
            level=level,
            test_from=dt.date(2020, 12, 1),
            test_to=dt.date(2021, 11, 1),
            train_months=12,
            cell_m=250,
        )
        run_backtest(req)
        attempts = []
        for _ in range(FORCE_RUNS):
            bwatch.reset()
            t0 = time.perf_counter()
            result = run_backtest(req)
            total = time.perf_counter() - t0
            attempts.append(
                {
                    "total": total,
                    "aggregation": bwatch.seconds["aggregation"],
                    "places_s": bwatch.seconds["places"],
                    "methods": bwatch.seconds["methods"],
                    "places": bwatch.rows["places"],
                    "db_rows": bwatch.rows["aggregation"],
                    "suggested": result.suggested,
                    "n_methods": int(result.table["method"].nunique()),
                }
            )
        best = min(attempts, key=lambda a: a["total"])
        best.update(label=f"run_backtest {label}", runs=[a["total"] for a in attempts])
        backtests.append(best)
        print(
            f"  run_backtest {label}: best {best['total']:.2f} s (aggregation "
            f"{best['aggregation']:.2f} s, places {best['places_s']:.2f} s, methods "
            f"{best['methods']:.2f} s), {best['places']:,} places, {best['n_methods']} methods, "
            f"suggested {best['suggested']}",
            flush=True,
        )
    analyzed = None
    if args.database == "sqlite":
        plan = _plan("neighbourhood", 24)
        analyze_s = _sqlite_analyze()
        print(
            f"Diagnosis, not Placewise as it is: SQLite ANALYZE (analysis_limit=1000) took "
            f"{analyze_s:.2f} s; the neighbourhood screen again:",
            flush=True,
        )
        label = "neighbourhood, Gi* - after ANALYZE (diagnosis)"
        params = ScreenParams(level="neighbourhood", months=24)
        analyzed = {
            "analyze_s": analyze_s,
            "plan_before": plan,
            "plan_after": _plan("neighbourhood", 24),
            "screens": time_screens([(label, params, None)], 1, FORCE_RUNS, watch, args.timeout),
        }
        for when in ("before", "after"):
            print(f"  neighbourhood plan {when} ANALYZE: " + " | ".join(analyzed[f"plan_{when}"]))
    return {
        "database": args.database,
        "version": version,
        "load_s": load_s,
        "load_steps": steps,
        "vacuum_s": vacuum_s,
        "facts": facts,
        "screens": screens,
        "backtests": backtests,
        "profiles": profiles,
        "analyzed": analyzed,
        "load_after": common.load(),
    }


# --- B. national scale (SYNTHETIC data) -----------------------------------------------------


def _hilbert(x, y, order: int = 16):
    """Position along a Hilbert curve of whole-number coordinates in [0, 2**order)."""
    import numpy as np

    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    n = 1 << order
    d = np.zeros(x.shape, dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = ((x & s) > 0).astype(np.int64)
        ry = ((y & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        flip = (ry == 0) & (rx == 1)
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        swap = ry == 0
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return d


def synthetic_geography(n_areas: int, rng) -> dict:
    """SYNTHETIC LSOAs: Voronoi cells of clustered seeds, with people, deciles and map points."""
    import numpy as np
    import shapely

    from placewise.analysis.grid import BRITISH_NATIONAL_GRID, WGS84, _transformer

    x0, y0, x1, y1 = BOX
    n_towns = 150
    tx = rng.uniform(x0 + 20_000, x1 - 20_000, n_towns)
    ty = rng.uniform(y0 + 20_000, y1 - 20_000, n_towns)
    size = np.minimum(rng.pareto(1.0, n_towns) + 1, 60)
    m = int(n_areas * 1.3)
    urban = rng.random(m) < 0.82
    town = rng.choice(n_towns, m, p=size / size.sum())
    spread = np.sqrt(size[town]) * 1200
    x = np.where(urban, tx[town] + rng.normal(0, 1, m) * spread, rng.uniform(x0, x1, m))
    y = np.where(urban, ty[town] + rng.normal(0, 1, m) * spread, rng.uniform(y0, y1, m))
    inside = (x > x0) & (x < x1) & (y > y0) & (y < y1)
    x, y, urban, town = np.round(x[inside]), np.round(y[inside]), urban[inside], town[inside]
    _, first = np.unique(np.column_stack([x, y]), axis=0, return_index=True)
    keep = np.sort(first)[:n_areas]
    if len(keep) < n_areas:
        raise SystemExit(f"only {len(keep)} distinct synthetic seeds; ask for fewer areas")
    x, y, urban, town = x[keep], y[keep], urban[keep], town[keep]
    frame = shapely.box(x0, y0, x1, y1)
    cells = shapely.voronoi_polygons(
        shapely.multipoints(shapely.points(x, y)), extend_to=frame, ordered=True
    )
    polys = shapely.intersection(np.asarray(shapely.get_parts(cells)), frame)

    # police.uk-like anonymous map points: POINTS_PER_AREA per area, inside it, with
    # unequal popularity (a town-centre street gets far more than a cul-de-sac).
    k = POINTS_PER_AREA
    px = np.empty((n_areas, k))
    py = np.empty((n_areas, k))
    todo = np.arange(n_areas)
    tries = 80
    while todo.size:
        bounds = shapely.bounds(polys[todo])
        cx = bounds[:, [0]] + rng.random((todo.size, tries)) * (bounds[:, [2]] - bounds[:, [0]])
        cy = bounds[:, [1]] + rng.random((todo.size, tries)) * (bounds[:, [3]] - bounds[:, [1]])
        hit = shapely.contains_xy(np.repeat(polys[todo], tries).reshape(todo.size, tries), cx, cy)
        enough = hit.sum(axis=1) >= k
        pick = np.argsort(~hit, axis=1, kind="stable")[:, :k]
        px[todo[enough]] = np.take_along_axis(cx, pick, 1)[enough]
        py[todo[enough]] = np.take_along_axis(cy, pick, 1)[enough]
        todo, tries = todo[~enough], tries * 4
    px, py = np.round(px), np.round(py)
    to_wgs = _transformer(BRITISH_NATIONAL_GRID, WGS84)
    lon, lat = to_wgs.transform(px.ravel(), py.ravel())
    point_weights = rng.gamma(0.6, 1.0, (n_areas, k))
    point_cum = np.cumsum(point_weights, axis=1)
    point_cum /= point_cum[:, [-1]]

    # Boundaries in WGS84, rounded to 6 decimals (shared vertices stay shared).
    def to_lonlat(xy):
        lo, la = to_wgs.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lo, la]), 6)

    geoms = shapely.transform(polys, to_lonlat)
    # Deprivation: more deprived in towns; IMD decile 1 = most deprived tenth.
    latent = rng.normal(0, 1, n_areas) + 0.6 * urban
    imd_rank = np.empty(n_areas, dtype=np.int64)
    imd_rank[np.argsort(-latent, kind="stable")] = np.arange(1, n_areas + 1)
    imd_decile = (imd_rank - 1) * 10 // n_areas + 1
    # Incident rates: gamma-distributed, higher where deprived, town centres much higher.
    rate = rng.gamma(0.9, 1 / 0.9, n_areas) * np.exp(0.25 * (5.5 - imd_decile))
    centre = np.full(n_towns, -1)
    dist = (x - tx[town]) ** 2 + (y - ty[town]) ** 2
    for t in np.flatnonzero(np.bincount(town[urban], minlength=n_towns)):
        members = np.flatnonzero(urban & (town == t))
        centre[t] = members[np.argmin(dist[members])]
    rate[centre[centre >= 0]] *= 12 * np.sqrt(size[centre >= 0])
    crime_rank = np.empty(n_areas, dtype=np.int64)
    crime_rank[np.argsort(-rate, kind="stable")] = np.arange(1, n_areas + 1)
    # Neighbourhoods: LSOAS_PER_NEIGHBOURHOOD consecutive areas along a Hilbert curve.
    scale = ((1 << 16) - 1) / max(x1 - x0, y1 - y0)
    order = np.argsort(_hilbert((x - x0) * scale, (y - y0) * scale), kind="stable")
    neighbourhood = np.empty(n_areas, dtype=np.int64)
    neighbourhood[order] = np.arange(n_areas) // LSOAS_PER_NEIGHBOURHOOD
    shares = np.array(list(CATEGORY_SHARES.values()))
    mix = rng.dirichlet(60 * shares / shares.sum(), n_areas)  # each area's own category mix
    return {
        "geoms": geoms,
        "population": np.clip(np.round(rng.normal(1_550, 230, n_areas)), 1000, 3000),
        "imd_rank": imd_rank,
        "imd_decile": imd_decile,
        "crime_rank": crime_rank,
        "crime_decile": (crime_rank - 1) * 10 // n_areas + 1,
        "rate": rate,
        "trend": rng.normal(0, 0.006, n_areas),  # log change a month
        "neighbourhood": neighbourhood,
        "mix": mix,
        "easting": px.astype(np.int64),
        "northing": py.astype(np.int64),
        "lon": np.round(lon, 6).reshape(n_areas, k),
        "lat": np.round(lat, 6).reshape(n_areas, k),
        "point_cum": point_cum,
        "area_km2": shapely.area(polys) / 1e6,
        "cells_250": len(np.unique((px // 250) * 10_000 + py // 250)),
    }


def insert_synthetic_areas(geo: dict) -> dict:
    """Bulk-create the SYNTHETIC LSOAs, neighbourhoods, the force and the memberships."""
    import numpy as np
    import shapely
    from django.db import transaction

    from placewise.places.models import Area, AreaKind, AreaMembership

    geoms = geo["geoms"]
    n = len(geoms)
    codes = [f"{SYN_PREFIX}{i + 1:06d}" for i in range(n)]
    texts = shapely.to_geojson(geoms)
    bounds = shapely.bounds(geoms)
    points = shapely.get_coordinates(shapely.point_on_surface(geoms))
    n_groups = int(geo["neighbourhood"].max()) + 1
    members = [[] for _ in range(n_groups)]
    for i, g in enumerate(geo["neighbourhood"].tolist()):
        members[g].append(i)
    unions = [shapely.union_all(geoms[m]) for m in members]
    group_bounds = shapely.bounds(unions)
    group_points = shapely.get_coordinates(shapely.point_on_surface(unions))
    population = geo["population"].astype(int).tolist()
    with transaction.atomic():
        lsoas = [
            Area(
                kind=AreaKind.LSOA,
                code=codes[i],
                name=f"Synthetic LSOA {i + 1:06d}",
                vintage="2011",
                geometry=texts[i],
                min_lon=bounds[i, 0],
                min_lat=bounds[i, 1],
                max_lon=bounds[i, 2],
                max_lat=bounds[i, 3],
                centroid_lon=points[i, 0],
                centroid_lat=points[i, 1],
                centroid_source="synthetic",
                population=population[i],
                population_source="synthetic",
                imd_rank=int(geo["imd_rank"][i]),
                imd_decile=int(geo["imd_decile"][i]),
                crime_rank=int(geo["crime_rank"][i]),
                crime_decile=int(geo["crime_decile"][i]),
                deprivation_source="synthetic",
            )
            for i in range(n)
        ]
        Area.objects.bulk_create(lsoas, batch_size=2000)
        force = Area.objects.create(
            kind=AreaKind.FORCE,
            code=SYN_FORCE_CODE,
            name=SYN_FORCE,
            force_name=SYN_FORCE,
            population=int(sum(population)),
            population_source="sum of LSOAs",
        )
        groups = [
            Area(
                kind=AreaKind.NEIGHBOURHOOD,
                code=f"{SYN_PREFIX}-NBH-{g + 1:05d}",
                name=f"Synthetic neighbourhood {g + 1:05d}",
                parent=force,
                geometry=shapely.to_geojson(unions[g]),
                min_lon=group_bounds[g, 0],
                min_lat=group_bounds[g, 1],
                max_lon=group_bounds[g, 2],
                max_lat=group_bounds[g, 3],
                centroid_lon=group_points[g, 0],
                centroid_lat=group_points[g, 1],
                population=int(sum(population[i] for i in members[g])),
                population_source="sum of LSOAs",
            )
            for g in range(n_groups)
        ]
        Area.objects.bulk_create(groups, batch_size=2000)
        ids = dict(Area.objects.filter(kind=AreaKind.LSOA).values_list("code", "id"))
        group_ids = dict(Area.objects.filter(kind=AreaKind.NEIGHBOURHOOD).values_list("code", "id"))
        links = [AreaMembership(group_id=force.pk, lsoa_id=ids[c]) for c in codes]
        for g, rows in enumerate(members):
            group_id = group_ids[f"{SYN_PREFIX}-NBH-{g + 1:05d}"]
            links += [AreaMembership(group_id=group_id, lsoa_id=ids[codes[i]]) for i in rows]
        AreaMembership.objects.bulk_create(links, batch_size=5000)
    multi = sum(1 for u in unions if u.geom_type != "Polygon")
    return {
        "lsoas": n,
        "neighbourhoods": n_groups,
        "memberships": len(links),
        "neighbourhoods_not_one_polygon": multi,
        "vertices_per_lsoa": float(np.mean(shapely.get_num_coordinates(geoms))),
        "area_km2_median": float(np.median(geo["area_km2"])),
        "area_km2_p90": float(np.percentile(geo["area_km2"], 90)),
        "cells_250_with_points": int(geo["cells_250"]),
    }


def _months(first: dt.date, count: int) -> list[dt.date]:
    out = []
    for i in range(count):
        y, m = divmod(first.month - 1 + i, 12)
        out.append(dt.date(first.year + y, m + 1, 1))
    return out


def load_synthetic_incidents(geo: dict, months: list[dt.date], per_year: int, rng) -> dict:
    """SYNTHETIC incidents month by month: Incident rows, MonthlyCount rows, DataSlices."""
    import numpy as np
    from django.db import transaction

    from placewise.incidents.importer import INCIDENT_COLUMNS, bulk_insert
    from placewise.incidents.models import DataSlice, ImportRun, Incident, MonthlyCount

    n_areas = len(geo["rate"])
    codes = np.array([f"{SYN_PREFIX}{i + 1:06d}" for i in range(n_areas)], dtype=object)
    categories = np.array(list(CATEGORY_SHARES), dtype=object)
    per_month = per_year / 12
    # Mild seasonality (summer peak) and a small per-area trend around the window's middle.
    season = {m: 1 + 0.08 * np.cos(2 * np.pi * (m.month - 7) / 12) for m in months}
    middle = (len(months) - 1) / 2
    incident_table, count_table = Incident._meta.db_table, MonthlyCount._meta.db_table
    count_columns = ("force", "month", "lsoa_code", "category", "n")
    run = ImportRun.objects.create(
        source="bench-synthetic",
        status=ImportRun.Status.RUNNING,
        inputs=["SYNTHETIC national data from bench/bench_screening.py"],
        forces=[SYN_FORCE],
    )
    totals = {"incidents": 0, "monthly_counts": 0, "incident_s": 0.0, "count_s": 0.0}
    slices = []
    started = time.perf_counter()
    for i, month in enumerate(months):
        t_month = time.perf_counter()
        iso = month.isoformat()
        lam = geo["rate"] * season[month] * np.exp(geo["trend"] * (i - middle))
        lam *= per_month / (geo["rate"] * np.exp(geo["trend"] * (i - middle))).sum()
        by_area = rng.poisson(lam)
        by_cat = rng.multinomial(by_area, geo["mix"])
        area_ix, cat_ix = np.nonzero(by_cat)
        n = by_cat[area_ix, cat_ix]
        # Incidents: one row per incident at one of its area's map points, in random order.
        inc_area = np.repeat(area_ix, n)
        inc_cat = np.repeat(cat_ix, n)
        u = rng.random(inc_area.size)
        point = (u[:, None] > geo["point_cum"][inc_area]).sum(axis=1)
        shuffle = rng.permutation(inc_area.size)
        inc_area, inc_cat, point = inc_area[shuffle], inc_cat[shuffle], point[shuffle]
        with transaction.atomic():
            t0 = time.perf_counter()
            for start in range(0, inc_area.size, INSERT_BATCH):
                a = inc_area[start : start + INSERT_BATCH]
                p = point[start : start + INSERT_BATCH]
                rows = list(
                    zip(
                        repeat(None),  # import_run_id
                        repeat(SYN_FORCE),  # force
                        repeat(iso),  # month
                        repeat(""),  # crime_id
                        repeat(SYN_FORCE),  # reported_by
                        geo["lon"][a, p].tolist(),
                        geo["lat"][a, p].tolist(),
                        repeat(""),  # location
                        codes[a].tolist(),  # lsoa_code
                        repeat(""),  # lsoa_name
                        repeat("2011"),  # lsoa_vintage
                        categories[inc_cat[start : start + INSERT_BATCH]].tolist(),
                        repeat(""),  # outcome
                        repeat(""),  # context
                        geo["easting"][a, p].tolist(),
                        geo["northing"][a, p].tolist(),
                    )
                )
                bulk_insert(incident_table, INCIDENT_COLUMNS, rows)
                del rows
            t1 = time.perf_counter()
            order = rng.permutation(area_ix.size)  # the importer writes in order of first sight
            counts = list(
                zip(
                    repeat(SYN_FORCE),
                    repeat(iso),
                    codes[area_ix[order]].tolist(),
                    categories[cat_ix[order]].tolist(),
                    n[order].tolist(),
                )
            )
            bulk_insert(count_table, count_columns, counts)
            t2 = time.perf_counter()
        totals["incident_s"] += t1 - t0
        totals["count_s"] += t2 - t1
        totals["incidents"] += int(inc_area.size)
        totals["monthly_counts"] += len(counts)
        slices.append(DataSlice(force=SYN_FORCE, month=month, import_run=run, rows=inc_area.size))
        elapsed = time.perf_counter() - started
        print(
            f"  SYNTHETIC {iso[:7]}: {inc_area.size:,} incidents ({inc_area.size / (t1 - t0):,.0f}"
            f" rows/s), {len(counts):,} MonthlyCount rows ({len(counts) / (t2 - t1):,.0f} rows/s),"
            f" month {time.perf_counter() - t_month:.1f} s; total {totals['incidents']:,} in "
            f"{elapsed:.0f} s ({totals['incidents'] / elapsed:,.0f} incidents/s overall)",
            flush=True,
        )
        del counts
    DataSlice.objects.bulk_create(slices)
    run.status = ImportRun.Status.SUCCEEDED
    run.rows_read = run.rows_imported = totals["incidents"]
    run.months = [m.isoformat()[:7] for m in months]
    run.notes = ["SYNTHETIC data for the national screening benchmark"]
    run.save()
    totals["generate_and_write_s"] = time.perf_counter() - started
    return totals


def phase_national_load(args) -> dict:
    import numpy as np

    _setup(args, "national", fresh=True)
    from django.db import connection

    from placewise.incidents.actions import do_seed_harm_scheme

    version = common.server_versions()
    print(f"{version}; temp folder {args.workdir}; {common.load()}", flush=True)
    rng = np.random.default_rng(SEED)
    do_seed_harm_scheme()
    t0 = time.perf_counter()
    geo = synthetic_geography(args.national_areas, rng)
    geo_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    areas = insert_synthetic_areas(geo)
    areas_s = time.perf_counter() - t0
    print(f"  SYNTHETIC areas: generated in {geo_s:.1f} s, written in {areas_s:.1f} s: {areas}")
    months = _months(SYN_FIRST_MONTH, args.national_months)
    print(
        f"  SYNTHETIC incidents: {len(months)} months at {args.national_per_year:,} a year "
        f"(batches of {INSERT_BATCH:,}; {connection.vendor}):",
        flush=True,
    )
    totals = load_synthetic_incidents(geo, months, args.national_per_year, rng)
    vacuum_s = _vacuum_analyze()
    with connection.cursor() as cursor:  # the summary must match the incidents
        cursor.execute("SELECT COUNT(*) FROM incidents_incident")
        stored = cursor.fetchone()[0]
        cursor.execute("SELECT SUM(n), COUNT(*) FROM incidents_monthlycount")
        summed, count_rows = cursor.fetchone()
    size = _database_bytes()
    print(
        f"  stored: {stored:,} SYNTHETIC incidents, {count_rows:,} MonthlyCount rows summing "
        f"to {summed:,}"
        + (f"; VACUUM ANALYZE {vacuum_s:.1f} s" if connection.vendor == "postgresql" else "")
        + f"; database {size / 2**30:.2f} GiB",
        flush=True,
    )
    return {
        "database": args.database,
        "version": version,
        "areas": areas,
        "geography_s": geo_s,
        "areas_s": areas_s,
        "months": [months[0].isoformat()[:7], months[-1].isoformat()[:7], len(months)],
        "per_year": args.national_per_year,
        "totals": totals,
        "vacuum_s": vacuum_s,
        "stored_incidents": stored,
        "count_rows": count_rows,
        "count_sum": summed,
        "db_bytes": size,
        "load_after": common.load(),
    }


def _aggregation_sql(level: str, cell_m: int, months: int) -> tuple[str, list]:
    """The SQL and parameters ``place_month_counts`` runs for a default screen."""
    from placewise.incidents.models import ASB
    from placewise.places.stats import default_scheme
    from placewise.screening import aggregate
    from placewise.screening.service import ScreenParams, resolve_scope, window

    params = ScreenParams(level=level, cell_m=cell_m, months=months)
    scope = resolve_scope(params)
    start, end = window(params, scope.force_name)
    harm_sql, harm_params = aggregate._harm_case(default_scheme().weights())
    build = {"lsoa": aggregate._lsoa_sql, "neighbourhood": aggregate._group_sql}
    if level == "grid":
        sql, rest = aggregate._grid_sql(harm_sql, start, end, scope, (), cell_m)
    else:
        sql, rest = build[level](harm_sql, start, end, scope, ())
    return sql, [*harm_params, ASB, *rest]


def _explain_analyze(level: str, cell_m: int, months: int, timeout: float) -> dict:
    """PostgreSQL's own execution time for the screen's aggregation query, and the part of it
    spent compiling with JIT (EXPLAIN ANALYZE: the query runs, no rows are sent). The harm
    weights go in as double precision, as Placewise sends them."""
    from django.db import DatabaseError, connection

    sql, params = _aggregation_sql(level, cell_m, months)
    out: dict = {}

    def explain():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE) " + sql, params)
            plan = [r[0] for r in cursor.fetchall()]
        out["plan"] = plan
        for line in plan:
            text = line.strip()
            if text.startswith("Execution Time:"):
                out["server_ms"] = float(text.split()[2])
            if text.startswith("Timing:") and "Total" in text:
                out["jit_ms"] = float(text.split("Total")[1].split()[0])

    try:
        _guarded(explain, timeout)
    except DatabaseError as exc:
        out["error"] = str(exc).strip()[:120]
    return out


def _profiles(screens: list[dict], months: int, timeout: float) -> dict:
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    print("EXPLAIN ANALYZE of each aggregation query (one run each):", flush=True)
    out = {}
    for s in screens:
        if "interrupted" in s or (s["level"] == "grid" and s["cell_m"] == 250 and months > 24):
            continue  # the national grid 250 m query is the grid 1000 m one with more groups
        cell = s["cell_m"] if s["level"] == "grid" else 250
        out[s["label"]] = prof = _explain_analyze(s["level"], cell, months, timeout)
        print(f"  {s['label']}: {_profile_text(prof)}", flush=True)
    return out


def _profile_text(prof: dict) -> str:
    if "error" in prof:
        return f"stopped: {prof['error']}"
    text = f"execution {prof.get('server_ms', float('nan')) / 1000:.2f} s"
    if "jit_ms" in prof:
        text += f", of which JIT compilation {prof['jit_ms'] / 1000:.2f} s"
    top = [line.strip() for line in prof["plan"] if "->" in line or "Aggregate" in line]
    return text + ("; top: " + " | ".join(top[:4]) if top else "")


def _national_cases(months: int, suffix: str = "") -> list:
    from placewise.screening.service import ScreenParams

    label = "SYNTHETIC national, {}, Gi*" + suffix
    return [
        (label.format("LSOA"), ScreenParams(level="lsoa", months=months), None),
        (label.format("neighbourhood"), ScreenParams(level="neighbourhood", months=months), None),
        (
            label.format("grid 1000 m"),
            ScreenParams(level="grid", cell_m=1000, months=months),
            None,
        ),
    ]


def _print_plans(months: int, when: str) -> dict:
    plans = {}
    for level, cell in (("lsoa", 0), ("neighbourhood", 0), ("grid", 1000)):
        plans[f"{level} {cell or ''}".strip()] = plan = _plan(level, months, cell or 250)
        print(f"  plan {when}, {level} {cell or ''}:".replace(" :", ":"), flush=True)
        for line in plan[:14]:
            print(f"      {line}", flush=True)
    return plans


def phase_national_screen(args) -> dict:
    _setup(args, "national", fresh=False)
    from django.db import connection

    from placewise.screening.service import ScreenParams

    version = common.server_versions()
    months = args.national_months
    print(f"{version}; fresh interpreter; {common.load()}", flush=True)
    watch = _screen_watch()
    plans = {"as is": _print_plans(months, "as is")}
    gc.collect()
    start_rss = _status("VmRSS")
    print(
        f"Timing screens: 1 warm-up then best of {args.national_runs}, at most "
        f"{args.timeout:g} s a screen (RSS of this interpreter before: "
        f"{start_rss / 2**20:.0f} MiB; {common.load()}):",
        flush=True,
    )
    screens = time_screens(_national_cases(months), 1, args.national_runs, watch, args.timeout)
    label = "SYNTHETIC national, grid 250 m, Gi* (one run, no warm-up)"
    params = ScreenParams(level="grid", cell_m=250, months=months)
    screens += time_screens([(label, params, 1)], 0, 1, watch, args.timeout)
    profiles = _profiles(screens, months, args.timeout)
    analyzed = None
    if connection.vendor == "sqlite":
        analyze_s = _sqlite_analyze()
        print(
            f"Diagnosis, not Placewise as it is: SQLite ANALYZE (analysis_limit=1000) took "
            f"{analyze_s:.2f} s; plans after it, and the neighbourhood screen again:",
            flush=True,
        )
        plans["after ANALYZE"] = _print_plans(months, "after ANALYZE")
        label = "SYNTHETIC national, neighbourhood, Gi* - after ANALYZE (diagnosis; one run)"
        params = ScreenParams(level="neighbourhood", months=months)
        analyzed = {
            "analyze_s": analyze_s,
            "screens": time_screens([(label, params, 1)], 0, 1, watch, args.timeout),
        }
    return {
        "database": args.database,
        "version": version,
        "start_rss": start_rss,
        "screens": screens,
        "profiles": profiles,
        "plans": plans,
        "analyzed": analyzed,
        "timeout": args.timeout,
        "load_after": common.load(),
    }


PHASES = {
    "force": phase_force,
    "national-load": phase_national_load,
    "national-screen": phase_national_screen,
}


# --- report ---------------------------------------------------------------------------------


def _aim(seconds: float, aim: float) -> str:
    return f"under {aim:g} s" if seconds < aim else f"OVER {aim:g} s"


def _all_screens(r: dict) -> list[dict]:
    return r["screens"] + (r["analyzed"]["screens"] if r.get("analyzed") else [])


def _screen_row(db: str, s: dict, aim: float, prof: dict | None = None) -> list:
    if "interrupted" in s:
        gone = f"INTERRUPTED after {s['interrupted']:.0f} s"
        return [db, s["label"], "", "", gone, *[""] * 7, f"OVER {aim:g} s"]
    prof = prof if prof and "server_ms" in prof else {}
    d = 3 if aim < 10 else 2
    frame = s["aggregation"] - s["execute"] - s["fetchall"]
    server = ""
    if prof:
        server = f"{prof['server_ms'] / 1000:.{d}f}"
        server += f" (JIT {prof['jit_ms'] / 1000:.{d}f})" if "jit_ms" in prof else ""
    return [
        db,
        s["label"],
        f"{s['places']:,}",
        f"{s['db_rows']:,}",
        f"{s['total']:.{d}f}",
        f"{s['aggregation']:.{d}f}",
        f"{s['execute']:.{d}f} / {s['fetchall']:.{d}f} / {frame:.{d}f}",
        server,
        f"{s['statistics']:.{d}f}",
        f"{s['other']:.{d}f}",
        f"{s['peak_rss_max'] / 2**20:,.0f}",
        " ".join(f"{t:.2f}" for t in s["runs"]),
        _aim(s["total"], aim),
    ]


SCREEN_HEADERS = [
    "database",
    "case",
    "places",
    "DB rows",
    "best s",
    "db aggregation s",
    "= execute / fetchall / DataFrame",
    "EXPLAIN ANALYZE s",
    "statistics s",
    "other s",
    "peak RSS MiB",
    "all runs s",
    "aim",
]
SCREEN_NOTES = (
    "DB rows = place-month rows the aggregation query returns to Python. db aggregation = "
    "the screen's own timing, split into cursor.execute, cursor.fetchall and building the "
    "DataFrame (on PostgreSQL execute waits for the whole result, fetchall converts it to "
    "Python objects; SQLite computes its GROUP BY while rows are fetched, so there fetchall "
    "holds most of the database's work). EXPLAIN ANALYZE = PostgreSQL's own execution time "
    "of the same query in a separate run (JIT compilation inside it). other = the screen "
    "outside its two timings (month list, scope, places query). peak RSS = ru_maxrss with "
    "the high-water mark reset just before each screen."
)


def report(results: dict, args) -> None:
    print("\n" + "=" * 100)
    print(f"Screening speed; {results['machine']}; now {common.load()}")
    print(f"whole run {results['wall_s'] / 60:.1f} min")
    print(SCREEN_NOTES)
    force = {db: r for db, r in results["force"].items() if r}
    if force:
        print(
            f"\nA. Force scale, real data: Leicestershire, 24 police.uk months; "
            f"1 warm-up then best of {FORCE_RUNS}. Aim: a screen in under {AIM_FORCE_S:g} s."
        )
        for db, r in force.items():
            f = r["facts"]
            print(
                f"{db}: {r['version']}; {f['incidents']:,} incidents, "
                f"{f['monthly_counts']:,} MonthlyCount rows, {f['lsoas']} LSOAs, "
                f"{f['neighbourhoods']} neighbourhoods; loaded in {r['load_s']:.1f} s"
                + (f"; VACUUM ANALYZE {r['vacuum_s']:.1f} s" if db == "postgres" else "")
            )
        rows = [
            _screen_row(db, s, AIM_FORCE_S, r["profiles"].get(s["label"]))
            for db, r in force.items()
            for s in _all_screens(r)
        ]
        print(common.table(SCREEN_HEADERS, rows, right=set(range(2, 12))))
        headers = ["database", "back-test (all methods, 12 test months, train 12)", "places"]
        headers += ["DB rows", "best s", "db aggregation s", "methods s", "places s", "runs s"]
        rows = [
            [
                db,
                f"{b['label']} ({b['n_methods']} methods)",
                f"{b['places']:,}",
                f"{b['db_rows']:,}",
                f"{b['total']:.3f}",
                f"{b['aggregation']:.3f}",
                f"{b['methods']:.3f}",
                f"{b['places_s']:.3f}",
                " ".join(f"{t:.2f}" for t in b["runs"]),
            ]
            for db, r in force.items()
            for b in r["backtests"]
        ]
        print(common.table(headers, rows, right=set(range(2, 8))))
        _split_table(force, "force")
    national = {db: r for db, r in results["national"].items() if r and r.get("load")}
    if national:
        print(
            "\nB. National scale, SYNTHETIC data (not real police.uk records). "
            f"Aim: a screen in under {AIM_NATIONAL_S:g} s, aggregated by the database."
        )
        headers = ["database", "SYNTHETIC load", "rows", "seconds", "rows/s", "note"]
        rows = []
        for db, r in national.items():
            ld, t = r["load"], r["load"]["totals"]
            span = f"{ld['months'][2]} months {ld['months'][0]}..{ld['months'][1]}"
            rows += [
                [
                    db,
                    f"Incident ({span})",
                    f"{t['incidents']:,}",
                    f"{t['incident_s']:.1f}",
                    f"{t['incidents'] / t['incident_s']:,.0f}",
                    "bulk_insert calls only",
                ],
                [
                    db,
                    "MonthlyCount",
                    f"{t['monthly_counts']:,}",
                    f"{t['count_s']:.1f}",
                    f"{t['monthly_counts'] / t['count_s']:,.0f}",
                    "bulk_insert calls only",
                ],
                [
                    db,
                    "generate + write incidents, all months",
                    f"{t['incidents']:,}",
                    f"{t['generate_and_write_s']:.1f}",
                    f"{t['incidents'] / t['generate_and_write_s']:,.0f}",
                    f"+ areas {ld['geography_s'] + ld['areas_s']:.1f} s"
                    + (f", VACUUM ANALYZE {ld['vacuum_s']:.1f} s" if db == "postgres" else "")
                    + f"; database {ld['db_bytes'] / 2**30:.2f} GiB",
                ],
            ]
        print(common.table(headers, rows, right={2, 3, 4}))
        for db, r in national.items():
            ld = r["load"]
            print(
                f"{db}: stored {ld['stored_incidents']:,} SYNTHETIC incidents, "
                f"{ld['count_rows']:,} MonthlyCount rows summing to {ld['count_sum']:,}"
            )
            a = ld["areas"]
            print(
                f"{db}: SYNTHETIC areas: {a['lsoas']:,} LSOAs (median {a['area_km2_median']:.2f} "
                f"km², 90th percentile {a['area_km2_p90']:.1f} km², {a['vertices_per_lsoa']:.1f} "
                f"vertices each), {a['neighbourhoods']:,} neighbourhoods "
                f"({a['neighbourhoods_not_one_polygon']:,} not a single polygon), "
                f"{a['memberships']:,} memberships, {a['cells_250_with_points']:,} 250 m cells "
                f"hold a map point"
            )
        screened = {db: r["screens"] for db, r in national.items() if r.get("screens")}
        rows = [
            _screen_row(db, s, AIM_NATIONAL_S, r["profiles"].get(s["label"]))
            for db, r in screened.items()
            for s in _all_screens(r)
        ]
        if rows:
            print(common.table(SCREEN_HEADERS, rows, right=set(range(2, 12))))
            for db, r in screened.items():
                note = ""
                if r["analyzed"]:
                    note = f"; SQLite ANALYZE took {r['analyzed']['analyze_s']:.2f} s"
                print(
                    f"{db}: RSS of the screening interpreter before the first screen "
                    f"{r['start_rss'] / 2**20:.0f} MiB; a screen still running after "
                    f"{r['timeout']:g} s is interrupted{note}"
                )
            _split_table(screened, "national")


def _split_table(results: dict, scale: str) -> None:
    print(f"\nInside the best {scale} screens (seconds):")
    names = [
        "pivot, reindex, joins",
        "trend_table",
        "seasonal_strength_table",
        "hotspots: geometry parsing / cell ring",
        "neighbours",
        "getis_ord_gi_star",
        "score",
    ]
    other = ["window (month list)", "places query"]
    headers = ["database", "case", *names, *[f"other: {o}" for o in other]]
    rows = []
    for db, r in results.items():
        for s in _all_screens(r):
            if "interrupted" in s:
                continue
            rows.append(
                [db, s["label"]]
                + [f"{s['parts'][n]:.3f}" for n in names]
                + [f"{s['other_parts'][o]:.3f}" for o in other]
            )
    print(common.table(headers, rows))
    print(
        "(statistics = the first seven columns; neighbours = contiguity_neighbours for areas, "
        "grid_neighbours for grid cells; the rest of hotspots is parsing the GeoJSON for areas "
        "and building the ring of zero cells for grids)"
    )


if __name__ == "__main__":
    main()
