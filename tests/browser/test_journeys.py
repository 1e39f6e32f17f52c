"""Browser journeys: a person signs in, reads the map, opens an area and imports a file.

Each journey drives Debian's headless Chromium through Playwright against pytest-django's
``live_server``, with real clicks and typing, and checks what a person would see.

Run them with ``pytest -m browser tests/browser``; ``-m "not browser"`` leaves them out.

Two things about the set-up worth knowing:

* ``live_server`` tests use a transactional database that is flushed after each test, so
  every journey creates its own users and loads the data it needs (``demo_data``). The very
  first one still sees the session's demo data from ``tests/conftest.py``, which is why the
  loader only fills in what is missing.
* The fixtures live in this module, not in ``tests/browser/conftest.py``: a second
  ``conftest.py`` without ``__init__.py`` files replaces the ``conftest`` module that other
  test modules import helpers from (``from conftest import write_street``).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import DEMO, write_street

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "correct horse battery staple"
MONTH = "2021-10"
TIMEOUT_MS = 20_000
IMPORT_TIMEOUT_MS = 45_000
NUMBER = re.compile(r"^\d{1,3}(,\d{3})*$")  # as intcomma_lite shows it: 12,345


def _unavailable(reason: str) -> None:
    """No browser: a failure in CI, a skip on a laptop without Chromium."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required when CI is set)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    """One headless Chromium for the module; each test gets its own context (cookies)."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed (pip install -e .[dev])")
    # Playwright's sync API keeps an event loop running in this thread; without this,
    # Django refuses ORM calls made by the test (creating users, loading data).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    tab.js_errors = []  # uncaught exceptions and console errors (CSP violations land here)
    tab.on("pageerror", lambda exc: tab.js_errors.append(f"pageerror: {exc}"))
    tab.on(
        "console",
        lambda msg: tab.js_errors.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    yield tab
    context.close()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a temporary folder, not the developer's var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _user(username: str, role: str):
    from placewise.accounts.models import User

    return User.objects.create_user(username=username, password=PASSWORD, role=role)


@pytest.fixture
def analyst(transactional_db, chromium):
    return _user("journey_analyst", "analyst")


@pytest.fixture
def resident(transactional_db, chromium):
    return _user("journey_resident", "resident")


@pytest.fixture
def demo_data(transactional_db, chromium, tmp_path):
    """The demo LSOAs (boundaries, population), demo groupings and one real month."""
    from placewise.incidents.actions import do_import_files, do_seed_harm_scheme
    from placewise.incidents.models import Incident
    from placewise.places.actions import do_import_area_file, do_import_groups
    from placewise.places.models import Area, AreaKind

    do_seed_harm_scheme()  # normally re-seeded after each flush; idempotent
    if not Area.objects.filter(kind=AreaKind.LSOA).exclude(geometry="").exists():
        do_import_area_file(DEMO / "lsoa11_boundaries_leicestershire.geojson.gz")
        do_import_area_file(DEMO / "File_6_-_IoD2019_Population_Denominators_leicestershire.csv.gz")
    if not Area.objects.filter(kind=AreaKind.FORCE).exists():
        do_import_groups(DEMO / "groups_leicestershire.csv", demo=True)
    if not Incident.objects.exists():
        run = do_import_files(None, [write_street(tmp_path / "demo", MONTH)], source="test")
        assert run.status == "succeeded", run.error


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    """Open the site, get sent to the sign-in page, type the details and submit."""
    page.goto("/")
    page.wait_for_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def data_rows(path: Path) -> int:
    """Data rows in a CSV file (records, not lines: a quoted field may hold a newline)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def as_int(text: str) -> int:
    text = text.strip()
    assert NUMBER.match(text), f"{text!r} is not a figure"
    return int(text.replace(",", ""))


# ---------------------------------------------------------------------------------------
# Journeys
# ---------------------------------------------------------------------------------------


@pytest.mark.browser
def test_sign_in_lands_on_the_map_and_a_wrong_password_is_refused(
    page, live_server, analyst, demo_data
):
    from playwright.sync_api import expect

    page.goto(live_server.url + "/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in to Placewise")).to_be_visible()

    page.get_by_label("Username").fill("journey_analyst")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("p.error")).to_have_text(
        "Your username and password did not match. Please try again."
    )
    expect(page).to_have_url(re.compile(r"/login/"))

    page.get_by_label("Username").fill("journey_analyst")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Incidents by LSOA")
    expect(page.locator("header .who")).to_contain_text("journey_analyst")
    expect(page.locator("p.error")).to_have_count(0)


@pytest.mark.browser
def test_map_draws_the_lsoas_and_redraws_shaded_by_harm(page, analyst, demo_data):
    from playwright.sync_api import expect

    from placewise.places.models import Area, AreaKind
    from placewise.places.stats import home_force, map_lsoas

    # The home map draws the force's own LSOAs (611 in the demo), not its neighbours'.
    with_boundaries = map_lsoas(home_force()).count()
    assert 0 < with_boundaries < Area.objects.filter(kind=AreaKind.LSOA).count()

    sign_in(page, "journey_analyst")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Incidents by LSOA")
    the_map = page.locator("#map")
    expect(the_map).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))
    assert int(the_map.get_attribute("data-loaded")) == with_boundaries
    legend = page.locator("#legend")
    expect(legend).not_to_be_empty()
    expect(legend).to_contain_text("Incidents")

    page.get_by_label("Shade by").select_option("harm")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"[?&]measure=harm"))
    expect(page.get_by_label("Shade by")).to_have_value("harm")
    expect(the_map).to_have_attribute("data-loaded", str(with_boundaries))
    expect(legend).to_contain_text("Harm")
    expect(page.locator("main")).to_contain_text("Harm: incidents × weight per category")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "map-harm.png"), full_page=True)
    assert page.js_errors == []


@pytest.mark.browser
def test_open_an_lsoa_from_the_areas_page(page, analyst, demo_data):
    from playwright.sync_api import expect

    sign_in(page, "journey_analyst")
    page.locator("header nav").get_by_role("link", name="Areas", exact=True).click()
    expect(page.get_by_role("heading", name="Areas", level=1)).to_be_visible()

    page.get_by_label("Kind").select_option("lsoa")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"[?&]kind=lsoa"))
    rows = page.locator("table tbody tr")
    expect(rows.first.locator("td").nth(1)).to_have_text("LSOA")
    kinds = rows.locator("td:nth-child(2)").all_inner_texts()
    assert kinds and set(kinds) == {"LSOA"}, set(kinds)

    link = rows.first.get_by_role("link")
    name = link.inner_text().strip()
    link.click()
    page.wait_for_url(re.compile(r"/areas/\d+/$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(name)
    expect(heading.locator(".badge")).to_have_text("LSOA")
    expect(page.locator("#kpi-incidents")).to_have_text(NUMBER)
    expect(page.locator(".chart svg")).to_be_visible()
    expect(page.locator(".map[data-map=outline]")).to_have_attribute("data-loaded", "1")
    assert page.js_errors == []


@pytest.mark.browser
def test_import_a_police_uk_street_file(page, analyst, media_root, tmp_path):
    from playwright.sync_api import expect

    path = write_street(tmp_path, MONTH)
    expected = data_rows(path)
    assert expected > 1000

    sign_in(page, "journey_analyst")
    page.locator("header nav").get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import police.uk data")).to_be_visible()
    page.get_by_label("Street-level CSV files").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()

    page.wait_for_url(re.compile(r"/data/import/\d+/$"), timeout=IMPORT_TIMEOUT_MS)
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("data-status", "succeeded", timeout=IMPORT_TIMEOUT_MS)
    expect(page.locator("#rows-imported")).to_have_text(f"{expected:,}")
    expect(page.locator("#rows-rejected")).to_have_text("0")
    expect(page.locator("#import-error")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Import")
    expect(page.locator("main")).to_contain_text(path.name)


@pytest.mark.browser
def test_import_with_a_wrong_header_fails_and_changes_nothing(page, analyst, media_root, tmp_path):
    from playwright.sync_api import expect

    from placewise.incidents.actions import do_import_files
    from placewise.incidents.models import Incident, MonthlyCount

    # Something already stored, so "nothing changed" means something.
    first = do_import_files(None, [write_street(tmp_path / "before", MONTH)], source="test")
    assert first.status == "succeeded", first.error
    before = (Incident.objects.count(), MonthlyCount.objects.count())
    assert before[0] > 0

    bad = tmp_path / "upload" / f"{MONTH}-leicestershire-street.csv"
    bad.parent.mkdir()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Crime ID", "Month", "Where", "What"])
    writer.writerow(["abc", MONTH, "On or near Main Street", "Burglary"])
    bad.write_text(buffer.getvalue(), encoding="utf-8")

    sign_in(page, "journey_analyst")
    page.locator("header nav").get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Street-level CSV files").set_input_files(str(bad))
    page.get_by_role("button", name="Import").click()

    page.wait_for_url(re.compile(r"/data/import/\d+/$"), timeout=IMPORT_TIMEOUT_MS)
    expect(page.locator("#import-progress")).to_have_attribute(
        "data-status", "failed", timeout=IMPORT_TIMEOUT_MS
    )
    error = page.locator("#import-error")
    expect(error).to_contain_text("The import failed and nothing was changed.")
    expect(error).to_contain_text("not a police.uk street-level header")
    expect(page.locator("#rows-imported")).to_have_count(0)

    assert (Incident.objects.count(), MonthlyCount.objects.count()) == before


@pytest.mark.browser
def test_a_resident_is_refused_the_staff_pages(page, live_server, resident):
    from playwright.sync_api import expect

    sign_in(page, "journey_resident")
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Your role does not give access")
    expect(page.locator("header nav")).to_have_count(0)

    response = page.goto("/")
    assert response is not None and response.status == 403


@pytest.mark.browser
def test_screen_places_and_save_a_run(page, analyst, demo_data):
    """A supervisor's question: where should we focus? Screen, see the map, save the run."""
    from playwright.sync_api import expect

    from placewise.incidents.actions import do_import_files
    from placewise.screening.models import ScreeningRun

    run = do_import_files(None, [DEMO / "police_uk_leicestershire_2020-12_2021-11.zip"])
    assert run.status == "succeeded", run.error
    sign_in(page, "journey_analyst")
    page.get_by_role("link", name="Screening", exact=True).click()
    page.get_by_label("Months").fill("12")
    page.get_by_label("Weight: trend").fill("0")
    page.get_by_role("button", name="Screen").click()
    expect(page.locator("#place-count")).to_have_text("611")
    the_map = page.locator(".map[data-map='outline']")
    expect(the_map).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))
    expect(page.locator("#concentration svg polyline").first).to_be_visible()
    first_row = page.locator("table tbody tr").first
    expect(first_row.locator("td").first).to_have_text("1")
    page.get_by_label("Title").fill("Journey screen")
    page.get_by_role("button", name="Save this run").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journey screen")
    saved = ScreeningRun.objects.get(title="Journey screen")
    assert saved.place_count == 611 and saved.weights["trend"] == 0
    page.get_by_role("link", name="brief").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Justification brief")


