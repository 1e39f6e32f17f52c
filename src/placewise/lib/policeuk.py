"""Reading police.uk street-level files: CSVs, folders of them, and zips as police.uk serves.

Framework-light on purpose: no Django here, so the reader can be tested and benchmarked alone.
Rows are validated one at a time and streamed, so memory stays flat however big the input.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

STREET_HEADER = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
# The 14 categories police.uk publishes in street-level files, in its own words.
POLICE_UK_CATEGORIES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)
CATEGORIES = frozenset(POLICE_UK_CATEGORIES)
# police.uk also publishes these beside street files; they are recognised and skipped.
OTHER_POLICE_UK_FILES = {
    "-outcomes.csv": "outcomes file",
    "-stop-and-search.csv": "stop and search file",
}
# Great Britain, Northern Ireland and the Crown dependencies, with a margin.
UK_BOUNDS = (-11.0, 49.0, 3.0, 61.5)
LSOA_CODE = re.compile(r"^[EW]0\d{7}$")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
POINT_CACHE = 20_000  # distinct map points remembered; a force-month has a few thousand


class InputError(Exception):
    """An input that cannot be read at all: wrong header, not a CSV, not UTF-8, truncated."""


@dataclass(frozen=True)
class Source:
    """One CSV to read: a file on disk or a member of a zip."""

    name: str
    size: int
    opener: Callable[[], IO[bytes]]


@dataclass(frozen=True)
class Skipped:
    name: str
    why: str


@dataclass(frozen=True)
class Rejected:
    row_number: int
    reason: str
    field: str
    detail: str
    raw: str


# A valid row, ready to store: force, month (ISO date text, first of the month), crime_id,
# reported_by, longitude, latitude, location, lsoa_code, lsoa_name, lsoa_vintage, category,
# outcome, context.
Row = tuple[str, str, str, str, float | None, float | None, str, str, str, str, str, str, str]


def find_sources(paths: list[Path]) -> tuple[list[Source], list[Skipped]]:
    """Expand files, folders (any depth) and zips into CSV sources, in a stable order.

    Raises ``InputError`` for a path that does not exist, a zip that cannot be opened, a zip
    member that is not a CSV, or a file that is neither a CSV nor a zip.
    """
    sources: list[Source] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix.lower() in {".csv", ".zip"})
            if not files:
                raise InputError(f"{path}: folder holds no .csv or .zip files")
        else:
            files = [path]
        for file in files:
            _add_file(file, sources, skipped)
    return sources, skipped


def _add_file(file: Path, sources: list[Source], skipped: list[Skipped]) -> None:
    suffix = file.suffix.lower()
    if suffix == ".zip" or zipfile.is_zipfile(file):
        _add_zip(file, sources, skipped)
    elif suffix == ".csv":
        _classify(Source(file.name, file.stat().st_size, _opener(file)), sources, skipped)
    else:
        raise InputError(f"{file.name}: not a CSV or zip file")


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    def open_binary() -> IO[bytes]:
        return path.open("rb")

    return open_binary


def _add_zip(file: Path, sources: list[Source], skipped: list[Skipped]) -> None:
    try:
        archive = zipfile.ZipFile(file)
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{file.name}: not a readable zip ({exc})") from exc
    for member in sorted(members, key=lambda m: m.filename):
        base = member.filename.rsplit("/", 1)[-1]
        if member.filename.startswith("__MACOSX/") or base.startswith("."):
            continue  # archive tools' metadata, not data
        label = f"{file.name}:{member.filename}"
        if not base.lower().endswith(".csv"):
            raise InputError(
                f"{label}: zip member is not a CSV; police.uk zips hold only CSV files"
            )
        _classify(Source(label, member.file_size, partial(archive.open, member)), sources, skipped)


def _classify(source: Source, sources: list[Source], skipped: list[Skipped]) -> None:
    lowered = source.name.lower()
    for suffix, why in OTHER_POLICE_UK_FILES.items():
        if lowered.endswith(suffix):
            skipped.append(Skipped(source.name, f"police.uk {why}: not street-level data"))
            return
    sources.append(source)


class _CountingReader(io.RawIOBase):
    """Counts bytes read, for progress by bytes across files of any size."""

    def __init__(self, raw: IO[bytes]):
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


def read_street_file(
    source: Source,
    lsoa11_codes: frozenset[str],
    today: dt.date | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Row | Rejected]:
    """Yield each data row of a police.uk street CSV as a ``Row`` or a ``Rejected``.

    Raises ``InputError`` (naming the file and line) when the file is empty, has the wrong
    header, is not UTF-8, is not a CSV, or ends in a cut-off row.
    """
    validator = RowValidator(lsoa11_codes, today or dt.date.today())
    with source.opener() as raw:
        counter = _CountingReader(raw)
        text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), "utf-8-sig", newline="")
        reader = csv.reader(text, strict=True)
        try:
            _check_header(source.name, next(reader, None))
            previous: list[str] | None = None
            previous_line = 1
            for record in reader:
                if previous is not None:
                    yield validator.check(previous, previous_line)
                previous, previous_line = record, reader.line_num
                if on_bytes is not None and previous_line % 2000 == 0:
                    on_bytes(counter.count)
            if previous is not None:
                if len(previous) < len(STREET_HEADER):
                    raise InputError(
                        f"{source.name}: line {previous_line}: the file ends in a cut-off row "
                        f"({len(previous)} of {len(STREET_HEADER)} fields); it looks truncated"
                    )
                yield validator.check(previous, previous_line)
        except UnicodeDecodeError as exc:
            line, column = _first_undecodable(source)
            raise InputError(
                f"{source.name}: line {line}: not UTF-8 text ({exc.reason} at character "
                f"{column}); save the file as UTF-8 CSV"
            ) from exc
        except csv.Error as exc:
            raise InputError(
                f"{source.name}: line {reader.line_num}: not valid CSV ({exc})"
            ) from exc
        if on_bytes is not None:
            on_bytes(counter.count)


def _first_undecodable(source: Source) -> tuple[int, int]:
    """Where the first non-UTF-8 byte is (line, 1-based column): decoding reads in blocks,
    so the error itself cannot say which line it was on."""
    with source.opener() as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return number, exc.start + 1
    return 0, 0


def _check_header(name: str, header: list[str] | None) -> None:
    if header is None:
        raise InputError(f"{name}: the file is empty (no header row)")
    cleaned = tuple(h.strip() for h in header)
    if cleaned != STREET_HEADER:
        missing = [h for h in STREET_HEADER if h not in cleaned]
        extra = [h for h in cleaned if h not in STREET_HEADER]
        detail = []
        if missing:
            detail.append(f"missing {', '.join(missing)}")
        if extra:
            detail.append(f"unexpected {', '.join(extra[:5])}")
        if not detail:
            detail.append("columns in the wrong order")
        raise InputError(
            f"{name}: line 1: not a police.uk street-level header ({'; '.join(detail)})"
        )


class RowValidator:
    """Checks one row.

    Months, coordinates and LSOA codes repeat a great deal (police.uk snaps locations to a
    fixed set of map points), so each distinct value is checked once and remembered.
    """

    def __init__(self, lsoa11_codes: frozenset[str], today: dt.date):
        self.lsoa11_codes = lsoa11_codes
        self.this_month = today.replace(day=1)
        self.months: dict[str, str | Rejected] = {}
        self.points: dict[tuple[str, str], tuple] = {}
        self.lsoas: dict[str, str | None] = {"": ""}

    def check(self, r: list[str], line: int) -> Row | Rejected:
        if len(r) != 12:
            return self._reject(r, line, "wrong column count", "", f"{len(r)} fields, expected 12")
        month = self.months.get(r[1])
        if month is None:
            month = self.months[r[1]] = self._month(r[1])
        if isinstance(month, Rejected):
            return Rejected(line, month.reason, "Month", month.detail, ",".join(r)[:1000])
        if not r[3]:
            return self._reject(r, line, "missing force", "Falls within", "empty")
        category = r[9]
        if category not in CATEGORIES:
            return self._reject(r, line, "unknown category", "Crime type", repr(category)[:100])
        point = self.points.get((r[4], r[5]))
        if point is None:
            if len(self.points) >= POINT_CACHE:
                self.points.clear()  # keeps memory bounded on a very large single file
            point = self.points[(r[4], r[5])] = _coordinates(r[4], r[5])
        lon, lat, problem = point
        if problem:
            return self._reject(r, line, problem[0], problem[1], problem[2])
        lsoa = r[7]
        vintage = self.lsoas.get(lsoa, "?")
        if vintage == "?":
            vintage = self.lsoas[lsoa] = self._vintage(lsoa)
        if vintage is None:
            return self._reject(r, line, "bad LSOA code", "LSOA code", repr(lsoa)[:40])
        if len(r[0]) > 64:
            return self._reject(r, line, "bad crime ID", "Crime ID", "longer than 64 characters")
        return (
            r[3],
            month,
            r[0],
            r[2],
            lon,
            lat,
            r[6],
            lsoa,
            r[8],
            vintage,
            category,
            r[10],
            r[11],
        )

    def _vintage(self, code: str) -> str | None:
        """2011 for a code in the ONS 2011 list, 2021 for any other well-formed code."""
        if not LSOA_CODE.match(code):
            return None
        return "2011" if code in self.lsoa11_codes else "2021"

    def _month(self, text: str) -> str | Rejected:
        match = MONTH.match(text)
        if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
            return Rejected(0, "bad month", "Month", repr(text)[:40], "")
        month = dt.date(int(match.group(1)), int(match.group(2)), 1)
        if month > self.this_month:
            return Rejected(0, "month in the future", "Month", text, "")
        # ISO text, as both databases take it for a date column: binding a date object
        # costs an adapter call per row on the bulk path.
        return month.isoformat()

    @staticmethod
    def _reject(r: list[str], line: int, reason: str, field: str, detail: str) -> Rejected:
        return Rejected(line, reason, field, detail, ",".join(r)[:1000])


def _coordinates(lon_text: str, lat_text: str):
    if not lon_text and not lat_text:
        return None, None, None  # "No location": kept, counted for the force only
    if not lon_text or not lat_text:
        return None, None, ("bad coordinates", "Longitude", "only one of longitude/latitude given")
    try:
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        return None, None, ("bad coordinates", "Longitude", f"{lon_text!r}, {lat_text!r}"[:80])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90) or lon != lon or lat != lat:
        return None, None, ("coordinates out of range", "Longitude", f"{lon}, {lat}")
    west, south, east, north = UK_BOUNDS
    if not (west <= lon <= east and south <= lat <= north):
        return None, None, ("coordinates outside the UK", "Longitude", f"{lon}, {lat}")
    return lon, lat, None
