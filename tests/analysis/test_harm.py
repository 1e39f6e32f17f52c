"""Tests for the volume-weighted CSS weights per police.uk category (no Django needed)."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from placewise.analysis.harm import (
    MAPPING_FILE,
    NON_TERRITORIAL_BODIES,
    OUTPUT_COLUMNS,
    POLICE_UK_CATEGORIES,
    REFERENCE_FOLDER,
    SEVERITY_FILE,
    VOLUME_FILE,
    HarmSources,
    derive_category_weights,
    load_harm_sources,
    weights_markdown,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED_TABLE = REPO / "data" / "reference" / "harm" / "css_weights_by_category.csv"
METHODS_DOC = REPO / "docs" / "methods" / "harm-weights.md"
NON_ASB = [c for c in POLICE_UK_CATEGORIES if c != "Anti-social behaviour"]


def _tiny_sources() -> HarmSources:
    severity = pd.DataFrame(
        {
            "ONS_COUNTS_code": ["45", "48", "126", "46"],
            "ONS_SEVERITY_weight": ["32.92", "128.43", "9.31", "11.86"],
            # Capitalised as in the source file, not as police.uk spells it.
            "POLICE_UK_CAT_MAP_category": ["Vehicle Crime"] * 3 + ["Shoplifting"],
        }
    )
    mappings = pd.DataFrame(
        {
            "Offence_Code": ["45", "48", "126", "46", "AF"],
            "Police.uk_Cat": ["Vehicle Crime"] * 3 + ["Shoplifting", "Other crime"],
        }
    )
    rows = [
        ("Kent", "45", "1,000", "Vehicle Crime"),  # thousands separator
        ("Kent", "45", "-10", "Vehicle Crime"),  # net downward revision, kept
        ("Essex", "48", "250", "Vehicle Crime"),
        ("British Transport Police", "48", "5000", "Vehicle Crime"),  # not territorial
        ("Action Fraud", "AF", "70000", "Other crime"),  # not territorial, no weight
        ("Kent", "ZZ", "7", "Vehicle Crime"),  # volume but no weight
        ("Kent", "46", " 40 ", "Shoplifting"),
    ]
    volumes = pd.DataFrame(
        rows, columns=["Force_Name", "Offence_Code", "Number_of_Offences", "Policeuk_Cat"]
    ).assign(Financial_Year="2017/18")
    return HarmSources(severity=severity, mappings=mappings, volumes=volumes)


def test_tiny_sources_weighted_mean_worked_by_hand():
    table = derive_category_weights(_tiny_sources()).set_index("category")

    # Vehicle crime uses code 45 (1000 - 10 = 990 offences) and code 48 (250; the BTP 5000
    # are out of scope). Code 126 has a weight but no volume; ZZ has volume but no weight.
    #   (32.92 * 990 + 128.43 * 250) / (990 + 250)
    #   = (32590.8 + 32107.5) / 1240 = 64698.3 / 1240 = 52.17604838709677...
    vehicle = table.loc["Vehicle crime"]
    assert vehicle["weight"] == pytest.approx(64698.3 / 1240)
    assert vehicle["weight"] == pytest.approx(52.176048387)
    assert (vehicle["offences"], vehicle["codes_used"]) == (1240, 2)
    assert (vehicle["codes_missing_volume"], vehicle["codes_missing_weight"]) == (1, 1)

    # One code: the weighted mean is the code's own weight.
    assert table.loc["Shoplifting", "weight"] == pytest.approx(11.86)
    assert table.loc["Shoplifting", "offences"] == 40

    # Action Fraud is out of scope, so "Other crime" has nothing to weight.
    assert math.isnan(table.loc["Other crime", "weight"])
    assert table.loc["Other crime", "offences"] == 0


def test_output_shape_and_order():
    table = derive_category_weights(_tiny_sources())
    assert tuple(table.columns) == OUTPUT_COLUMNS
    assert table["category"].tolist() == sorted(NON_ASB)


@pytest.fixture(scope="module")
def real_sources() -> HarmSources:
    return load_harm_sources(REFERENCE_FOLDER)


@pytest.fixture(scope="module")
def real_table(real_sources: HarmSources) -> pd.DataFrame:
    return derive_category_weights(real_sources)


def test_real_files_cover_the_13_non_asb_categories(real_table: pd.DataFrame):
    assert real_table["category"].tolist() == NON_ASB
    assert len(real_table) == 13
    assert (real_table["weight"] > 0).all()
    assert real_table["weight"].map(math.isfinite).all()
    assert (real_table["offences"] > 0).all()


def _independent_weight(category: str) -> tuple[float, int]:
    """Recompute one category with the csv module only, from the file as published."""
    with open(REFERENCE_FOLDER / SEVERITY_FILE, newline="", encoding="utf-8") as handle:
        weight = {
            row["ONS_COUNTS_code"]: float(row["ONS_SEVERITY_weight"])
            for row in csv.DictReader(handle)
        }
    offences: dict[str, int] = {}
    with open(REFERENCE_FOLDER / VOLUME_FILE, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Force_Name"] in NON_TERRITORIAL_BODIES:
                continue
            if row["Policeuk_Cat"].lower() != category.lower():
                continue
            code = row["Offence_Code"]
            offences[code] = offences.get(code, 0) + int(row["Number_of_Offences"])
    used = {code: n for code, n in offences.items() if n > 0 and code in weight}
    total = sum(used.values())
    return sum(weight[code] * n for code, n in used.items()) / total, total


@pytest.mark.parametrize("category", ["Burglary", "Vehicle crime", "Violence and sexual offences"])
def test_real_category_matches_plain_csv_arithmetic(real_table: pd.DataFrame, category: str):
    expected_weight, expected_offences = _independent_weight(category)
    row = real_table.set_index("category").loc[category]
    assert row["weight"] == pytest.approx(expected_weight, rel=1e-9)
    assert row["offences"] == expected_offences


def test_real_scope_and_gaps_are_as_documented(real_sources: HarmSources, real_table):
    forces = set(real_sources.volumes["Force_Name"]) - NON_TERRITORIAL_BODIES
    assert len(forces) == 43  # the territorial forces of England and Wales
    gaps = real_table.set_index("category")
    # Burglary: seven "outcome only" legacy codes with no 2017/18 volume. Violence: the four
    # homicide component codes (volume sits under the combined code) plus 19J and 19K.
    assert gaps.loc["Burglary", "codes_missing_volume"] == 7
    assert gaps.loc["Violence and sexual offences", "codes_missing_volume"] == 6
    assert gaps["codes_missing_volume"].sum() == 13
    assert gaps["codes_missing_weight"].sum() == 0
    assert gaps["codes_used"].sum() == 121


def test_shipped_table_equals_a_fresh_derivation(real_table: pd.DataFrame):
    shipped = pd.read_csv(SHIPPED_TABLE)
    assert tuple(shipped.columns) == OUTPUT_COLUMNS
    pd.testing.assert_frame_equal(shipped, real_table, check_dtype=False, rtol=1e-12)


def test_methods_doc_table_is_the_generated_one(real_table: pd.DataFrame):
    assert weights_markdown(real_table) in METHODS_DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("field", "column", "filename"),
    [
        ("volumes", "Number_of_Offences", VOLUME_FILE),
        ("severity", "ONS_SEVERITY_weight", SEVERITY_FILE),
        ("mappings", "Police.uk_Cat", MAPPING_FILE),
    ],
)
def test_missing_column_raises_naming_file_and_column(field, column, filename):
    sources = _tiny_sources()
    tables = {
        "severity": sources.severity,
        "mappings": sources.mappings,
        "volumes": sources.volumes,
    }
    tables[field] = tables[field].drop(columns=column)
    with pytest.raises(ValueError, match=re.escape(column)) as caught:
        derive_category_weights(HarmSources(**tables))
    assert filename in str(caught.value)


def test_load_rejects_a_file_missing_a_column(tmp_path: Path):
    for name in (SEVERITY_FILE, MAPPING_FILE):
        (tmp_path / name).write_bytes((REFERENCE_FOLDER / name).read_bytes())
    volumes = pd.read_csv(REFERENCE_FOLDER / VOLUME_FILE, dtype=str, nrows=5)
    volumes.drop(columns="Offence_Code").to_csv(tmp_path / VOLUME_FILE, index=False)
    with pytest.raises(ValueError, match=r"prc-pfa-201718_new\.csv.*'Offence_Code'"):
        load_harm_sources(tmp_path)


def test_offence_codes_stay_text(real_sources: HarmSources):
    # "4.10" read as a float would collide with "4.1" and lose a homicide code.
    codes = set(real_sources.severity["ONS_COUNTS_code"])
    assert {"4.1", "4.10", "37.1", "1/4.1/4.10/4.2"} <= codes


def test_unparseable_count_raises():
    sources = _tiny_sources()
    volumes = sources.volumes.copy()
    volumes.loc[0, "Number_of_Offences"] = "[x]"
    with pytest.raises(ValueError, match="Number_of_Offences.*'\\[x\\]'"):
        derive_category_weights(HarmSources(sources.severity, sources.mappings, volumes))


def test_conflicting_categories_raise():
    sources = _tiny_sources()
    mappings = sources.mappings.copy()
    mappings.loc[0, "Police.uk_Cat"] = "Other Theft"  # code 45 elsewhere is Vehicle Crime
    with pytest.raises(ValueError, match="'45' has conflicting police.uk categories"):
        derive_category_weights(HarmSources(sources.severity, mappings, sources.volumes))


def test_unknown_category_raises():
    sources = _tiny_sources()
    mappings = sources.mappings.copy()
    mappings.loc[0, "Police.uk_Cat"] = "Theft"
    with pytest.raises(ValueError, match="CrimeCatMappings.csv.*'Theft'"):
        derive_category_weights(HarmSources(sources.severity, mappings, sources.volumes))
