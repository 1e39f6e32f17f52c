"""Shared fixtures: a named cast of personas, the real demo areas and two real months."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
SHARED_DATA = Path(os.environ.get("PLACEWISE_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEMO_ZIP = DEMO / "police_uk_leicestershire_2020-12_2021-11.zip"
LOADED_MONTHS = ("2021-10", "2021-11")
PERSONAS = ("officer", "supervisor", "analyst", "partner", "resident", "admin")


def shared_data_or_skip() -> Path:
    """The shared public data folder; its absence fails in CI and skips elsewhere."""
    if SHARED_DATA.exists():
        return SHARED_DATA
    if os.environ.get("CI"):
        pytest.fail(f"{SHARED_DATA} is missing in CI")
    pytest.skip(f"{SHARED_DATA} is not present on this machine")


def street_csv_bytes(month: str) -> bytes:
    """A real police.uk street file for one month from the bundled demo zip."""
    with zipfile.ZipFile(DEMO_ZIP) as z:
        return z.read(f"{month}/{month}-leicestershire-street.csv")


def write_street(tmp_path: Path, month: str, data: bytes | None = None, name: str = "") -> Path:
    folder = tmp_path / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{month}-leicestershire-street.csv")
    path.write_bytes(street_csv_bytes(month) if data is None else data)
    return path


def first_lines(month: str, n: int) -> bytes:
    lines = street_csv_bytes(month).splitlines(keepends=True)
    return b"".join(lines[: n + 1])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker, tmp_path_factory):
    """Load the real demo areas and two real months once for the whole session."""
    from placewise.incidents.actions import do_import_files
    from placewise.places.actions import do_import_area_file, do_import_groups

    folder = tmp_path_factory.mktemp("police_uk")
    for month in LOADED_MONTHS:
        write_street(folder, month)
    with django_db_blocker.unblock():
        for name in (
            "lsoa11_boundaries_leicestershire.geojson.gz",
            "lsoa11_centroids_leicestershire.csv.gz",
            "File_6_-_IoD2019_Population_Denominators_leicestershire.csv.gz",
            "File_2_-_IoD2019_Domains_of_Deprivation_leicestershire.csv.gz",
        ):
            do_import_area_file(DEMO / name)
        do_import_groups(DEMO / "groups_leicestershire.csv", demo=True)
        run = do_import_files(None, [folder], source="test")
        assert run.status == "succeeded", run.error


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests check who may sign in, not the hash cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def personas(db):
    """One user per role: officer, supervisor, analyst, partner, resident, admin."""
    from placewise.accounts.models import Role, Team, User

    team = Team.objects.create(name="Test NPT")
    users = {}
    for name in PERSONAS:
        users[name] = User.objects.create_user(
            username=f"p_{name}",
            password="correct horse battery staple",
            role=Role(name),
            team=team if name in {"officer", "supervisor"} else None,
        )
    return users


@pytest.fixture
def client_for(client, personas):
    """A Django test client signed in as the named persona (None: nobody)."""
    from django.test import Client

    def make(name: str | None) -> Client:
        c = Client()
        if name is not None:
            c.force_login(personas[name])
        return c

    return make


@pytest.fixture
def stream_bytes():
    def read(response) -> bytes:
        if response.streaming:
            return b"".join(response.streaming_content)
        return response.content

    return read
