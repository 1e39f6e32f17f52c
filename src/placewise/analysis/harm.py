"""Volume-weighted ONS Crime Severity Score (CSS) weights per police.uk crime category.

The ONS CSS gives a weight to each Home Office offence code, but police.uk street-level files
only carry 14 broad categories. This module collapses the offence-level weights into one weight
per category, weighting each offence code by the number of offences the territorial police
forces of England and Wales recorded under it in 2017/18::

    weight_c = sum_k(css_weight_k * offences_k) / sum_k(offences_k),   k in category c

The method, the sources and every inclusion choice are documented in
``docs/methods/harm-weights.md``. Regenerate the shipped table with::

    python -m placewise.analysis.harm data/reference/harm/css_weights_by_category.csv

This module is pure pandas/numpy on purpose: it must run without Django settings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from placewise.lib.policeuk import POLICE_UK_CATEGORIES

ANTI_SOCIAL_BEHAVIOUR = "Anti-social behaviour"

SEVERITY_FILE = "policeuk-ons-code-join.csv"
MAPPING_FILE = "CrimeCatMappings.csv"
VOLUME_FILE = "prc-pfa-201718_new.csv"

# Only the columns the derivation reads. POLICE_UK_CAT_MAP_code is deliberately absent: a
# spreadsheet turned 23 of its values into date serials, so the join must use ONS_COUNTS_code.
SEVERITY_COLUMNS = ("ONS_COUNTS_code", "ONS_SEVERITY_weight", "POLICE_UK_CAT_MAP_category")
MAPPING_COLUMNS = ("Offence_Code", "Police.uk_Cat")
VOLUME_COLUMNS = (
    "Financial_Year",
    "Force_Name",
    "Offence_Code",
    "Number_of_Offences",
    "Policeuk_Cat",
)

OUTPUT_COLUMNS = (
    "category",
    "weight",
    "offences",
    "codes_used",
    "codes_missing_volume",
    "codes_missing_weight",
)

# Reporting bodies in the volume file that are not territorial forces. BTP polices the railways
# across force boundaries; the fraud bodies record nationally, with no place, and their codes
# have no CSS weight. The method is defined over the 43 territorial forces only.
NON_TERRITORIAL_BODIES = frozenset(
    {
        "British Transport Police",
        "Action Fraud",
        "CIFAS",
        "UK Finance",
        "Financial Fraud Action UK",
    }
)

# Source checkout layout: src/placewise/analysis/harm.py -> <repo>/data/reference/harm.
REFERENCE_FOLDER = Path(__file__).resolve().parents[3] / "data" / "reference" / "harm"


@dataclass(frozen=True, eq=False)
class HarmSources:
    """The three input tables of the derivation, as read from CSV (all cells text).

    Attributes
    ----------
    severity : pandas.DataFrame
        ``policeuk-ons-code-join.csv``: CSS weight per Home Office offence code.
    mappings : pandas.DataFrame
        ``CrimeCatMappings.csv``: Home Office offence code to police.uk category.
    volumes : pandas.DataFrame
        ``prc-pfa-201718_new.csv``: police recorded crime by force, quarter and offence code.

    Examples
    --------
    >>> import pandas as pd
    >>> empty = pd.DataFrame()
    >>> HarmSources(severity=empty, mappings=empty, volumes=empty).volumes.empty
    True
    """

    severity: pd.DataFrame
    mappings: pd.DataFrame
    volumes: pd.DataFrame


_SCHEMA = {
    "severity": (SEVERITY_FILE, SEVERITY_COLUMNS),
    "mappings": (MAPPING_FILE, MAPPING_COLUMNS),
    "volumes": (VOLUME_FILE, VOLUME_COLUMNS),
}


def load_harm_sources(folder: str | Path) -> HarmSources:
    """Read the three harm input CSVs from ``folder``.

    Every cell is read as stripped text: offence codes such as ``4.10`` and ``37.1`` must not
    be turned into numbers, and numbers are parsed later with errors that name the file.

    Parameters
    ----------
    folder : str or pathlib.Path
        Folder holding ``policeuk-ons-code-join.csv``, ``CrimeCatMappings.csv`` and
        ``prc-pfa-201718_new.csv``.

    Returns
    -------
    HarmSources
        The three tables, unchanged apart from whitespace stripping.

    Raises
    ------
    FileNotFoundError
        If one of the files is absent.
    ValueError
        If a file lacks a column the derivation needs; the message names file and column.

    Examples
    --------
    >>> sources = load_harm_sources(REFERENCE_FOLDER)
    >>> sources.volumes.loc[0, "Offence_Code"], sources.severity["ONS_COUNTS_code"].iloc[0]
    ('AF', '56A')
    """
    folder = Path(folder)
    tables = {field: _read_text_csv(folder / name) for field, (name, _) in _SCHEMA.items()}
    sources = HarmSources(**tables)
    _check_columns(sources)
    return sources


def derive_category_weights(sources: HarmSources) -> pd.DataFrame:
    """Volume-weighted CSS weight for each police.uk category except anti-social behaviour.

    An offence code counts towards its category's weight only when it has both a CSS weight
    and a positive net 2017/18 volume from the territorial forces; codes with only one of the
    two are counted in ``codes_missing_volume`` / ``codes_missing_weight`` instead.

    Parameters
    ----------
    sources : HarmSources
        The input tables, usually from :func:`load_harm_sources`.

    Returns
    -------
    pandas.DataFrame
        Columns ``category, weight, offences, codes_used, codes_missing_volume,
        codes_missing_weight``; one row per police.uk category except anti-social behaviour,
        sorted by category. ``weight`` is NaN for a category with no usable code.

    Raises
    ------
    ValueError
        If a column is missing, a number cannot be parsed, a category is not a police.uk
        category, or the sources disagree about an offence code's category.

    Examples
    --------
    Two vehicle-crime codes: (32.9 * 300 + 128.4 * 100) / 400 = 56.775.

    >>> import pandas as pd
    >>> sources = HarmSources(
    ...     severity=pd.DataFrame({
    ...         "ONS_COUNTS_code": ["45", "48"],
    ...         "ONS_SEVERITY_weight": ["32.9", "128.4"],
    ...         "POLICE_UK_CAT_MAP_category": ["Vehicle Crime", "Vehicle Crime"],
    ...     }),
    ...     mappings=pd.DataFrame({"Offence_Code": ["45"], "Police.uk_Cat": ["Vehicle Crime"]}),
    ...     volumes=pd.DataFrame({
    ...         "Financial_Year": ["2017/18", "2017/18"],
    ...         "Force_Name": ["Kent", "Essex"],
    ...         "Offence_Code": ["45", "48"],
    ...         "Number_of_Offences": ["300", "100"],
    ...         "Policeuk_Cat": ["Vehicle Crime", "Vehicle Crime"],
    ...     }),
    ... )
    >>> row = derive_category_weights(sources).set_index("category").loc["Vehicle crime"]
    >>> round(float(row["weight"]), 3), int(row["offences"]), int(row["codes_used"])
    (56.775, 400, 2)
    """
    _check_columns(sources)
    codes = _code_table(sources)
    rows = [
        _summarise(category, codes[codes["category"] == category])
        for category in POLICE_UK_CATEGORIES
        if category != ANTI_SOCIAL_BEHAVIOUR
    ]
    table = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS))
    return table.sort_values("category", ignore_index=True)


def weights_markdown(table: pd.DataFrame) -> str:
    """Render a :func:`derive_category_weights` table as Markdown (weights to 2 decimals).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`derive_category_weights`.

    Returns
    -------
    str
        A pipe table, one line per category, as used in ``docs/methods/harm-weights.md``.

    Examples
    --------
    >>> import pandas as pd
    >>> row = ["Robbery", 799.6288702, 76575, 2, 0, 0]
    >>> print(weights_markdown(pd.DataFrame([row], columns=list(OUTPUT_COLUMNS))))
    | Category | CSS weight | Offences 2017/18 | Codes used | Weight only | Volume only |
    |---|---:|---:|---:|---:|---:|
    | Robbery | 799.63 | 76,575 | 2 | 0 | 0 |
    """
    lines = [
        "| Category | CSS weight | Offences 2017/18 | Codes used | Weight only | Volume only |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in table.itertuples(index=False):
        lines.append(
            f"| {row.category} | {row.weight:.2f} | {row.offences:,} | {row.codes_used} "
            f"| {row.codes_missing_volume} | {row.codes_missing_weight} |"
        )
    return "\n".join(lines)


# --- reading and validation -----------------------------------------------------------------


def _read_text_csv(path: Path) -> pd.DataFrame:
    # utf-8-sig: a byte-order mark from a spreadsheet export would otherwise rename column one.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(column).strip() for column in frame.columns]
    return frame.apply(lambda column: column.str.strip())


def _check_columns(sources: HarmSources) -> None:
    for field in fields(sources):
        filename, required = _SCHEMA[field.name]
        frame = getattr(sources, field.name)
        missing = [column for column in required if column not in frame.columns]
        if missing:
            raise ValueError(
                f"{filename}: missing column(s) {', '.join(map(repr, missing))}; "
                f"found {', '.join(map(repr, frame.columns))}"
            )


def _as_text(values: pd.Series) -> pd.Series:
    # Hand-built frames may hold floats or NaN; treat them exactly like text read from CSV.
    return values.fillna("").astype(str).str.strip()


def _parse_numbers(values: pd.Series, filename: str, column: str, blank_ok: bool) -> pd.Series:
    # Spreadsheet exports of these tables often carry thousands separators ("1,287.54").
    text = _as_text(values).str.replace(",", "", regex=False)
    blank = text == ""
    numbers = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = (numbers.isna() & ~blank) | ~np.isfinite(numbers.fillna(0.0))
    if not blank_ok:
        bad |= blank
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(_as_text(values[bad]))[:3])
        raise ValueError(
            f"{filename}: column {column!r} has values that are not numbers: {examples}"
        )
    return numbers.astype(float)


def _parse_counts(values: pd.Series, filename: str, column: str) -> pd.Series:
    counts = _parse_numbers(values, filename, column, blank_ok=False)
    if (counts != counts.round()).any():
        raise ValueError(f"{filename}: column {column!r} has non-integer offence counts")
    return counts.astype("int64")


def _canonical_categories(values: pd.Series, filename: str, column: str) -> pd.Series:
    # The sources capitalise differently ("Criminal Damage and Arson"); police.uk names are
    # the canonical spelling, matched case-insensitively and ignoring repeated spaces.
    lookup = {name.casefold(): name for name in POLICE_UK_CATEGORIES}
    text = _as_text(values)
    canonical = text.map(lambda name: lookup.get(" ".join(name.split()).casefold()))
    unknown = canonical.isna() & (text != "")
    if unknown.any():
        names = ", ".join(repr(v) for v in pd.unique(text[unknown])[:5])
        raise ValueError(f"{filename}: column {column!r} has non-police.uk categories: {names}")
    return canonical


def _one_category_per_code(codes: pd.Series, categories: pd.Series, filename: str) -> pd.Series:
    frame = pd.DataFrame({"code": _as_text(codes), "category": categories})
    frame = frame[frame["code"] != ""].dropna().drop_duplicates()
    clash = frame["code"].duplicated(keep=False)
    if clash.any():
        raise ValueError(
            f"{filename}: offence code(s) {sorted(set(frame['code'][clash]))} "
            "are given more than one police.uk category"
        )
    return frame.set_index("code")["category"]


def _check_single_year(volumes: pd.DataFrame) -> None:
    # Summing across years would silently inflate volumes; the method is one financial year.
    years = pd.unique(_as_text(volumes["Financial_Year"]))
    if len(years) > 1:
        raise ValueError(
            f"{VOLUME_FILE}: column 'Financial_Year' holds several years {sorted(years)}; "
            "the derivation expects a single financial year"
        )


# --- derivation -----------------------------------------------------------------------------


def _severity_by_code(severity: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    codes = _as_text(severity["ONS_COUNTS_code"])
    weights = _parse_numbers(
        severity["ONS_SEVERITY_weight"], SEVERITY_FILE, "ONS_SEVERITY_weight", blank_ok=True
    )
    frame = pd.DataFrame({"code": codes, "weight": weights})
    frame = frame[frame["code"] != ""].drop_duplicates()
    clash = frame["code"].duplicated(keep=False)
    if clash.any():
        raise ValueError(
            f"{SEVERITY_FILE}: offence code(s) {sorted(set(frame['code'][clash]))} "
            "in column 'ONS_COUNTS_code' have conflicting weights"
        )
    categories = _canonical_categories(
        severity["POLICE_UK_CAT_MAP_category"], SEVERITY_FILE, "POLICE_UK_CAT_MAP_category"
    )
    by_code = _one_category_per_code(codes, categories, SEVERITY_FILE)
    return frame.set_index("code")["weight"].dropna(), by_code


def _volumes_by_code(volumes: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    _check_single_year(volumes)
    in_scope = volumes[~_as_text(volumes["Force_Name"]).isin(NON_TERRITORIAL_BODIES)]
    codes = _as_text(in_scope["Offence_Code"])
    counts = _parse_counts(in_scope["Number_of_Offences"], VOLUME_FILE, "Number_of_Offences")
    # Negative rows are net downward revisions (cancelled or reclassified crimes) and stay in:
    # the published figures are net counts. Homicide has four rows per force and quarter under
    # one combined code (one per component offence); the sum is the homicide total.
    offences = counts.groupby(codes).sum()
    categories = _canonical_categories(in_scope["Policeuk_Cat"], VOLUME_FILE, "Policeuk_Cat")
    return offences, _one_category_per_code(codes, categories, VOLUME_FILE)


def _resolve_categories(candidates: dict[str, pd.Series]) -> pd.Series:
    # The three files each assign codes to categories; they must agree wherever they overlap,
    # otherwise a code would silently land in whichever category was consulted first.
    table = pd.concat(candidates, axis=1)
    disagree = table.nunique(axis=1) > 1
    if disagree.any():
        code = table.index[disagree][0]
        detail = "; ".join(f"{name}: {value}" for name, value in table.loc[code].dropna().items())
        raise ValueError(f"offence code {code!r} has conflicting police.uk categories ({detail})")
    return table.bfill(axis=1).iloc[:, 0]


def _code_table(sources: HarmSources) -> pd.DataFrame:
    weights, severity_categories = _severity_by_code(sources.severity)
    offences, volume_categories = _volumes_by_code(sources.volumes)
    mapped = _one_category_per_code(
        sources.mappings["Offence_Code"],
        _canonical_categories(sources.mappings["Police.uk_Cat"], MAPPING_FILE, "Police.uk_Cat"),
        MAPPING_FILE,
    )
    category = _resolve_categories(
        {MAPPING_FILE: mapped, SEVERITY_FILE: severity_categories, VOLUME_FILE: volume_categories}
    )
    # A weighted or recorded code with no category anywhere would vanish from every row.
    category = category.reindex(category.index.union(weights.index).union(offences.index))
    if category.isna().any():
        orphans = sorted(category.index[category.isna()])
        raise ValueError(f"offence code(s) {orphans} have no police.uk category in any source")
    return pd.DataFrame(
        {
            "category": category,
            "weight": weights.reindex(category.index),
            "offences": offences.reindex(category.index, fill_value=0),
        }
    )


def _summarise(category: str, codes: pd.DataFrame) -> dict[str, object]:
    has_weight = codes["weight"].notna()
    has_volume = codes["offences"] > 0
    used = codes[has_weight & has_volume]
    offences = int(used["offences"].sum())
    weighted = float((used["weight"] * used["offences"]).sum())
    return {
        "category": category,
        "weight": weighted / offences if offences > 0 else np.nan,
        "offences": offences,
        "codes_used": len(used),
        "codes_missing_volume": int((has_weight & ~has_volume).sum()),
        "codes_missing_weight": int((~has_weight & has_volume).sum()),
    }


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Write the derived table to a CSV file; see the module docstring for usage."""
    parser = argparse.ArgumentParser(
        prog="python -m placewise.analysis.harm",
        description="Derive volume-weighted ONS CSS weights per police.uk category.",
    )
    parser.add_argument("output", type=Path, help="CSV file to write")
    parser.add_argument(
        "--sources",
        type=Path,
        default=REFERENCE_FOLDER,
        help=f"folder with the three input CSVs (default: {REFERENCE_FOLDER})",
    )
    parser.add_argument(
        "--markdown", action="store_true", help="also print the table as Markdown for the docs"
    )
    args = parser.parse_args(argv)
    table = derive_category_weights(load_harm_sources(args.sources))
    table.to_csv(args.output, index=False)
    if args.markdown:
        print(weights_markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
