"""Importing police.uk street files: totals, replacement, rejections and bad input."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from conftest import LOADED_MONTHS, SHARED_DATA, first_lines, street_csv_bytes, write_street

from placewise.incidents.actions import do_import_files
from placewise.incidents.models import ImportRun, Incident, MonthlyCount, Rejection

pytestmark = pytest.mark.django_db


def data_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]


def snapshot() -> tuple[int, int, int]:
    return Incident.objects.count(), MonthlyCount.objects.count(), Rejection.objects.count()


def test_real_month_every_row_imported_and_counts_match(tmp_path):
    path = write_street(tmp_path, "2021-06")
    rows = data_rows(street_csv_bytes("2021-06"))
    run = do_import_files(None, [path])
    assert run.status == "succeeded"
    assert run.rows_read == len(rows) == run.rows_imported + run.rows_rejected
    assert run.months == ["2021-06"] and run.forces == ["Leicestershire Police"]
    stored = Incident.objects.filter(month="2021-06-01")
    assert stored.count() == run.rows_imported
    summary = MonthlyCount.objects.filter(month="2021-06-01")
    assert sum(summary.values_list("n", flat=True)) == stored.count()


def test_identical_asb_rows_are_all_kept(tmp_path):
    rows = data_rows(street_csv_bytes("2021-06"))
    seen, duplicates = set(), 0
    for r in rows:
        if r[9] == "Anti-social behaviour":
            duplicates += tuple(r) in seen
            seen.add(tuple(r))
    assert duplicates > 0, "the real file has identical ASB rows"
    run = do_import_files(None, [write_street(tmp_path, "2021-06")])
    asb = Incident.objects.filter(month="2021-06-01", category="Anti-social behaviour").count()
    assert asb == sum(1 for r in rows if r[9] == "Anti-social behaviour")
    assert run.rows_rejected == 0


def test_no_location_rows_kept_for_force_not_area(tmp_path):
    rows = data_rows(street_csv_bytes("2021-06"))
    no_location = sum(1 for r in rows if not r[4] and not r[7])
    assert no_location > 0
    do_import_files(None, [write_street(tmp_path, "2021-06")])
    stored = Incident.objects.filter(month="2021-06-01", lsoa_code="", longitude__isnull=True)
    assert stored.count() == no_location


def test_reimport_replaces_slice_and_totals_stay_the_same(tmp_path):
    before = Incident.objects.count()
    month_rows = Incident.objects.filter(month=f"{LOADED_MONTHS[0]}-01").count()
    path = write_street(tmp_path, LOADED_MONTHS[0])
    for _ in range(2):
        run = do_import_files(None, [path])
        assert run.rows_imported == month_rows
        assert Incident.objects.count() == before
    assert Incident.objects.filter(import_run=run).count() == month_rows


def test_zip_as_police_uk_serves_with_other_files_skipped(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("2021-05/2021-05-leicestershire-street.csv", street_csv_bytes("2021-05"))
        z.writestr("2021-05/2021-05-leicestershire-outcomes.csv", b"Crime ID,Month\n")
    run = do_import_files(None, [archive])
    assert run.status == "succeeded"
    assert run.months == ["2021-05"]
    assert any("outcomes" in n for n in run.notes)


def test_same_slice_in_two_files_later_one_wins(tmp_path):
    full = write_street(tmp_path / "a", "2021-04")
    part = write_street(tmp_path / "b", "2021-04", first_lines("2021-04", 10), name="z-copy.csv")
    run = do_import_files(None, [full, part])
    assert Incident.objects.filter(month="2021-04-01").count() == 10 == run.rows_imported
    assert any("replaces" in n for n in run.notes)


def test_cambridgeshire_keeps_both_lsoa_vintages():
    folder = SHARED_DATA / "police_uk" / "cambridgeshire" / "2023-03"
    if not folder.exists():
        from conftest import shared_data_or_skip

        shared_data_or_skip()
    run = do_import_files(None, [folder])
    assert run.rows_imported == 7153
    vintages = set(
        Incident.objects.filter(force="Cambridgeshire Constabulary").values_list(
            "lsoa_vintage", flat=True
        )
    )
    assert {"2011", "2021"} <= vintages
    assert len(run.notes) == 2  # outcomes and stop-and-search skipped


BAD_ROWS = [
    (
        b"x,2021-13,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,E01025631,"
        b"Blaby 002A,Burglary,,\n",
        "bad month",
    ),
    (
        b"x,2099-01,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,E01025631,"
        b"Blaby 002A,Burglary,,\n",
        "month in the future",
    ),
    (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,-200.5,52.6,On or near X,E01025631,"
        b"Blaby 002A,Burglary,,\n",
        "coordinates out of range",
    ),
    (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,abc,52.6,On or near X,E01025631,"
        b"Blaby 002A,Burglary,,\n",
        "bad coordinates",
    ),
    (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,E01025631,"
        b"Blaby 002A,Jaywalking,,\n",
        "unknown category",
    ),
    (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,E01025631,"
        b"Blaby 002A,Burglary\n",
        "wrong column count",
    ),
    (
        b"x,2021-03,Leicestershire Police,Leicestershire Police,-1.1,52.6,On or near X,NOTACODE,"
        b"Blaby 002A,Burglary,,\n",
        "bad LSOA code",
    ),
]


@pytest.mark.parametrize("row,reason", BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_bad_rows_are_rejected_with_reason_file_and_row(tmp_path, row, reason):
    data = (
        first_lines("2021-03", 5)
        + row
        + first_lines("2021-03", 8)[len(first_lines("2021-03", 5)) :]
    )
    run = do_import_files(None, [write_street(tmp_path, "2021-03", data)])
    assert run.status == "succeeded"
    assert run.rows_imported == 8 and run.rows_rejected == 1
    assert run.rejections == {reason: 1}
    rejected = Rejection.objects.get(import_run=run)
    assert rejected.row_number == 7  # header is line 1, five good rows, then this one
    assert rejected.file_name == "2021-03-leicestershire-street.csv"
    assert rejected.raw.startswith("x,")


def assert_fails_and_changes_nothing(tmp_path, path, *fragments):
    before = snapshot()
    run = do_import_files(None, [path])
    assert run.status == ImportRun.Status.FAILED
    for fragment in fragments:
        assert fragment in run.error, run.error
    assert snapshot() == before
    return run


def test_truncated_file_fails_naming_file_and_row(tmp_path):
    data = street_csv_bytes(LOADED_MONTHS[1])
    cut = data[: len(data) // 2]
    cut = cut[: cut.rfind(b",") + 1]  # end inside a row, as an interrupted download does
    path = write_street(tmp_path, LOADED_MONTHS[1], cut)
    run = assert_fails_and_changes_nothing(tmp_path, path, path.name, "truncated", "line ")
    assert Incident.objects.filter(month=f"{LOADED_MONTHS[1]}-01").exists()
    assert run.rows_imported == 0


def test_wrong_header_fails(tmp_path):
    data = b"Crime ID,Month,Something else\n1,2021-03,x\n"
    path = write_street(tmp_path, "2021-03", data)
    assert_fails_and_changes_nothing(tmp_path, path, path.name, "line 1", "missing")


def test_non_utf8_file_fails_naming_the_line(tmp_path):
    data = first_lines(LOADED_MONTHS[0], 3000)
    data = data.replace(b"On or near", "Près de".encode("latin-1"), 1)
    lines = data.splitlines()
    bad_line = next(i for i, line in enumerate(lines, 1) if b"Pr\xe8s" in line)
    path = write_street(tmp_path, LOADED_MONTHS[0], data)
    assert_fails_and_changes_nothing(tmp_path, path, path.name, "not UTF-8", f"line {bad_line}")


def test_empty_file_fails(tmp_path):
    path = write_street(tmp_path, "2021-03", b"")
    assert_fails_and_changes_nothing(tmp_path, path, path.name, "empty")


def test_zip_with_non_csv_member_fails(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(
            f"{LOADED_MONTHS[0]}/{LOADED_MONTHS[0]}-leicestershire-street.csv",
            first_lines(LOADED_MONTHS[0], 5),
        )
        z.writestr("notes/readme.docx", b"not a csv")
    assert_fails_and_changes_nothing(tmp_path, archive, "download.zip", "readme.docx", "not a CSV")


def test_failure_in_second_file_rolls_back_the_first(tmp_path):
    good = write_street(tmp_path / "a", LOADED_MONTHS[0], first_lines(LOADED_MONTHS[0], 20))
    bad = write_street(tmp_path / "b", "2021-03", b"not,a,police,file\n")
    before = snapshot()
    run = do_import_files(None, [good, bad])
    assert run.status == "failed"
    assert snapshot() == before


def test_not_a_csv_or_zip_fails(tmp_path):
    path = tmp_path / "boundaries.geojson"
    path.write_text("{}")
    assert_fails_and_changes_nothing(tmp_path, path, "boundaries.geojson", "not a CSV or zip")


def test_missing_path_fails(tmp_path):
    assert_fails_and_changes_nothing(tmp_path, tmp_path / "nope.csv", "no such file")


def test_same_file_given_twice_is_not_doubled(tmp_path):
    a = write_street(tmp_path / "a", "2021-04")
    b = write_street(tmp_path / "b", "2021-04")  # a copy with the same name elsewhere
    run = do_import_files(None, [a, b])
    rows = len(data_rows(street_csv_bytes("2021-04")))
    assert Incident.objects.filter(month="2021-04-01").count() == rows == run.rows_imported
    assert sum(MonthlyCount.objects.filter(month="2021-04-01").values_list("n", flat=True)) == rows
    assert any("input files 1 and 2" in n for n in run.notes)


def test_data_slice_records_the_import_that_owns_each_month(tmp_path):
    from placewise.incidents.models import DataSlice

    run = do_import_files(None, [write_street(tmp_path, LOADED_MONTHS[0])])
    piece = DataSlice.objects.get(month=f"{LOADED_MONTHS[0]}-01")
    assert piece.import_run == run and piece.rows == run.rows_imported