@pytest.mark.browser
def test_run_a_project_correct_an_action_and_take_the_pdf(page, demo_data, tmp_path):
    """An officer starts a project in a place, scores step 1, plans an action, corrects its
    due date, removes it again and takes the report away as a PDF."""
    from playwright.sync_api import expect

    from placewise.accounts.models import AuditEntry
    from placewise.places.models import Area, AreaKind
    from placewise.projects.models import Action, Project

    _user("journey_officer", "officer")
    lsoa = Area.objects.filter(kind=AreaKind.LSOA).exclude(geometry="").order_by("code").first()
    sign_in(page, "journey_officer")
    page.goto(f"/areas/{lsoa.pk}/")
    page.get_by_role("link", name="Start a project here").click()
    page.get_by_label("Title").fill("Journey IE")
    page.get_by_label("Purpose").fill("Reduce anti-social behaviour around the shops")
    page.get_by_role("button", name="Start project").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journey IE")
    project = Project.objects.get(title="Journey IE")

    page.get_by_role(
        "link", name="Clarify the justification for commencing Intensive Engagement"
    ).click()
    page.locator("#answer_0").fill("ASB reports doubled since the summer")
    page.locator("input[name=self_score][value='3']").check()
    page.get_by_role("button", name="Save step").click()
    expect(page.locator("#dose")).to_have_text("3.0")

    page.get_by_label("New action").fill("Door-knock the flats")
    page.get_by_label("Due").first.fill("2026-12-01")
    page.get_by_role("button", name="Add action").click()
    row = page.locator("#actions + table tbody tr").first
    expect(row).to_contain_text("Door-knock the flats")
    row.get_by_role("link", name="Change Door-knock the flats").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Change action")
    page.get_by_label("Due").fill("2026-12-15")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#actions + table tbody tr").first).to_contain_text("15 Dec 2026")
    action = Action.objects.get(project=project)
    assert action.due.isoformat() == "2026-12-15"

    page.get_by_role("link", name="Change Door-knock the flats").click()
    page.get_by_role("link", name="Remove this action").click()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Remove").click()
    expect(page.locator("#actions + table tbody tr").first).to_contain_text("No actions yet")
    assert not Action.objects.filter(project=project).exists()
    kept = set(AuditEntry.objects.filter(parent=project.audit_key).values_list("action", flat=True))
    assert {"add_action", "edit_action", "remove_action", "update_step"} <= kept

    page.get_by_role("link", name="printable report").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as PDF").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF-") and saved.stat().st_size > 2000
    assert not page.js_errors, page.js_errors
