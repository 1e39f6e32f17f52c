"""The JSON API: token auth, schema, areas, aggregates and data status."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from placewise.accounts.models import ApiToken
from placewise.incidents.models import Incident
from placewise.places.models import Area, AreaKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(personas):
    return ApiToken.issue(personas["officer"], "test")[1]


def get(client, url, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(url, **headers)


def test_schema_lists_endpoints(client):
    schema = client.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Placewise API"
    for path in (
        "/api/areas",
        "/api/areas.geojson",
        "/api/incidents/aggregate",
        "/api/data-status",
    ):
        assert path in schema["paths"]


def test_token_required_and_checked(client, token):
    assert get(client, "/api/data-status").status_code == 401
    assert get(client, "/api/data-status", "pw_not-a-real-token").status_code == 401
    response = get(client, "/api/data-status", token)
    assert response.status_code == 200
    assert response.json()["incidents"] == Incident.objects.count()
    assert ApiToken.objects.get().last_used_at is not None


def test_token_of_resident_is_forbidden(client, personas):
    key = ApiToken.issue(personas["resident"])[1]
    assert get(client, "/api/areas", key).status_code == 403


def test_areas_filter_and_bad_kind(client, token):
    units = get(client, "/api/areas?kind=unit", token).json()
    assert len(units) == 9 and {u["kind"] for u in units} == {"unit"}
    bad = get(client, "/api/areas?kind=planet", token)
    assert bad.status_code == 400 and "kind must be one of" in bad.json()["detail"]


def test_areas_geojson(client, token):
    response = get(client, "/api/areas.geojson?kind=lsoa", token)
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert data["type"] == "FeatureCollection" and len(data["features"]) == 740


def test_aggregate_matches_rows(client, token):
    lsoa = Area.objects.get(kind=AreaKind.LSOA, code="E01013600")
    data = get(client, f"/api/incidents/aggregate?area_id={lsoa.pk}", token).json()
    rows = Incident.objects.filter(lsoa_code=lsoa.code)
    assert data["incidents"] == rows.count()
    assert sum(m["incidents"] for m in data["by_month"]) == rows.count()
    assert data["start"] == "2021-10" and data["end"] == "2021-11"
    assert "ASB weight" in data["harm_scheme"]


def test_aggregate_bad_month_and_missing_area(client, token):
    lsoa = Area.objects.filter(kind=AreaKind.LSOA).first()
    bad = get(client, f"/api/incidents/aggregate?area_id={lsoa.pk}&start=2021-13", token)
    assert bad.status_code == 400 and "YYYY-MM" in bad.json()["detail"]
    assert get(client, "/api/incidents/aggregate?area_id=999999", token).status_code == 404


def test_create_api_token_command(personas, capsys):
    call_command("create_api_token", "p_analyst")
    key = capsys.readouterr().out.strip()
    assert key.startswith("pw_")
    assert ApiToken.objects.get(key_hash=ApiToken.hash_key(key)).user == personas["analyst"]


def test_areas_paging_is_validated(client, token):
    assert get(client, "/api/areas?limit=-1", token).status_code == 422
    assert get(client, "/api/areas?offset=-5", token).status_code == 422
    page = get(client, "/api/areas?kind=lsoa&limit=10&offset=5", token).json()
    assert len(page) == 10
