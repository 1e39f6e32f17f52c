"""Project pages with SYNTHETIC casework: list, detail, network, report and home pages.

Loads a fresh bench database with what ``load_demo`` loads for places (harm scheme, the four
bundled Leicestershire area files: LSOA boundaries, centroids, population, deprivation; the
demo groups CSV) and the 12 bundled police.uk months (2020-12..2021-11), so that the
"progress in the place" figures on project pages are computed as in a real install. Then it
generates SYNTHETIC casework (every title says so):

* 10 synthetic teams (one per demo unit, the tenth sharing Leicester UA), each with 6
  officers and 1 supervisor, plus 10 partners;
* 500 projects, 50 per team, over the force's LSOAs, with their template's steps (5 opened
  with ``do_open_project``, the rest with ``bulk_create``); start dates within the 12 data
  months, as ``load_demo``'s own demo projects;
* 20,000 actions (owners from the project's members, about 1 in 8 overdue, 1 in 3 with a
  data measure), 10,000 stakeholders with about 2 relationships each, 2,500 assets, 2,000
  observations, 1,000 escalations, 250 reviews and 500 meetings.

The bench officer is a member of 20 projects (lead of 10) and their team has 50; the bench
supervisor supervises that team (a member of 5 projects, lead of none). Two of the officer's
projects are measured: a LARGE one (200 actions, 100 stakeholders, 20 assets, 10
escalations, 3 reviews) and a SMALL one (10 actions, 10 stakeholders), with the same share
of actions carrying a data measure.

With the Django test client signed in as each user it requests the project list (scope
mine, team, all; sort by last activity and by dose; page 1 of 50 rows), the detail, network
and report pages of both projects, and the home page: 5 warm-ups then 50 timed requests each,
median and p95 (nearest rank) in ms, body bytes and SQL queries per request
(``CaptureQueriesContext``). The query counts of the SMALL and LARGE project's pages are
compared: equal counts mean the queries stay bounded as a project grows; when they differ,
each query shape that grows is printed with the relation it reads and the Placewise code
that runs it.

Aim: p95 under 300 ms for every page, and the same number of queries for a small and a
large project.

    .venv/bin/python bench/bench_projects.py [--database sqlite|postgres|both]   (default sqlite)

PostgreSQL uses its own database, placewise_bench_projects (or $BENCH_PG_DB), dropped and
created again, and dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import random
import re
import statistics
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from pathlib import Path

import _common as common

common.PG_BENCH_DB = os.environ.get("BENCH_PG_DB", "placewise_bench_projects")

WARMUP = 5
TIMED = 50
AIM_MS = 300.0
SEED = 20261123

TEAMS = 10
PROJECTS_PER_TEAM = 50
OFFICERS_PER_TEAM = 6
PARTNERS = 10
PROJECTS = TEAMS * PROJECTS_PER_TEAM
ACTIONS = 20_000
STAKEHOLDERS = 10_000
LINKS_PER_STAKEHOLDER = 2
ASSETS = 2_500
OBSERVATIONS = 2_000
ESCALATIONS = 1_000
REVIEWS = 250
MEETINGS = 500
OPENED_WITH_ACTION = 5  # projects opened through do_open_project; the rest bulk_create

# The two measured projects (indexes in team 0, both led by the bench officer).
LARGE, SMALL = 0, 1
LARGE_SIZE = {"actions": 200, "stakeholders": 100, "assets": 20, "escalations": 10, "reviews": 3}
SMALL_SIZE = {"actions": 10, "stakeholders": 10, "assets": 2, "escalations": 2, "reviews": 1}
OFFICER_PROJECTS = 20  # team-0 projects 0..19: lead of 0..9, member of 10..19
SUPERVISOR_PROJECTS = range(20, 25)  # member (not lead) of these
MEASURED_START = dt.date(2021, 6, 1)  # inside the data, 6 months before and after

GROUPS = ("Residents", "Businesses", "Young people", "Police", "Council", "Housing", "Health")
THEMES = ("lighting", "parking", "litter", "noise", "youth provision", "drug dealing", "")


# --- loading ------------------------------------------------------------------------------


def load_places() -> dict:
    """What load_demo loads: harm scheme, the four area files, the groups, the 12 months."""
    from placewise.core.management.commands.load_demo import STREET_ZIP
    from placewise.incidents.actions import do_import_files

    steps = common.load_demo_places()
    t0 = time.perf_counter()
    run = do_import_files(None, [common.DEMO / STREET_ZIP], source="bench")
    steps["12 demo police.uk months"] = time.perf_counter() - t0
    print(f"  incidents: {run.status}, {run.rows_imported:,} imported", flush=True)
    return steps


def _spread(rng: random.Random, total: int, projects: list[int]) -> Counter:
    """``total`` items over ``projects`` at random (each one at least 1)."""
    counts = Counter(dict.fromkeys(projects, 1))
    for _ in range(total - len(projects)):
        counts[rng.choice(projects)] += 1
    return counts


def officer_name(team: int, n: int) -> str:
    return "bench_officer" if (team, n) == (0, 0) else f"synthetic_officer_{team}_{n}"


def make_casework() -> dict:
    """SYNTHETIC teams, users and casework; returns the users and projects to measure."""
    from django.db import transaction
    from django.utils import timezone

    from placewise.accounts.models import Role, Team, User
    from placewise.lib.policeuk import POLICE_UK_CATEGORIES
    from placewise.places.models import Area, AreaKind
    from placewise.projects.actions import do_open_project
    from placewise.projects.models import (
        Action,
        Asset,
        Escalation,
        Meeting,
        Observation,
        ProcessTemplate,
        Project,
        ProjectMember,
        ProjectStep,
        Relationship,
        Review,
        Stakeholder,
    )

    rng = random.Random(SEED)
    today = dt.date.today()
    now = timezone.now()
    force = Area.objects.get(kind=AreaKind.FORCE)
    lsoas = list(
        Area.objects.filter(kind=AreaKind.LSOA, group_memberships__group=force)
        .order_by("code")
        .only("id", "name", "centroid_lon", "centroid_lat")
    )
    units = list(Area.objects.filter(kind=AreaKind.UNIT).order_by("code"))
    templates = {t.slug: t for t in ProcessTemplate.objects.all()}
    default = next(t for t in templates.values() if t.is_default)
    others = [t for t in templates.values() if not t.is_default]

    with transaction.atomic():
        Team.objects.bulk_create(
            Team(name=f"Synthetic team {i + 1:02d}", unit=units[i % len(units)])
            for i in range(TEAMS)
        )
        teams = list(Team.objects.filter(name__startswith="Synthetic team").order_by("name"))
        users = []
        for t, team in enumerate(teams):
            for o in range(OFFICERS_PER_TEAM):
                users.append(User(username=officer_name(t, o), role=Role.OFFICER, team=team))
            name = "bench_supervisor" if t == 0 else f"synthetic_supervisor_{t}"
            users.append(User(username=name, role=Role.SUPERVISOR, team=team))
        for p in range(PARTNERS):
            users.append(
                User(username=f"synthetic_partner_{p}", role=Role.PARTNER, organisation="Council")
            )
        for u in users:
            u.first_name, u.last_name = "Synthetic", u.username.replace("_", " ").title()
            u.set_unusable_password()
        User.objects.bulk_create(users)
    by_name = {u.username: u for u in User.objects.all()}
    officer, supervisor = by_name["bench_officer"], by_name["bench_supervisor"]
    team_officers = {
        t: [by_name[officer_name(t, o)] for o in range(OFFICERS_PER_TEAM)] for t in range(TEAMS)
    }
    team_supervisor = {
        t: by_name["bench_supervisor" if t == 0 else f"synthetic_supervisor_{t}"]
        for t in range(TEAMS)
    }
    partners = [by_name[f"synthetic_partner_{p}"] for p in range(PARTNERS)]

    # Projects: index i belongs to team i // 50; index-within-team j = i % 50.
    def plan(i: int) -> dict:
        t, j = divmod(i, PROJECTS_PER_TEAM)
        area = lsoas[(i * 37) % len(lsoas)]
        measured = t == 0 and j in (LARGE, SMALL)
        start = (
            MEASURED_START if measured else dt.date(2021, rng.randint(1, 11), rng.randint(1, 28))
        )
        label = {LARGE: "LARGE", SMALL: "SMALL"}.get(j, "") if t == 0 else ""
        return {
            "i": i,
            "team": t,
            "j": j,
            "area": area,
            "title": f"Synthetic project {i + 1:04d}{' ' + label if label else ''} in {area.name}",
            "purpose": "SYNTHETIC casework generated by bench/bench_projects.py.",
            "template": default
            if measured or rng.random() < 0.7
            else others[rng.randrange(len(others))],
            "start": start,
            "weeks": rng.choice((26, 40, 52)),
        }

    plans = [plan(i) for i in range(PROJECTS)]
    opened = [p for p in plans if p["team"] == 0 and p["j"] < OPENED_WITH_ACTION]
    t0 = time.perf_counter()
    for p in opened:  # the real path: steps, lead membership and the audit entry
        p["project"] = do_open_project(
            officer,
            area=p["area"],
            title=p["title"],
            purpose=p["purpose"],
            template=p["template"],
            team=teams[0],
            start_date=p["start"],
            plan_weeks=p["weeks"],
        )
    opened_seconds = time.perf_counter() - t0
    print(f"  {len(opened)} projects opened with do_open_project in {opened_seconds:.2f} s")

    def score_steps(template):
        done = rng.randint(0, len(template.parsed.steps))
        out = []
        for n, s in enumerate(template.parsed.steps):
            status = "done" if n < done else ("in_progress" if n == done else "not_started")
            score = rng.randint(1, 5) if status == "done" or rng.random() < 0.2 else None
            answers = (
                {"0": f"Synthetic answer to step {s.number}."} if status != "not_started" else {}
            )
            out.append((s, status, score, answers))
        return out

    t0 = time.perf_counter()
    with transaction.atomic():
        bulk = [p for p in plans if "project" not in p]
        Project.objects.bulk_create(
            (
                Project(
                    title=p["title"],
                    area=p["area"],
                    purpose=p["purpose"],
                    template=p["template"],
                    team=teams[p["team"]],
                    status="closed" if rng.random() < 0.15 else "active",
                    review_status=rng.choice(Project.Review.values),
                    start_date=p["start"],
                    plan_weeks=p["weeks"],
                    created_by=team_officers[p["team"]][0],
                )
                for p in bulk
            ),
            batch_size=500,
        )
        ids = dict(Project.objects.values_list("title", "id"))
        projects = {p["i"]: Project(pk=ids[p["title"]]) for p in plans}
        # Steps: the opened projects already have theirs (scored below); the rest here.
        ProjectStep.objects.bulk_create(
            (
                ProjectStep(
                    project=projects[p["i"]],
                    number=s.number,
                    key=s.key,
                    title=s.title,
                    status=status,
                    self_score=score,
                    answers=answers,
                    updated_by=team_officers[p["team"]][rng.randrange(OFFICERS_PER_TEAM)],
                )
                for p in bulk
                for s, status, score, answers in score_steps(p["template"])
            ),
            batch_size=1000,
        )
        for p in opened:
            steps = {s.number: s for s in p["project"].steps.all()}
            for s, status, score, answers in score_steps(p["template"]):
                row = steps[s.number]
                row.status, row.self_score, row.answers, row.updated_by = (
                    status,
                    score,
                    answers,
                    officer,
                )
            ProjectStep.objects.bulk_update(
                list(steps.values()), ["status", "self_score", "answers", "updated_by"]
            )
        # Spread last activity and creation over the last 18 months (bulk_create stamps now).
        stamps = []
        for p in plans:
            row = projects[p["i"]]
            row.created_at = now - dt.timedelta(days=rng.randint(30, 540))
            row.last_activity = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 180))
            stamps.append(row)
        Project.objects.bulk_update(stamps, ["created_at", "last_activity"], batch_size=500)

        # Members: a lead and two more from the team, a partner in 3 of 10.
        members: dict[int, list] = defaultdict(list)
        rows = []
        for p in plans:
            t, j, i = p["team"], p["j"], p["i"]
            crew = team_officers[t][1:] if t == 0 else list(team_officers[t])
            rng.shuffle(crew)
            if t == 0 and j < OFFICER_PROJECTS:
                lead = officer if j < OFFICER_PROJECTS // 2 else crew.pop()
                extra = [crew.pop(), crew.pop()]
                if j >= OFFICER_PROJECTS // 2:
                    extra[0] = officer
            else:
                lead, extra = crew.pop(), [crew.pop(), crew.pop()]
            roles = [(lead, "lead")] + [(u, "member") for u in extra]
            if t == 0 and j in SUPERVISOR_PROJECTS:
                roles.append((supervisor, "member"))
            if rng.random() < 0.3:
                roles.append((rng.choice(partners), "partner"))
            members[i] = [u for u, _ in roles]
            if "project" in p:  # do_open_project made the officer lead already
                roles = [(u, r) for u, r in roles if u.pk != officer.pk]
            rows += [ProjectMember(project=projects[i], user=u, role=r) for u, r in roles]
        ProjectMember.objects.bulk_create(rows, batch_size=1000)

        by_team0 = {p["j"]: p["i"] for p in plans if p["team"] == 0}
        large, small = by_team0[LARGE], by_team0[SMALL]
        rest = [p["i"] for p in plans if p["i"] not in (large, small)]

        def sized(key: str, total: int) -> Counter:
            fixed = {large: LARGE_SIZE[key], small: SMALL_SIZE[key]}
            counts = _spread(rng, total - sum(fixed.values()), rest)
            counts.update(fixed)
            return counts

        # Actions: a third carry a data measure (the same share in the measured projects).
        statuses = ["planned"] * 35 + ["in_progress"] * 30 + ["done"] * 25 + ["dropped"] * 10
        rows = []
        for i, n in sized("actions", ACTIONS).items():
            crew = members[i]
            for k in range(n):
                rows.append(
                    Action(
                        project=projects[i],
                        title=f"Synthetic action {k + 1} of project {i + 1}",
                        owner=rng.choice(crew) if rng.random() < 0.9 else None,
                        due=today + dt.timedelta(days=rng.randint(-45, 180)),
                        status=rng.choice(statuses),
                        success_measure="Fewer reports (synthetic)",
                        how_measured="police.uk counts" if k % 2 else "",
                        measure_category=POLICE_UK_CATEGORIES[k % len(POLICE_UK_CATEGORIES)]
                        if k % 3 == 0
                        else "",
                    )
                )
        Action.objects.bulk_create(rows, batch_size=2000)

        # Stakeholders and ~2 relationships each (no pair twice, either way round).
        rows = []
        for i, n in sized("stakeholders", STAKEHOLDERS).items():
            for k in range(n):
                rows.append(
                    Stakeholder(
                        project=projects[i],
                        name=f"Synthetic person {i + 1}-{k + 1:03d}",
                        kind="organisation" if rng.random() < 0.3 else "person",
                        organisation="Synthetic organisation" if rng.random() < 0.4 else "",
                        interests="Synthetic interests: safety, footfall, noise at night.",
                        influence=rng.randint(1, 5),
                        key_individual_network=rng.random() < 0.2,
                        advisory_group=rng.random() < 0.1,
                        contact="synthetic@example.invalid" if rng.random() < 0.3 else "",
                        consent_recorded="verbal, synthetic" if rng.random() < 0.3 else "",
                    )
                )
        Stakeholder.objects.bulk_create(rows, batch_size=2000)
        people: dict[int, list[int]] = defaultdict(list)
        for pk, project_id in Stakeholder.objects.order_by("id").values_list("id", "project_id"):
            people[project_id].append(pk)
        rows = []
        for project_id, pks in people.items():
            seen: set[frozenset] = set()
            for a in pks:
                made = 0
                for _ in range(10 if len(pks) > 2 else 0):  # up to 2 new ties each
                    if made == LINKS_PER_STAKEHOLDER:
                        break
                    b = rng.choice(pks)
                    pair = frozenset((a, b))
                    if a != b and pair not in seen:
                        made += 1
                        seen.add(pair)
                        rows.append(
                            Relationship(
                                project_id=project_id,
                                source_id=a,
                                target_id=b,
                                kind=rng.choice(("works with", "neighbours", "family", "")),
                            )
                        )
        Relationship.objects.bulk_create(rows, batch_size=2000)

        rows = []
        for i, n in sized("assets", ASSETS).items():
            area = plans[i]["area"]
            for k in range(n):
                located = area.centroid_lon is not None and rng.random() < 0.6
                rows.append(
                    Asset(
                        project=projects[i],
                        name=f"Synthetic asset {k + 1} of project {i + 1}",
                        category=rng.choice(Asset.Category.values),
                        description="Synthetic description of a community asset.",
                        longitude=area.centroid_lon + rng.uniform(-0.004, 0.004)
                        if located
                        else None,
                        latitude=area.centroid_lat + rng.uniform(-0.003, 0.003)
                        if located
                        else None,
                        highly_capable=rng.random() < 0.2,
                        highly_connected=rng.random() < 0.2,
                    )
                )
        Asset.objects.bulk_create(rows, batch_size=2000)

        rows = []
        for i, n in _spread(rng, OBSERVATIONS, list(range(PROJECTS))).items():
            pks = people.get(projects[i].pk, [])
            for k in range(n):
                rows.append(
                    Observation(
                        project=projects[i],
                        kind=rng.choice(Observation.Kind.values),
                        text=f"Synthetic observation {k + 1}.",
                        group=rng.choice(GROUPS),
                        stakeholder_id=rng.choice(pks) if pks and rng.random() < 0.5 else None,
                        theme=rng.choice(THEMES),
                    )
                )
        Observation.objects.bulk_create(rows, batch_size=2000)

        rows = []
        for i, n in sized("escalations", ESCALATIONS).items():
            for k in range(n):
                rows.append(
                    Escalation(
                        project=projects[i],
                        risk=f"Synthetic risk {k + 1} of project {i + 1}",
                        approach="Synthetic: the council's licensing lead",
                        level=rng.choice(Escalation.Level.values),
                        owner=rng.choice(members[i]),
                        due=today + dt.timedelta(days=rng.randint(-30, 90)),
                        status="open" if rng.random() < 0.6 else "resolved",
                        outcome="",
                    )
                )
        Escalation.objects.bulk_create(rows, batch_size=2000)

        rows = []
        reviewed = _spread(rng, REVIEWS - 4, rng.sample(rest, REVIEWS - 4))
        reviewed.update({large: LARGE_SIZE["reviews"], small: SMALL_SIZE["reviews"]})
        for i, n in reviewed.items():
            for _ in range(n):
                decision = rng.choice(Review.Decision.values)
                rows.append(
                    Review(
                        project=projects[i],
                        reviewer=team_supervisor[plans[i]["team"]],
                        decision=decision,
                        comment="Synthetic review comment.",
                        step_feedback={},
                        team_dose=round(rng.uniform(1, 5), 1),
                        reviewer_dose=round(rng.uniform(1, 5), 1),
                    )
                )
        Review.objects.bulk_create(rows, batch_size=1000)

        Meeting.objects.bulk_create(
            (
                Meeting(
                    project=projects[i],
                    held_on=plans[i]["start"] + dt.timedelta(weeks=k * 4 + 2),
                    title=f"Synthetic working group {k + 1}",
                    notes="Synthetic notes.",
                )
                for i, n in _spread(rng, MEETINGS, list(range(PROJECTS))).items()
                for k in range(n)
            ),
            batch_size=1000,
        )
    bulk_seconds = time.perf_counter() - t0
    print(f"  the rest with bulk_create in {bulk_seconds:.2f} s", flush=True)
    models = (
        Project,
        ProjectStep,
        ProjectMember,
        Action,
        Stakeholder,
        Relationship,
        Asset,
        Observation,
        Escalation,
        Review,
        Meeting,
    )
    totals = {m.__name__: m.objects.count() for m in models}
    totals["overdue actions"] = Action.objects.filter(status__in=Action.OPEN, due__lt=today).count()
    return {
        "officer": officer,
        "supervisor": supervisor,
        "large": projects[large].pk,
        "small": projects[small].pk,
        "unit": _unit_of(projects[large]),
        "totals": totals,
        "seconds": {"do_open_project": opened_seconds, "bulk_create": bulk_seconds},
        "scope": {
            "officer member of": ProjectMember.objects.filter(user=officer).count(),
            "team projects": Project.objects.filter(team=teams[0]).count(),
            "officer overdue actions": Action.objects.filter(
                owner=officer, status__in=Action.OPEN, due__lt=today
            ).count(),
            "team overdue actions": Action.objects.filter(
                project__team=teams[0], status__in=Action.OPEN, due__lt=today
            ).count(),
        },
    }


# --- timing ---------------------------------------------------------------------------------


class QuerySources:
    """Every SQL statement of a request, with the Placewise code that ran it."""

    def __init__(self):
        self.rows: list[tuple[str, str, str, bool, float]] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._note(sql, (time.perf_counter() - t0) * 1000)

    def _note(self, sql: str, ms: float) -> None:
        stack = traceback.extract_stack()
        ours = [
            f"{f.filename.split('/src/placewise/')[1]}:{f.name}:{f.lineno}"
            for f in reversed(stack)
            if "/src/placewise/" in f.filename
        ]
        in_template = any("/django/template/" in f.filename for f in stack)
        shape = re.sub(r"%s(, %s)+", "%s, ...", sql)
        table = re.search(r'FROM "(\w+)"', sql)
        where = " <- ".join(ours[:5])
        self.rows.append((shape, table.group(1) if table else "?", where, in_template, ms))


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


class FullCollections:
    """Python's full (generation 2) garbage collections while timing, and how long they took."""

    def __init__(self):
        self.pauses: list[float] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((time.perf_counter() - self._start) * 1000)

    def __enter__(self):
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc):
        gc.callbacks.remove(self)


