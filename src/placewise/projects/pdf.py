"""The project report as a PDF: the same content as the printable report page, on A4 pages
that can be emailed to partners or filed with the case.

The text uses the PDF core font (Helvetica), so no font file has to be present on the
machine. Its character set is Latin-1: curly quotes, dashes and ellipses become their plain
equivalents, accented letters outside Latin-1 lose the accent (Ō becomes O), and anything
else is shown as "?". The document's metadata keeps the title in full Unicode.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import unicodedata
import warnings
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.html import strip_tags
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import FontFace
from fpdf.svg import SVGObject

logger = logging.getLogger(__name__)

FONT = "Helvetica"
BLUE = (31, 95, 168)
PALE_BLUE = (214, 228, 243)
HEADING_FILL = (230, 235, 241)
GREY = (90, 96, 104)
DASH = "—"  # shown for an empty answer or field (printed as "-")
TRUNCATE = 120  # characters of a description or interests shown in a table, as on the page

# Typographic characters users paste from word processors, and letters with no Latin-1
# form, mapped to plain text the core font can show.
_PLAIN = {
    "‘": "'",
    "’": "'",
    "‚": ",",
    "‛": "'",
    "′": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "―": "-",
    "−": "-",
    "…": "...",
    "•": "*",
    "→": "->",
    "←": "<-",
    "≤": "<=",
    "≥": ">=",
    "€": "EUR",
    "™": "TM",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Œ": "OE",
    "œ": "oe",
    "ı": "i",
    "ſ": "s",
    "\u2002": " ",
    "\u2003": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",
    "\u200d": "",
    "\ufeff": "",
}


@lru_cache(maxsize=4096)
def _latin1_char(char: str) -> str:
    if char in _PLAIN:
        return _PLAIN[char]
    if ord(char) < 256:
        return char if char == "\n" or unicodedata.category(char) != "Cc" else ""
    # A letter with an accent outside Latin-1 (Ō, ő, ś) keeps its base letter.
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if base and all(ord(c) < 256 for c in base):
        return base
    return "?"


def _latin1(text: str) -> str:
    """Text the PDF core font can show: Latin-1, with sensible plain replacements."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    if all(ord(c) < 128 and (c.isprintable() or c == "\n") for c in text):
        return text
    return "".join(_latin1_char(c) for c in text)


