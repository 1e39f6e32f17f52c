"""The command line is a contract: other tools call it and read its JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LOADED_MONTHS, ROOT, street_csv_bytes, write_street
from django.core.management import CommandError, call_command

from placewise.incidents.models import Incident

pytestmark = pytest.mark.django_db


def run_json(capsys, *args) -> dict:
    call_command(*args, "--json")
    return json.loads(capsys.readouterr().out)


def test_import_json_summary(tmp_path, capsys):
    path = write_street(tmp_path, "2021-02")
    summary = run_json(capsys, "import_police_uk", str(tmp_path))
    lines = street_csv_bytes("2021-02").decode("utf-8-sig").splitlines()
    assert summary["rows_read"] == len(lines) - 1
    assert summary["rows_imported"] + summary["rows_rejected"] == summary["rows_read"]
    assert summary["months"] == ["2021-02"] and summary["forces"] == ["Leicestershire Police"]
    assert summary["rejections"] == {}
    assert path.exists()


def test_import_of_unreadable_input_exits_non_zero(tmp_path, capsys):
    path = write_street(tmp_path, "2021-02", b"a,b\n1,2\n")
    with pytest.raises(CommandError, match="nothing changed"):
        call_command("import_police_uk", str(path), "--json")
    assert json.loads(capsys.readouterr().out)["status"] == "failed"


def test_data_status_json(capsys):
    status = run_json(capsys, "data_status")
    assert status["incidents"] == Incident.objects.count()
    months = [r["month"] for r in status["by_force_month"]]
    assert months == list(LOADED_MONTHS)
    assert status["areas"]["lsoa"] == 740 and status["areas"]["unit"] == 9


def test_import_areas_json(capsys):
    demo = ROOT / "data" / "demo"
    out = run_json(capsys, "import_areas", str(demo / "lsoa11_centroids_leicestershire.csv.gz"))
    assert out[0]["kind"] == "centroids" and out[0]["areas_updated"] == 740


def test_import_areas_bad_file(tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(CommandError, match="x.geojson: the collection holds no features"):
        call_command("import_areas", str(path))


def test_console_script_runs_outside_python(tmp_path):
    """The installed `placewise` entry point works as a separate process."""
    exe = Path(sys.executable).with_name("placewise")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "DEBUG": "true"}
    subprocess.run([exe, "migrate", "-v", "0"], check=True, env=env, timeout=120)
    out = subprocess.run(
        [exe, "data_status", "--json"],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(out.stdout)["incidents"] == 0