def time_page(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        body(response)
    times = []
    size = 0
    with FullCollections() as collections:
        for _ in range(TIMED):
            t0 = time.perf_counter()
            response = client.get(url)
            size = len(body(response))
            times.append((time.perf_counter() - t0) * 1000)
    sources = QuerySources()
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(sources):
        content = body(client.get(url))
    ordered = sorted(times)
    return {
        "url": url,
        "median": statistics.median(times),
        "p95": ordered[math.ceil(0.95 * len(ordered)) - 1],
        "max": ordered[-1],
        "bytes": size,
        "queries": len(queries.captured_queries),
        "gc_pauses": collections.pauses,
        "sql_ms": sum(row[4] for row in sources.rows),
        "slowest": slowest(sources.rows),
        "sources": sources.rows,
        "content": content,
    }


def slowest(rows: list[tuple]) -> dict | None:
    if not rows:
        return None
    shape, table, code, in_template, ms = max(rows, key=lambda row: row[4])
    return {"ms": ms, "table": table, "code": code, "sql": shape[:400]}


def _unit_of(project) -> int:
    from placewise.places.stats import unit_for
    from placewise.projects.models import Project

    project = Project.objects.select_related("area").get(pk=project.pk)
    unit = unit_for(project.area)
    return unit.pk if unit is not None else project.area_id


def pages(data: dict) -> list[tuple[str, str]]:
    large, small = data["large"], data["small"]
    out = []
    for scope in ("mine", "team", "all"):
        out.append((f"list scope={scope}", f"/projects/?scope={scope}"))
        out.append((f"list scope={scope}, sort=dose", f"/projects/?scope={scope}&sort=dose"))
    out.append(("list scope=all, sort=overdue", "/projects/?scope=all&sort=overdue"))
    out.append(("list scope=all, CSV (every page)", "/projects/?scope=all&format=csv"))
    for kind, path in (
        ("detail", ""),
        ("network", "network/"),
        ("report", "report/"),
        ("report PDF", "report.pdf"),
    ):
        out.append((f"{kind}, SMALL project", f"/projects/{small}/{path}"))
        out.append((f"{kind}, LARGE project", f"/projects/{large}/{path}"))
    out.append(("assets in the LARGE project's unit", f"/projects/areas/{data['unit']}/assets/"))
    out.append(("home", "/"))
    return out


def growth(small: dict, large: dict) -> list[dict]:
    """The query shapes that run more often for the LARGE project than for the SMALL one."""
    counts_small = Counter(s[0] for s in small["sources"])
    counts_large = Counter(s[0] for s in large["sources"])
    out = []
    for shape, n in counts_large.items():
        if n > counts_small.get(shape, 0):
            where = Counter(
                (s[1], s[2], s[3]) for s in large["sources"] if s[0] == shape
            ).most_common(1)[0][0]
            out.append(
                {
                    "small": counts_small.get(shape, 0),
                    "large": n,
                    "ms": sum(s[4] for s in large["sources"] if s[0] == shape),
                    "table": where[0],
                    "code": where[1],
                    "in_template": where[2],
                    "sql": shape[:160],
                }
            )
    return sorted(out, key=lambda g: -g["large"])


def dose_order_check(content: bytes, user) -> str:
    """Does page 1 of sort=dose hold the highest-dose projects of the whole list?"""
    from placewise.projects.access import visible_projects

    shown = [int(x) for x in re.findall(rb'<tr><td><a href="/projects/(\d+)/"', content)]
    doses = {
        p.pk: p.dose(p.steps.all()).mean
        for p in visible_projects(user).select_related("template").prefetch_related("steps")
    }
    ranked = sorted((d for d in doses.values() if d is not None), reverse=True)
    cutoff = ranked[len(shown) - 1]
    among = sum(1 for pk in shown if doses[pk] is not None and doses[pk] >= cutoff)
    ordered = all(
        (doses[a] or 0) >= (doses[b] or 0) for a, b in zip(shown, shown[1:], strict=False)
    )
    return (
        f"list scope=all, sort=dose: page 1 shows {len(shown)} of {len(doses)} projects, doses "
        f"{doses[shown[0]]:.2f} down to {doses[shown[-1]]:.2f}, {'in' if ordered else 'NOT in'} "
        f"order; {among} of them are among the {len(shown)} highest doses of the whole list "
        f"(cut-off {cutoff:.2f}; the highest is {ranked[0]:.2f})"
    )


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def probes(data: dict) -> list[str]:
    """Where the time of the slow parts goes, measured apart from the pages (no change made)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from placewise.projects import views
    from placewise.projects.access import access_project

    gc.collect()
    collect_ms = _median_ms(gc.collect, 5)
    notes = [
        f"probe: a full garbage collection of this process takes {collect_ms:.0f} ms "
        f"(median of 5; {len(gc.get_objects()):,} objects tracked, "
        f"{gc.get_freeze_count():,} frozen at start-up and skipped)"
    ]
    for size in ("small", "large"):
        project = access_project(data["officer"], data[size])
        with CaptureQueriesContext(connection) as queries:
            views._actions_with_progress(project)
        ms = _median_ms(lambda p=project: views._actions_with_progress(p), 20)
        measured = project.actions.exclude(measure_category="").count()
        notes.append(
            f"probe: projects/views.py _actions_with_progress() for the {size.upper()} project "
            f"({project.actions.count()} actions, {measured} with a data measure): "
            f"{len(queries.captured_queries)} queries, median {ms:.1f} ms (20 calls)"
        )
    from django.core.cache import cache

    from placewise.projects.progress import project_progress
    from placewise.projects.records import network_picture

    large = access_project(data["officer"], data["large"])
    people = list(large.stakeholders.all())
    edges = list(large.relationships.values_list("source_id", "target_id"))
    for label, fn in (
        ("project_progress() (area, unit and force figures, two charts)", project_progress),
        (
            "network_picture() (betweenness, reach, layout, drawing; 100 people)",
            lambda p: network_picture(p, people, edges),
        ),
    ):
        cold = []
        for _ in range(5):
            cache.clear()
            t0 = time.perf_counter()
            fn(large)
            cold.append((time.perf_counter() - t0) * 1000)
        warm = _median_ms(lambda f=fn: f(large), 20)
        notes.append(
            f"probe: {label} for the LARGE project: {statistics.median(cold):.1f} ms computed "
            f"(median of 5, cache cleared), {warm:.1f} ms from the cache (median of 20)"
        )
    return notes


def bench_one(database: str) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"placewise-bench-projects-{database}-"))
    common.configure(database, tmp)
    # As placewise.wsgi does when a web worker starts: load every view, then freeze what
    # start-up made so full garbage collections skip it. Everything the bench makes from
    # here on (places, casework, results) stays in the collector's reach.
    from placewise.core.startup import prepare_worker

    frozen = prepare_worker()
    print(f"prepare_worker(): {frozen:,} start-up objects frozen")
    version = common.server_versions()
    load_before = common.load()
    print(f"{version}; temp folder {tmp}; {load_before}")
    print("Loading areas, groups, harm scheme and the 12 demo months:")
    steps = load_places()
    for name, seconds in steps.items():
        print(f"  {seconds:6.2f} s  {name}")
    print("Generating SYNTHETIC casework:")
    data = make_casework()
    print(f"  totals: {data['totals']}")
    print(f"  bench scope: {data['scope']}", flush=True)

    from django.test import Client

    results = []
    observations = []
    print(f"Timing: {WARMUP} warm-up requests then {TIMED} timed requests per page.")
    for who in ("officer", "supervisor"):
        client = Client()
        client.force_login(data[who])
        by_label = {}
        for label, url in pages(data):
            r = time_page(client, url)
            r.update(label=label, user=who)
            by_label[label] = r
            results.append(r)
            print(
                f"  {who:<10} {label}: median {r['median']:.1f} ms, p95 {r['p95']:.1f} ms, "
                f"{r['bytes']:,} bytes, {r['queries']} queries",
                flush=True,
            )
        for kind in ("detail", "network", "report", "report PDF"):
            small, large = by_label[f"{kind}, SMALL project"], by_label[f"{kind}, LARGE project"]
            large["growth"] = growth(small, large)
        if who == "officer":
            observations.append(
                dose_order_check(by_label["list scope=all, sort=dose"]["content"], data[who])
            )
    observations += probes(data)
    for r in results:
        del r["content"], r["sources"]
    common.cleanup(database, tmp)
    result = {
        "database": database,
        "version": version,
        "load_steps": steps,
        "totals": data["totals"],
        "scope": data["scope"],
        "setup_seconds": data["seconds"],
        "pages": results,
        "observations": observations,
        "load_before": load_before,
        "load_after": common.load(),
    }
    report({database: result})
    return result


def gc_cell(pauses: list[float]) -> str:
    return f"{len(pauses)}, max {max(pauses):.0f} ms" if pauses else "0"


def report(results: dict) -> None:
    print("\n" + "=" * 100)
    print(f"Project pages, SYNTHETIC casework (Django test client); {common.machine()}")
    for r in results.values():
        print(f"{r['database']} ({r['version']}): {r['totals']}")
        setup = ", ".join(f"{k} {v:.2f} s" for k, v in r["setup_seconds"].items())
        print(f"{r['database']}: bench scope {r['scope']}; set-up {setup}")
        print(f"{r['database']}: {r['load_before']} before, {r['load_after']} after")
    print(
        f"{WARMUP} warm-up + {TIMED} timed requests per page; p95 = nearest rank; "
        f"aim: p95 under {AIM_MS:.0f} ms and the same query count for a SMALL and a LARGE "
        "project"
    )
    headers = ["database", "user", "page", "median ms", "p95 ms", "max ms", "bytes", "queries"]
    headers += ["SQL ms", "full GCs", "aim"]
    rows = []
    for r in results.values():
        for p in r["pages"]:
            rows.append(
                [
                    r["database"],
                    p["user"],
                    p["label"],
                    f"{p['median']:.1f}",
                    f"{p['p95']:.1f}",
                    f"{p['max']:.1f}",
                    f"{p['bytes']:,}",
                    p["queries"],
                    f"{p['sql_ms']:.1f}",
                    gc_cell(p["gc_pauses"]),
                    "p95 under aim" if p["p95"] < AIM_MS else "p95 OVER aim",
                ]
            )
    print(common.table(headers, rows, right={3, 4, 5, 6, 7, 8, 9}))
    print(
        "(SQL ms: time in the database driver's execute during one extra request, measured "
        "apart. full GCs: Python's generation-2 garbage collections during the timed requests, "
        "with the longest pause.)"
    )
    for r in results.values():
        for p in r["pages"]:
            worst = p["slowest"]
            if worst and worst["ms"] >= 0.25 * p["median"]:
                print(
                    f"{r['database']} {p['user']} {p['label']}: slowest query {worst['ms']:.1f} ms "
                    f"of a {p['median']:.1f} ms median, on {worst['table']}: {worst['code']}\n"
                    f"    {worst['sql']}"
                )

    print("\nQueries per request, SMALL project (10 actions, 10 stakeholders) against LARGE")
    print("(200 actions, 100 stakeholders):")
    rows = []
    for r in results.values():
        by = {(p["user"], p["label"]): p for p in r["pages"]}
        for who in ("officer", "supervisor"):
            for kind in ("detail", "network", "report", "report PDF"):
                small, large = (
                    by[(who, f"{kind}, SMALL project")],
                    by[(who, f"{kind}, LARGE project")],
                )
                rows.append(
                    [
                        r["database"],
                        who,
                        kind,
                        small["queries"],
                        large["queries"],
                        "bounded" if small["queries"] == large["queries"] else "GROWS",
                    ]
                )
    print(common.table(["database", "user", "page", "SMALL", "LARGE", "queries"], rows, {3, 4}))
    for r in results.values():
        for p in r["pages"]:
            for g in p.get("growth", []):
                place = "while rendering the template" if g["in_template"] else "in view code"
                print(
                    f"{r['database']} {p['user']} {p['label']}: {g['small']} -> {g['large']} "
                    f"queries ({g['ms']:.1f} ms in the LARGE request) on {g['table']} {place}: "
                    f"{g['code']}\n    {g['sql']}"
                )
        for note in r["observations"]:
            print(f"{r['database']}: {note}")


def main() -> None:
    args = common.parse_args(__doc__.splitlines()[0], default="sqlite")
    if args.database == "both":
        tmp = Path(tempfile.mkdtemp(prefix="placewise-bench-projects-"))
        report(common.run_children(__file__, list(common.DATABASES), [], tmp))
        return
    result = bench_one(args.database)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