def _truncate(text: str, limit: int = TRUNCATE) -> str:
    """Shortened like the page's truncatechars: at most ``limit`` characters, with "…"."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return DASH
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value.day} {value:%b %Y}"


def _person(user: Any) -> str:
    if user is None:
        return DASH
    return user.get_full_name() or user.get_username()


def _number(value: float | None) -> str:
    return DASH if value is None else f"{value:,.2f}"


class ReportPDF(FPDF):
    """A4 pages with the Placewise footer; every string is made printable in Latin-1."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.report_title = title
        self.footer_title: str | None = None
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()

    def normalize_text(self, text: str) -> str:
        return super().normalize_text(_latin1(text))

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, size=8)
        self.set_text_color(*GREY)
        if self.footer_title is None:
            # A long title is shortened to leave room for the page numbers.
            title, room = " ".join(self.report_title.split()), self.epw - 60
            if self.get_string_width(title) > room:
                while title and self.get_string_width(title + "…") > room:
                    title = title[:-1]
                title = title.rstrip() + "…"
            self.footer_title = title
        text = f"Placewise · {self.footer_title} · page {self.page_no()} of {{nb}}"
        self.cell(0, 5, text, align="C")
        self.set_text_color(0)

    # Text blocks ---------------------------------------------------------------------------

    def keep(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.will_page_break(height):
            self.add_page()

    def heading(self, text: str, size: float = 14, space_after: float = 40) -> None:
        """A heading, kept on the same page as at least ``space_after`` mm of what follows."""
        self.keep(size * 0.6 + space_after)
        self.ln(2)
        self.set_font(FONT, "B", size)
        self.set_text_color(*BLUE)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(1)

    def para(
        self, text: str, style: str = "", size: float = 10, grey: bool = False, gap: float = 1.5
    ) -> None:
        self.set_font(FONT, style, size)
        if grey:
            self.set_text_color(*GREY)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(gap)

    def table_of(
        self,
        headings: Sequence[str],
        rows: Iterable[Sequence[str]],
        widths: Sequence[float],
        align: Sequence[str] | None = None,
        caption: str = "",
    ) -> None:
        """A bordered table with a shaded heading row, repeated on each page it runs to; the
        caption stays on the page of the table's first rows."""
        self.keep(28 if caption else 20)
        if caption:
            self.para(caption, style="B", gap=1)
        self.set_font(FONT, size=9)
        with self.table(
            col_widths=tuple(widths),
            text_align=tuple(align) if align else "LEFT",
            line_height=self.font_size * 1.35,
            padding=(1, 1.5),
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            width=self.epw,
        ) as table:
            head = table.row()
            for text in headings:
                head.cell(text)
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(str(value))
        self.ln(3)

    # Pictures ------------------------------------------------------------------------------

    def svg(self, svg: str, width: float, caption: str = "") -> bool:
        """Draw an SVG chart centred at the current position, under its caption; False if it
        cannot be drawn (the caption is still shown)."""
        picture, data = None, b""
        if svg and "<svg" in svg:
            data = _latin1(str(svg)).encode("latin-1")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # attributes not drawn (aria, opacity)
                    picture = SVGObject(data)
            except Exception:  # a chart that cannot be drawn must not lose the report
                logger.warning("An SVG chart could not be read for the PDF report", exc_info=True)
        height = 10.0
        if picture is not None and picture.viewbox:
            _, _, box_w, box_h = picture.viewbox
            height = width * box_h / box_w if box_w else height
        self.keep(height + (8 if caption else 2))
        if caption:
            self.para(caption, style="B", gap=0.5)
        if picture is None:
            return False
        try:
            # Chart text without a colour of its own is black, as in a browser.
            with warnings.catch_warnings(), self.local_context(fill_color=0):
                warnings.simplefilter("ignore")
                self.image(io.BytesIO(data), x=Align.C, w=width)
        except Exception:
            logger.warning("An SVG chart could not be drawn in the PDF report", exc_info=True)
            return False
        self.ln(2)
        return True

    def outline(self, shapes: Sequence[dict], width: float = 90, height: float = 65) -> bool:
        """The project area's boundary, north up, scaled to fit a box; False if none."""
        drawn = [s for s in shapes if _rings(s.get("geometry") or {})]
        rings = [ring for shape in drawn for ring in _rings(shape.get("geometry") or {})]
        points = [p for _, ring in rings for p in ring]
        if not points:
            return False
        lons, lats = [p[0] for p in points], [p[1] for p in points]
        # Equirectangular: a degree of longitude is cos(latitude) of a degree of latitude.
        k = math.cos(math.radians((min(lats) + max(lats)) / 2))
        west, east, south, north = min(lons) * k, max(lons) * k, min(lats), max(lats)
        span_x, span_y = max(east - west, 1e-9), max(north - south, 1e-9)
        scale = min((width - 6) / span_x, (height - 6) / span_y)
        self.keep(height + 8)
        top = self.get_y()
        x0 = self.l_margin + (width - span_x * scale) / 2
        y0 = top + (height - span_y * scale) / 2
        with self.local_context(draw_color=200, line_width=0.2):
            self.rect(self.l_margin, top, width, height)
        with self.local_context(draw_color=BLUE, line_width=0.4):
            for hole, ring in rings:
                self.set_fill_color(*((255, 255, 255) if hole else PALE_BLUE))
                self.polygon(
                    [
                        (x0 + (lon * k - west) * scale, y0 + (north - lat) * scale)
                        for lon, lat in ring
                    ],
                    style="DF",
                )
        self.set_y(top + height + 1)
        across = span_x * 111.32  # km per degree of latitude
        names = ", ".join(str(s["name"]) for s in drawn if s.get("name")) or "The area"
        self.para(f"{names}: boundary, north up, about {across:,.1f} km across.", size=8, grey=True)
        return True


def _rings(geometry: dict) -> list[tuple[bool, list[tuple[float, float]]]]:
    """(is a hole, [(lon, lat), ...]) for each ring of a GeoJSON Polygon or MultiPolygon."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        polygons = [coordinates]
    elif kind == "MultiPolygon":
        polygons = coordinates
    else:
        return []
    rings = []
    for polygon in polygons:
        for i, ring in enumerate(polygon):
            points = [(float(p[0]), float(p[1])) for p in ring if len(p) >= 2]
            if len(points) >= 3:
                rings.append((i > 0, points))
    return rings


def report_pdf(context: dict, *, compress: bool = True) -> bytes:
    """The project report as A4 PDF bytes, from ``report_context(user, project)``.

    ``compress=False`` leaves the page streams readable (for checking the text).
    """
    project = context["project"]
    pdf = ReportPDF(project.title)
    pdf.set_compression(compress)
    pdf.set_title(project.title)
    pdf.set_author("Placewise")
    pdf.set_creator("Placewise")
    pdf.set_subject(f"Intensive Engagement project report: {project.area.name}")
    pdf.set_lang("en-GB")
    pdf.set_creation_date(timezone.now())
    pdf.add_page()
    _title_block(pdf, context)
    _place(pdf, context)
    for step, template_step, answers in context["rows"]:
        _step(pdf, context, step, template_step, answers)
    _reviews(pdf, context["reviews"])
    return bytes(pdf.output())


def _title_block(pdf: ReportPDF, context: dict) -> None:
    project, week = context["project"], context.get("week")
    pdf.set_font(FONT, "B", 20)
    pdf.multi_cell(0, 9, project.title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.para("Intensive Engagement project report", size=10, grey=True, gap=3)
    members = ", ".join(f"{_person(m.user)} ({m.get_role_display()})" for m in context["members"])
    plan = f"{project.plan_weeks} weeks" + (f", now in week {week}" if week else "")
    fields = [
        ("Process", project.template.name),
        ("Area", project.area.name),
        ("Started", _date(project.start_date)),
        ("Plan", plan),
        ("Dose", context["dose"].label),
        ("Review", project.get_review_status_display()),
        ("Members", members or DASH),
    ]
    pdf.set_font(FONT, size=10)
    with pdf.table(
        col_widths=(1, 4),
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        text_align="LEFT",
        line_height=pdf.font_size * 1.4,
        padding=(1, 1.5),
    ) as table:
        for label, value in fields:
            row = table.row()
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(str(value))
    pdf.ln(3)
    pdf.para("Purpose", style="B", gap=0.5)
    pdf.para(project.purpose or DASH, gap=3)


def _place(pdf: ReportPDF, context: dict) -> None:
    shapes, progress = context.get("shapes") or [], context.get("progress")
    if shapes:
        pdf.heading("The place", space_after=70)
        pdf.outline(shapes)
    if progress is None:
        return
    pdf.heading("Progress in the place", space_after=70)
    if progress.note:
        pdf.para(progress.note, grey=True)
    charts = [
        ("Incidents per 1,000 residents a month", progress.chart_incidents),
        ("Harm per 1,000 residents a month", progress.chart_harm),
    ]
    for caption, chart in charts:
        if chart and "<svg" not in chart:  # the chart's own message, e.g. no data
            pdf.para(caption, style="B", gap=0.5)
            pdf.para(strip_tags(chart), grey=True)
        elif chart and not pdf.svg(chart, pdf.epw, caption):
            pdf.para("The chart could not be drawn here; the table below gives the figures.")
    if progress.table:
        pdf.table_of(
            ("Place", "Before", "Months before", "During", "Months during"),
            [
                (
                    row["name"],
                    _number(row.get("before")),
                    str(row.get("months_before", DASH)),
                    _number(row.get("during")),
                    str(row.get("months_during", DASH)),
                )
                for row in progress.table
            ],
            widths=(4, 1.5, 1.5, 1.5, 1.5),
            align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            caption="Incidents per 1,000 residents a month, before and during",
        )


def _step(
    pdf: ReportPDF,
    context: dict,
    step: Any,
    template_step: Any,
    answers: Sequence[tuple[str, str]],
) -> None:
    pdf.heading(f"{step.number}. {step.title}", size=13)
    pdf.para(f"Status: {step.get_status_display()}", size=9, grey=True)
    for prompt, answer in answers:
        pdf.keep(12)
        pdf.para(prompt, style="B", gap=0.5)
        pdf.para(answer.strip() if answer and answer.strip() else DASH, gap=2)
    if step.notes:
        pdf.para("Notes", style="B", gap=0.5)
        pdf.para(step.notes, gap=2)
    if step.self_score:
        wording = template_step.rubric_levels().get(step.self_score, "")
        score = f"{step.self_score} of 5" + (f": “{wording}”" if wording else "")
    else:
        score = "not scored"
    pdf.para(f"Self-evaluation: {score}", style="I", size=9, grey=True, gap=3)
    if step.number == 2:
        _assets(pdf, list(context["assets"]), bool(context.get("show_contact")))
    elif step.number == 3:
        _network(pdf, context)
    elif step.number == 7:
        _actions(pdf, context["actions"])
    elif step.number == 8:
        _escalations(pdf, list(context["escalations"]))


def _assets(pdf: ReportPDF, assets: list, show_contact: bool) -> None:
    if not assets:
        return
    rows = []
    for a in assets:
        notes = _truncate(a.description) if a.description else ""
        # Contact details only for project members, and only where the person agreed.
        if show_contact and a.consent_to_share and a.contact:
            notes = f"{notes} · {a.contact}" if notes else a.contact
        rows.append((a.name, a.get_category_display(), notes or DASH))
    pdf.table_of(("Asset", "Category", "Notes"), rows, widths=(3, 3, 5), caption="Community assets")


def _network(pdf: ReportPDF, context: dict) -> None:
    people, measures = context.get("people") or [], context.get("measures")
    if not people:
        return
    drawing = context.get("drawing") or ""
    if drawing and not pdf.svg(drawing, 120, "Stakeholder network"):
        pdf.para("The network drawing could not be drawn here.", size=9, grey=True)

    def ties(pk: int) -> str:
        return str(int((measures or {}).get(pk, {}).get("degree", 0)))

    pdf.table_of(
        ("Stakeholder", "Interests", "Ties"),
        [(p.name, _truncate(p.interests) if p.interests else DASH, ties(p.pk)) for p in people],
        widths=(3, 6, 1),
        align=("LEFT", "LEFT", "RIGHT"),
        caption="Stakeholders, most connected first",
    )


def _measure(action: Any, progress: dict | None) -> str:
    text = action.success_measure or ""
    if progress and progress.get("during") is not None:
        computed = f"({action.measure_category}: {progress['before']} → {progress['during']})"
        text = f"{text} {computed}".strip()
    elif progress and progress.get("note"):
        text = f"{text} ({action.measure_category}: {progress['note']})".strip()
    return text or DASH


def _actions(pdf: ReportPDF, actions: Sequence[tuple[Any, dict | None]]) -> None:
    if not actions:
        return
    pdf.table_of(
        ("Action", "Owner", "Due", "Status", "Measure"),
        [
            (a.title, _person(a.owner), _date(a.due), a.get_status_display(), _measure(a, prog))
            for a, prog in actions
        ],
        widths=(4, 2.2, 1.8, 1.7, 4.5),
        caption="Actions",
    )


def _escalations(pdf: ReportPDF, escalations: list) -> None:
    if not escalations:
        return
    pdf.table_of(
        ("Risk", "Approach", "Level", "Status"),
        [
            (
                e.risk,
                e.approach or DASH,
                e.get_level_display(),
                e.get_status_display() + (f": {e.outcome}" if e.outcome else ""),
            )
            for e in escalations
        ],
        widths=(4, 3, 1.8, 3),
        caption="Escalations",
    )


def _reviews(pdf: ReportPDF, reviews: Iterable[Any]) -> None:
    reviews = list(reviews)
    if not reviews:
        return
    pdf.heading("Supervisor reviews", space_after=20)
    for r in reviews:
        pdf.keep(10)
        pdf.set_font(FONT, "B", 10)
        pdf.write(5, r.get_decision_display())
        pdf.set_font(FONT, "", 10)
        pdf.write(5, f", {_person(r.reviewer)}, {_date(r.created_at)}: {r.comment or DASH}")
        pdf.ln(7)
