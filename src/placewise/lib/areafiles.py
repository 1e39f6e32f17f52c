"""Reading area data as ONS and MHCLG publish it: boundaries, centroids, population, deprivation.

Framework-light: each reader returns plain records or raises ``AreaFileError`` naming the
file, row and field, so a bad file is refused whole before anything is stored.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import shapely
from shapely.geometry import mapping, shape


class AreaFileError(Exception):
    """A file that cannot be used, with where and why."""


@dataclass(frozen=True)
class Boundary:
    code: str
    name: str
    vintage: str
    geometry: dict[str, Any]
    bbox: tuple[float, float, float, float]
    centroid: tuple[float, float]


def open_text(path: Path) -> IO[str]:
    """Open a CSV or GeoJSON, gzipped or not, as UTF-8 text (a byte-order mark is allowed)."""
    raw: IO[bytes] = gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")  # type: ignore[assignment]
    return io.TextIOWrapper(raw, "utf-8-sig", newline="")


def polygon_geometry(data: Any, where: str) -> dict[str, Any]:
    """Check that ``data`` is a GeoJSON Polygon or MultiPolygon (bare, Feature or a collection
    of one) in WGS84 longitude/latitude; return the geometry."""
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        if len(features) != 1:
            raise AreaFileError(f"{where}: expected one polygon feature, found {len(features)}")
        data = features[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in {"Polygon", "MultiPolygon"}:
        kind = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise AreaFileError(f"{where}: geometry is {kind}, not a Polygon or MultiPolygon")
    try:
        geom = shape(data)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        raise AreaFileError(f"{where}: polygon coordinates cannot be read ({exc})") from exc
    if geom.is_empty or geom.area == 0:
        raise AreaFileError(f"{where}: the polygon is empty")
    west, south, east, north = geom.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise AreaFileError(
            f"{where}: coordinates are not longitude/latitude (WGS84); reproject to EPSG:4326"
        )
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
        if geom.geom_type not in {"Polygon", "MultiPolygon"}:
            raise AreaFileError(f"{where}: the polygon crosses itself and cannot be repaired")
    return mapping(geom)


def read_boundaries(path: Path) -> list[Boundary]:
    """LSOA boundaries from an ONS GeoJSON (LSOA11CD/LSOA11NM or LSOA21CD/LSOA21NM)."""
    try:
        with open_text(path) as f:
            data = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AreaFileError(f"{path.name}: not a GeoJSON file ({exc})") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise AreaFileError(f"{path.name}: expected a GeoJSON FeatureCollection of LSOAs")
    result = []
    for i, feature in enumerate(data.get("features") or [], start=1):
        props = feature.get("properties") or {}
        vintage = "2021" if "LSOA21CD" in props else "2011"
        code = props.get(f"LSOA{vintage[2:]}CD")
        if not code:
            raise AreaFileError(f"{path.name}: feature {i}: no LSOA11CD or LSOA21CD property")
        geometry = polygon_geometry(feature, f"{path.name}: feature {i} ({code})")
        geom = shape(geometry)
        point = geom.representative_point()
        result.append(
            Boundary(
                code=code,
                name=props.get(f"LSOA{vintage[2:]}NM") or code,
                vintage=vintage,
                geometry=geometry,
                bbox=tuple(geom.bounds),  # type: ignore[arg-type]
                centroid=(point.x, point.y),
            )
        )
    if not result:
        raise AreaFileError(f"{path.name}: the collection holds no features")
    return result


def _number(text: str, where: str) -> float:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        raise AreaFileError(f"{where}: {text!r} is not a number") from None


def _rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    f = open_text(path)
    reader = csv.reader(f)
    try:
        header = next(reader)
    except StopIteration:
        raise AreaFileError(f"{path.name}: the file is empty") from None
    except UnicodeDecodeError as exc:
        raise AreaFileError(f"{path.name}: not UTF-8 text") from exc
    return [h.strip() for h in header], reader


def _find(header: list[str], *candidates: str) -> int | None:
    for cand in candidates:
        for i, h in enumerate(header):
            if h.lower().startswith(cand.lower()):
                return i
    return None


def is_boundary_file(name: str) -> bool:
    """GeoJSON boundaries (optionally gzipped): imported before files that update LSOAs."""
    return name.lower().removesuffix(".gz").endswith((".geojson", ".json"))


def detect_kind(path: Path) -> str:
    """Which published area file this is: centroids, population, census, imd or domains."""
    if is_boundary_file(path.name):
        return "boundaries"
    header, _ = _rows(path)
    joined = "|".join(header)
    if "Crime Rank" in joined:
        return "domains"
    if "Index of Multiple Deprivation (IMD) Rank" in joined:
        return "imd"
    if "Total population: mid" in joined:
        return "population"
    if "Hectares" in joined and "Persons" in joined:
        return "census"
    if {"X", "Y"} <= set(header) and any(h.lower() == "lsoa11cd" for h in header):
        return "centroids"
    raise AreaFileError(
        f"{path.name}: line 1: not a recognised area file (expected ONS LSOA centroids, IoD2019 "
        "File 1, 2 or 6, or the Census 2011 population file)"
    )


def read_values(path: Path, kind: str) -> dict[str, dict[str, Any]]:
    """LSOA code -> the area fields this file provides. Raises on any bad value."""
    header, reader = _rows(path)
    spec = _SPECS[kind]
    code_col = _find(header, *spec["code"])
    if code_col is None:
        raise AreaFileError(f"{path.name}: line 1: no LSOA code column")
    cols = {}
    for name, candidates in spec["fields"].items():
        col = _find(header, *candidates)
        if col is None:
            raise AreaFileError(f"{path.name}: line 1: no column for {name}")
        cols[name] = col
    values: dict[str, dict[str, Any]] = {}
    try:
        for line, row in enumerate(reader, start=2):
            if not row or not any(row):
                continue
            if len(row) < len(header) - 1:
                raise AreaFileError(
                    f"{path.name}: line {line}: {len(row)} fields, expected {len(header)}"
                )
            record = {}
            for name, col in cols.items():
                number = _number(row[col], f"{path.name}: line {line}: {header[col]}")
                record[name] = number if name in _FLOAT_FIELDS else int(number)
            values[row[code_col].strip()] = record
    except UnicodeDecodeError as exc:
        raise AreaFileError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    return values


_FLOAT_FIELDS = {"centroid_lon", "centroid_lat", "hectares"}
_SPECS: dict[str, dict[str, Any]] = {
    "centroids": {"code": ["lsoa11cd"], "fields": {"centroid_lon": ["X"], "centroid_lat": ["Y"]}},
    "population": {
        "code": ["LSOA code"],
        "fields": {"population": ["Total population: mid"]},
    },
    "census": {
        "code": ["LSOA Code"],
        "fields": {
            "population": ["Persons"],
            "hectares": ["Hectares"],
            "households": ["Households"],
        },
    },
    "imd": {
        "code": ["LSOA code"],
        "fields": {
            "imd_rank": ["Index of Multiple Deprivation (IMD) Rank"],
            "imd_decile": ["Index of Multiple Deprivation (IMD) Decile"],
        },
    },
    "domains": {
        "code": ["LSOA code"],
        "fields": {
            "imd_rank": ["Index of Multiple Deprivation (IMD) Rank"],
            "imd_decile": ["Index of Multiple Deprivation (IMD) Decile"],
            "crime_rank": ["Crime Rank"],
            "crime_decile": ["Crime Decile"],
        },
    },
}
SOURCES = {
    "centroids": "ONS LSOA 2011 population-weighted centroids",
    "population": "MHCLG IoD2019 population denominators (mid-2015)",
    "census": "ONS Census 2011",
    "imd": "MHCLG English Indices of Deprivation 2019",
    "domains": "MHCLG English Indices of Deprivation 2019",
}


@dataclass(frozen=True)
class GroupRow:
    kind: str
    code: str
    name: str
    parent_code: str
    lsoa_code: str


GROUP_HEADER = ("kind", "code", "name", "parent_code", "lsoa_code")
GROUP_KINDS = ("force", "unit", "neighbourhood", "impact_area")


def read_groups(path: Path) -> list[GroupRow]:
    """Area groupings: one row per (group, LSOA); columns kind,code,name,parent_code,lsoa_code."""
    header, reader = _rows(path)
    if tuple(header) != GROUP_HEADER:
        raise AreaFileError(f"{path.name}: line 1: expected columns {', '.join(GROUP_HEADER)}")
    result = []
    for line, row in enumerate(reader, start=2):
        if len(row) != len(GROUP_HEADER):
            raise AreaFileError(f"{path.name}: line {line}: {len(row)} fields, expected 5")
        g = GroupRow(*(v.strip() for v in row))
        if g.kind not in GROUP_KINDS:
            raise AreaFileError(
                f"{path.name}: line {line}: kind {g.kind!r} is not one of {', '.join(GROUP_KINDS)}"
            )
        if not g.code or not g.name:
            raise AreaFileError(f"{path.name}: line {line}: code and name are required")
        result.append(g)
    return result
