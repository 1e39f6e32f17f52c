"""The pages as a user uses them: map, area, import with progress, areas, weights, sign-in."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import LOADED_MONTHS, first_lines
from django.core.files.uploadedfile import SimpleUploadedFile

from placewise.accounts.models import AuditEntry
from placewise.incidents.models import HarmWeight, ImportRun, Incident
from placewise.places.models import Area, AreaKind

pytestmark = pytest.mark.django_db


def test_home_shows_period_freshness_and_map_data(client_for):
    page = client_for("officer").get("/")
    text = page.content.decode()
    assert "Oct 2021 to Nov 2021 (2 months)" in text
    assert "October 2021" in text and "November 2021" in text  # data range
    geo = client_for("officer").get("/areas/map.geojson?measure=incidents").json()
    force = Area.objects.get(kind=AreaKind.FORCE)
    codes = set(Area.objects.filter(group_memberships__group=force).values_list("code", flat=True))
    assert len(codes) == 611  # the force's own LSOAs, not the neighbours' it has records in
    values = {f["properties"]["code"]: f["properties"]["value"] for f in geo["features"]}
    assert set(values) == codes
    assert sum(values.values()) == Incident.objects.filter(lsoa_code__in=codes).count()


def test_map_harm_uses_weights(client_for):
    geo = client_for("officer").get("/areas/map.geojson?measure=harm").json()
    harm = {f["properties"]["code"]: f["properties"]["value"] for f in geo["features"]}
    counts = client_for("officer").get("/areas/map.geojson").json()
    n = {f["properties"]["code"]: f["properties"]["value"] for f in counts["features"]}
    busiest = max(n, key=n.get)
    assert harm[busiest] > n[busiest]  # every crime weight is above 1


def test_area_page_shows_figures_and_force_comparison(client_for):
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    text = client_for("partner").get(f"/areas/{lsoa.pk}/").content.decode()
    n = Incident.objects.filter(lsoa_code=lsoa.code).count()
    assert f'id="kpi-incidents">{n:,}<' in text
    assert "Compared with Leicestershire Police" in text
    assert "IMD 2019 decile" in text and "<svg" in text


def test_upload_import_runs_in_background_and_reports(
    client_for, django_capture_on_commit_callbacks
):
    bad_row = (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,"
        b"E01025631,Blaby 002A,Jaywalking,,\n"
    )
    data = first_lines("2021-03", 20) + bad_row
    upload = SimpleUploadedFile("2021-03-leicestershire-street.csv", data, "text/csv")
    c = client_for("analyst")
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post("/data/import/", {"files": [upload]})
    assert response.status_code == 302
    run = ImportRun.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert run.status == "succeeded" and run.rows_imported == 20 and run.rows_rejected == 1
    page = c.get(response["Location"]).content.decode()
    assert 'data-status="succeeded"' in page and "unknown category" in page
    partial = c.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="import-progress"')
    rejected = c.get(f"/data/import/{run.pk}/rejected.csv")
    rows = list(csv.reader(io.StringIO(b"".join(rejected.streaming_content).decode())))
    assert rows[0] == ["file", "row", "field", "reason", "detail", "raw"]
    assert rows[1][1:4] == ["22", "Crime type", "unknown category"]
    assert AuditEntry.objects.filter(action="queue_import", object_id=str(run.pk)).exists()


def test_upload_refuses_other_file_types(client_for):
    upload = SimpleUploadedFile("crimes.xlsx", b"PK..", "application/octet-stream")
    response = client_for("analyst").post("/data/import/", {"files": [upload]}, follow=True)
    assert "only .csv and .zip files" in response.content.decode()
    assert not ImportRun.objects.filter(source="upload").exists()


def test_failed_upload_says_nothing_changed(client_for, django_capture_on_commit_callbacks):
    before = Incident.objects.count()
    upload = SimpleUploadedFile(f"{LOADED_MONTHS[0]}-x-street.csv", b"", "text/csv")
    c = client_for("analyst")
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post("/data/import/", {"files": [upload]})
    text = c.get(response["Location"]).content.decode()
    assert "The import failed and nothing was changed" in text and "empty" in text
    assert Incident.objects.count() == before


def test_define_custom_area_by_drawing(client_for):
    ring = [[-1.14, 52.63], [-1.13, 52.63], [-1.13, 52.64], [-1.14, 52.63]]
    response = client_for("analyst").post(
        "/areas/define/",
        {
            "mode": "polygon",
            "name": "Clock Tower",
            "drawn": json.dumps({"type": "Polygon", "coordinates": [ring]}),
        },
    )
    area = Area.objects.get(kind=AreaKind.CUSTOM, name="Clock Tower")
    assert response["Location"] == f"/areas/{area.pk}/"
    assert AuditEntry.objects.filter(action="define_area", object_id=str(area.pk)).exists()


def test_define_area_with_bad_geojson_upload_explains(client_for):
    upload = SimpleUploadedFile(
        "line.geojson",
        json.dumps({"type": "LineString", "coordinates": [[-1.1, 52.6], [-1.2, 52.7]]}).encode(),
    )
    response = client_for("analyst").post(
        "/areas/define/", {"mode": "polygon", "name": "X", "geojson_file": upload}
    )
    assert "line.geojson: geometry is LineString, not a Polygon" in response.content.decode()
    assert not Area.objects.filter(kind=AreaKind.CUSTOM).exists()


def test_define_group_form(client_for):
    response = client_for("analyst").post(
        "/areas/define/",
        {
            "mode": "lsoas",
            "name": "City centre IA",
            "kind": "impact_area",
            "lsoa_codes": "E01013600, E01013601\nE01013602",
        },
    )
    area = Area.objects.get(name="City centre IA")
    assert response.status_code == 302 and area.memberships.count() == 3


def test_admin_edits_harm_weights_with_audit(client_for):
    c = client_for("admin")
    page = c.get("/data/harm/").content.decode()
    assert 'name="w-Burglary"' in page
    response = c.post("/data/harm/", {"w-Burglary": "400", "w-Anti-social behaviour": "3"})
    assert response.status_code == 302
    assert HarmWeight.objects.get(category="Burglary").weight == 400
    entry = AuditEntry.objects.get(action="set_harm_weights")
    assert entry.after["Burglary"] == 400 and entry.before["Burglary"] != 400
    assert entry.actor_name == "p_admin"


def test_analyst_cannot_edit_weights(client_for):
    c = client_for("analyst")
    assert 'name="w-Burglary"' not in c.get("/data/harm/").content.decode()
    assert c.post("/data/harm/", {"w-Burglary": "1"}).status_code == 403
    assert HarmWeight.objects.get(category="Burglary").weight != 1


def test_negative_weight_refused(client_for):
    response = client_for("admin").post("/data/harm/", {"w-Burglary": "-4"}, follow=True)
    assert "must be zero or more" in response.content.decode()


def test_login_throttled_after_repeated_failures(client, personas, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/login/", {"username": "p_officer", "password": "wrong"})
    response = client.post(
        "/login/", {"username": "p_officer", "password": "correct horse battery staple"}
    )
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_works(client, personas):
    response = client.post(
        "/login/", {"username": "p_officer", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_security_headers(client_for):
    response = client_for("officer").get("/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_data_status_page(client_for):
    text = client_for("officer").get("/data/").content.decode()
    assert f'id="status-incidents">{Incident.objects.count():,}<' in text


@pytest.mark.django_db(transaction=True)
def test_upload_runs_on_the_database_queue_with_a_worker(client_for, settings, tmp_path):
    """The laptop default: the upload is queued in the database and a worker process runs it."""
    from django.core.management import call_command

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("2021-03-leicestershire-street.csv", first_lines("2021-03", 30))
    c = client_for("analyst")
    location = c.post("/data/import/", {"files": [upload]})["Location"]
    assert 'data-status="queued"' in c.get(location).content.decode()
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page = c.get(location).content.decode()
    assert 'data-status="succeeded"' in page
    assert 'id="rows-imported">30<' in page
    run = ImportRun.objects.get(source="upload")
    assert run.current_file == "2021-03-leicestershire-street.csv"
    assert not any(tmp_path.rglob("*.csv")), "uploaded files are removed after the import"


def test_area_files_upload_in_the_browser(client_for):
    from conftest import DEMO

    path = DEMO / "File_6_-_IoD2019_Population_Denominators_leicestershire.csv.gz"
    upload = SimpleUploadedFile(path.name, path.read_bytes())
    response = client_for("analyst").post(
        "/areas/define/", {"mode": "files", "area_files": [upload]}, follow=True
    )
    assert "(population): 740 LSOAs updated" in response.content.decode()
    assert AuditEntry.objects.filter(action="import_areas", actor__username="p_analyst").exists()


def test_bad_area_file_upload_changes_nothing(client_for):
    before = list(Area.objects.filter(kind="lsoa").values_list("code", "population"))
    upload = SimpleUploadedFile(
        "pop.csv",
        (
            b"LSOA code (2011),LSOA name (2011),Local Authority District code (2019),"
            b"Local Authority District name (2019),"
            b"Total population: mid 2015 (excluding prisoners)\n"
            b"E01013600,Leicester 001A,E06000016,Leicester,12\nE01013601,x,E06000016,Leicester,?\n"
        ),
    )
    response = client_for("analyst").post(
        "/areas/define/", {"mode": "files", "area_files": [upload]}, follow=True
    )
    assert "Nothing was changed: pop.csv: line 3" in response.content.decode()
    assert list(Area.objects.filter(kind="lsoa").values_list("code", "population")) == before


def test_area_upload_is_all_or_nothing_across_files(client_for):
    from conftest import DEMO

    good = DEMO / "lsoa11_centroids_leicestershire.csv.gz"
    before = list(Area.objects.filter(kind="lsoa").values_list("code", "centroid_source"))
    Area.objects.filter(kind="lsoa").update(centroid_source="before")
    bad = SimpleUploadedFile("bad.geojson", b'{"type": "FeatureCollection", "features": []}')
    response = client_for("analyst").post(
        "/areas/define/",
        {"mode": "files", "area_files": [SimpleUploadedFile(good.name, good.read_bytes()), bad]},
        follow=True,
    )
    assert "Nothing was changed: bad.geojson" in response.content.decode()
    assert set(Area.objects.filter(kind="lsoa").values_list("centroid_source", flat=True)) == {
        "before"
    }
    assert before


def test_a_web_worker_freezes_its_start_up_objects():
    """placewise.wsgi loads every view and freezes what start-up made (gc.freeze), so full
    garbage collections while serving skip them."""
    import gc
    import importlib
    import sys

    gc.unfreeze()
    try:
        wsgi = importlib.import_module("placewise.wsgi")
        importlib.reload(wsgi)
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        assert "placewise.projects.views" in sys.modules
        assert callable(wsgi.application)
    finally:
        gc.unfreeze()
