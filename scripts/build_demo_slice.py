"""Rebuild the bundled demo slice in data/demo/ from the shared public data folder.

Usage: python scripts/build_demo_slice.py [SHARED_DATA_DIR]   (default ../shared/data)

Every file is real published data, cut down to the Leicestershire force area: the 12 most
recent police.uk street months as a police.uk-style zip, the ONS LSOA boundaries, and the
IoD2019 and centroid rows for those LSOAs (header and columns unchanged).
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONTHS = ["2020-12"] + [f"2021-{m:02d}" for m in range(1, 12)]
FORCE = "Leicestershire"


def main(shared: Path) -> None:
    demo, ref = ROOT / "data" / "demo", ROOT / "data" / "reference"
    demo.mkdir(parents=True, exist_ok=True)
    geo = shared / "geography"
    boundaries = json.loads((geo / "lsoa11_bsc_v3_leicestershire_subset.geojson").read_text())
    codes = {f["properties"]["LSOA11CD"] for f in boundaries["features"]}
    with gzip.open(demo / "lsoa11_boundaries_leicestershire.geojson.gz", "wt") as f:
        json.dump(boundaries, f, separators=(",", ":"))
    for name in (
        "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
        "File_6_-_IoD2019_Population_Denominators.csv.gz",
    ):
        _subset_csv(geo / name, demo / name.replace(".csv.gz", "_leicestershire.csv.gz"), codes, 0)
    _subset_csv(
        geo / "Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv",
        demo / "lsoa11_centroids_leicestershire.csv.gz",
        codes,
        3,
    )
    _all_lsoa11_codes(geo, ref / "lsoa11_codes.txt.gz")
    _groups(geo / "PoliceforceLSOA.csv", demo / "groups_leicestershire.csv")
    _street_zip(
        shared / "police_uk" / "leicestershire",
        demo / "police_uk_leicestershire_2020-12_2021-11.zip",
    )


def _subset_csv(src: Path, dest: Path, codes: set[str], col: int) -> None:
    opener = gzip.open if src.suffix == ".gz" else open
    with opener(src, "rt", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    with gzip.open(dest, "wt", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(rows[0])
        writer.writerows(r for r in rows[1:] if r and r[col] in codes)


def _all_lsoa11_codes(geo: Path, dest: Path) -> None:
    path = geo / "Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        codes = sorted({r["lsoa11cd"] for r in csv.DictReader(f)})
    dest.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(dest, "wt") as out:
        out.write("\n".join(codes) + "\n")


def _groups(lookup: Path, dest: Path) -> None:
    """Demo groupings: the force, local authority districts as units, MSOAs as neighbourhoods."""
    with open(lookup, encoding="utf-8-sig", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["Police_force"] == FORCE]
    force_code = "leicestershire-police"
    with open(dest, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["kind", "code", "name", "parent_code", "lsoa_code"])
        for r in sorted(rows, key=lambda r: r["LSOA Code"]):
            w.writerow(["force", force_code, "Leicestershire Police", "", r["LSOA Code"]])
            w.writerow(
                [
                    "unit",
                    r["Local authority code"],
                    r["Local authority name"],
                    force_code,
                    r["LSOA Code"],
                ]
            )
            w.writerow(
                [
                    "neighbourhood",
                    r["MSOA Code"],
                    r["MSOA Name"],
                    r["Local authority code"],
                    r["LSOA Code"],
                ]
            )


def _street_zip(folder: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for month in MONTHS:
            name = f"{month}/{month}-leicestershire-street.csv"
            z.write(folder / name, name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
    print("demo slice written to data/demo/")
