"""Process templates for problem-solving casework: LISP 8-step, West Mercia IE 8-step, SARA.

A template is data: its steps, the prompts a team answers at each step, the structured records
each step collects and the self-evaluation rubric (levels 1 = beginning to 5 = full
implementation). The bundled templates live in ``data/reference/process_templates/*.json``;
the format is described in the README there, so a force can add its own.

Framework-light: ``validate`` returns every problem it finds and, by default, raises
``TemplateError`` naming the file, the step and the field, so a bad template is refused whole.
``dose`` turns a project's step scores into its implementation level (the Milton Keynes LISP
review reports an average of 2.6 out of 5).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
LEVELS = (1, 2, 3, 4, 5)
LEVEL_NAMES = {1: "beginning", 5: "full implementation"}
RECORD_KINDS = (
    "evidence",
    "assets",
    "stakeholders",
    "relationships",
    "issues",
    "ideas",
    "working_group",
    "meetings",
    "actions",
    "escalations",
    "attachments",
)
TEMPLATE_KEYS = ("slug", "name", "description", "source", "version", "steps")
STEP_KEYS = ("number", "key", "title", "purpose", "prompts", "records", "rubric")
OPTIONAL_STEP_KEYS = ("guidance",)

DEFAULT_TEMPLATE = "lisp-8-step"  # the template a new project starts with

SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
KEY_RE = re.compile(r"[a-z][a-z0-9_]*")


def repository_root() -> Path:
    """The checkout this module sits in (src/placewise/lib/ is three folders down)."""
    return Path(__file__).resolve().parents[3]


def bundled_folder() -> Path:
    return repository_root() / "data" / "reference" / "process_templates"


class TemplateError(Exception):
    """A template that cannot be used; ``problems`` lists each one with where and why."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


class ScoreError(ValueError):
    """Self-evaluation scores that do not fit the template."""


@dataclass(frozen=True)
class Step:
    number: int
    key: str
    title: str
    purpose: str
    prompts: tuple[str, ...]
    records: tuple[str, ...]
    rubric: tuple[str, ...]  # the level descriptors for levels 1-5, in order
    guidance: str = ""

    def descriptor(self, level: int) -> str:
        """The rubric wording for a self-evaluation level (1 = beginning, 5 = full)."""
        if type(level) is not int or level not in LEVELS:
            raise ScoreError(f"step {self.number}: level must be an integer 1-5, not {level!r}")
        return self.rubric[level - 1]

    def rubric_levels(self) -> dict[int, str]:
        return dict(zip(LEVELS, self.rubric, strict=True))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "key": self.key,
            "title": self.title,
            "purpose": self.purpose,
            "prompts": list(self.prompts),
            "records": list(self.records),
            "rubric": {str(level): text for level, text in self.rubric_levels().items()},
        }
        if self.guidance:
            data["guidance"] = self.guidance
        return data


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    description: str
    source: str
    version: int
    steps: tuple[Step, ...]

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(s.number for s in self.steps)

    def step(self, number_or_key: int | str) -> Step:
        """A step by its number (1..n) or its key."""
        for s in self.steps:
            if s.number == number_or_key or s.key == number_or_key:
                return s
        raise KeyError(f"{self.slug}: no step {number_or_key!r}")

    def as_dict(self) -> dict[str, Any]:
        """The template in its JSON file format (``parse_template`` reads it back)."""
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "version": self.version,
            "steps": [s.as_dict() for s in self.steps],
        }


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_int(value: Any) -> bool:
    return type(value) is int  # bool is an int subclass; True is not step 1


def _check_step(raw: Any, index: int, where: str, seen_keys: dict[str, int]) -> list[str]:
    expected = index + 1
    if not isinstance(raw, dict):
        return [f"{where}: step {expected}: must be an object, not {type(raw).__name__}"]
    number = raw.get("number")
    label = f"step {number}" if _is_int(number) else f"step at position {expected}"
    at = f"{where}: {label}"
    problems: list[str] = []

    missing = [k for k in STEP_KEYS if k not in raw]
    if missing:
        problems.append(f"{at}: missing field(s) {', '.join(repr(k) for k in missing)}")
    unknown = sorted(set(raw) - set(STEP_KEYS) - set(OPTIONAL_STEP_KEYS))
    if unknown:
        allowed = ", ".join(STEP_KEYS + OPTIONAL_STEP_KEYS)
        problems.append(
            f"{at}: unknown field(s) {', '.join(repr(k) for k in unknown)} (allowed: {allowed})"
        )

    if "number" in raw:
        if not _is_int(number):
            problems.append(f"{at}: field 'number' must be an integer, not {number!r}")
        elif number != expected:
            problems.append(
                f"{at}: field 'number' is {number} but steps must be numbered 1..n in order; "
                f"this is step {expected}"
            )

    if "key" in raw:
        key = raw["key"]
        if not isinstance(key, str) or not KEY_RE.fullmatch(key):
            problems.append(
                f"{at}: field 'key' must be lower-case letters, digits and underscores "
                f"starting with a letter, not {key!r}"
            )
        elif key in seen_keys:
            problems.append(
                f"{at}: field 'key' {key!r} duplicates the key of step {seen_keys[key]}"
            )
        else:
            seen_keys[key] = expected

    for field in ("title", "purpose"):
        if field in raw and not _is_text(raw[field]):
            problems.append(f"{at}: field {field!r} must be non-empty text")

    if "prompts" in raw:
        prompts = raw["prompts"]
        if not isinstance(prompts, list) or not prompts:
            problems.append(f"{at}: field 'prompts' must be a non-empty list of questions")
        else:
            for i, prompt in enumerate(prompts, start=1):
                if not _is_text(prompt):
                    problems.append(f"{at}: field 'prompts' item {i} is empty or not text")

    if "records" in raw:
        records = raw["records"]
        if not isinstance(records, list):
            problems.append(f"{at}: field 'records' must be a list of record kinds")
        else:
            valid = ", ".join(RECORD_KINDS)
            seen: set[str] = set()
            for kind in records:
                if kind not in RECORD_KINDS:
                    problems.append(
                        f"{at}: field 'records' has unknown record kind {kind!r} "
                        f"(valid kinds: {valid})"
                    )
                elif kind in seen:
                    problems.append(f"{at}: field 'records' lists {kind!r} twice")
                else:
                    seen.add(kind)

    if "rubric" in raw:
        rubric = raw["rubric"]
        if not isinstance(rubric, dict):
            problems.append(f'{at}: field \'rubric\' must be an object with levels "1" to "5"')
        else:
            wanted = {str(level) for level in LEVELS}
            absent = sorted(wanted - set(rubric))
            extra = sorted(set(rubric) - wanted)
            if absent or extra:
                detail = []
                if absent:
                    detail.append(f"missing level(s) {', '.join(absent)}")
                if extra:
                    detail.append(f"unexpected level(s) {', '.join(repr(e) for e in extra)}")
                problems.append(
                    f"{at}: field 'rubric' must have exactly levels 1-5; {'; '.join(detail)}"
                )
            for level in sorted(wanted & set(rubric)):
                if not _is_text(rubric[level]):
                    problems.append(f"{at}: field 'rubric' level {level} has no descriptor text")

    if "guidance" in raw and not isinstance(raw["guidance"], str):
        problems.append(f"{at}: field 'guidance' must be text")
    return problems


def validate(data: Any, where: str = "<template>", *, raise_errors: bool = True) -> list[str]:
    """Every problem with a template's data, each naming ``where`` (the file), the step and the
    field. Raises ``TemplateError`` listing them all unless ``raise_errors`` is false, in which
    case the list is returned (empty when the template is good)."""
    problems: list[str] = []
    if not isinstance(data, dict):
        problems.append(f"{where}: a template must be a JSON object, not {type(data).__name__}")
    else:
        missing = [k for k in TEMPLATE_KEYS if k not in data]
        if missing:
            problems.append(f"{where}: missing field(s) {', '.join(repr(k) for k in missing)}")
        unknown = sorted(set(data) - set(TEMPLATE_KEYS))
        if unknown:
            problems.append(
                f"{where}: unknown field(s) {', '.join(repr(k) for k in unknown)} "
                f"(allowed: {', '.join(TEMPLATE_KEYS)})"
            )
        if "slug" in data and (
            not isinstance(data["slug"], str) or not SLUG_RE.fullmatch(data["slug"])
        ):
            problems.append(
                f"{where}: field 'slug' must be lower-case words joined by hyphens, "
                f"not {data['slug']!r}"
            )
        for field in ("name", "description", "source"):
            if field in data and not _is_text(data[field]):
                problems.append(f"{where}: field {field!r} must be non-empty text")
        if "version" in data and (
            not _is_int(data["version"]) or data["version"] != FORMAT_VERSION
        ):
            problems.append(
                f"{where}: field 'version' must be {FORMAT_VERSION}, not {data['version']!r}"
            )
        if "steps" in data:
            steps = data["steps"]
            if not isinstance(steps, list) or not steps:
                problems.append(f"{where}: field 'steps' must be a non-empty list of steps")
            else:
                seen_keys: dict[str, int] = {}
                for index, raw in enumerate(steps):
                    problems.extend(_check_step(raw, index, where, seen_keys))
    if problems and raise_errors:
        raise TemplateError(problems)
    return problems


def parse_template(data: Any, where: str = "<template>") -> Template:
    """A ``Template`` from data in the JSON file format, validated first."""
    validate(data, where)
    steps = tuple(
        Step(
            number=s["number"],
            key=s["key"],
            title=s["title"].strip(),
            purpose=s["purpose"].strip(),
            prompts=tuple(p.strip() for p in s["prompts"]),
            records=tuple(s["records"]),
            rubric=tuple(s["rubric"][str(level)].strip() for level in LEVELS),
            guidance=s.get("guidance", "").strip(),
        )
        for s in data["steps"]
    )
    return Template(
        slug=data["slug"],
        name=data["name"].strip(),
        description=data["description"].strip(),
        source=data["source"].strip(),
        version=data["version"],
        steps=steps,
    )


def load_template(path: Path | str) -> Template:
    """Read and validate one template file; problems are reported against the file's name."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TemplateError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{path.name}: not UTF-8 text ({exc.reason})") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(
            f"{path.name}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from exc
    return parse_template(data, path.name)


def load_bundled(folder: Path | str | None = None) -> dict[str, Template]:
    """Every ``*.json`` template in ``folder`` (default: the bundled
    ``data/reference/process_templates/``), keyed by slug, in file-name order."""
    folder = Path(folder) if folder is not None else bundled_folder()
    if not folder.is_dir():
        raise TemplateError(f"{folder}: no such template folder")
    templates: dict[str, Template] = {}
    files: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")):
        template = load_template(path)
        if template.slug in templates:
            raise TemplateError(
                f"{path.name}: field 'slug' {template.slug!r} is already used by "
                f"{files[template.slug]}"
            )
        templates[template.slug] = template
        files[template.slug] = path.name
    return templates


@dataclass(frozen=True)
class DoseResult:
    """A project's implementation level: the mean self-evaluation score over scored steps."""

    mean: float | None  # None until at least one step is scored
    scored: int
    total: int
    complete: bool  # every step has a score
    unscored: tuple[int, ...] = ()  # step numbers without a score, left out of the mean

    @property
    def label(self) -> str:
        """For example '2.6 out of 5 (8 of 8 steps scored)'."""
        if self.mean is None:
            return f"not yet scored (0 of {self.total} steps scored)"
        return f"{self.mean:.1f} out of 5 ({self.scored} of {self.total} steps scored)"


def dose(scores: Mapping[int, int | None], template: Template) -> DoseResult:
    """The "dose" of a project from its step scores (step number -> 1..5, or None when the
    step has not been scored; steps left out of ``scores`` count as unscored)."""
    numbers = set(template.numbers)
    problems: list[str] = []
    for number, score in scores.items():
        if not _is_int(number) or number not in numbers:
            problems.append(
                f"{template.slug}: there is no step {number!r} (steps are 1-{len(template)})"
            )
        elif score is not None and (not _is_int(score) or score not in LEVELS):
            problems.append(
                f"{template.slug}: step {number}: score must be an integer 1-5 or empty, "
                f"not {score!r}"
            )
    if problems:
        raise ScoreError("; ".join(problems))
    given = [score for n in template.numbers if (score := scores.get(n)) is not None]
    unscored = tuple(n for n in template.numbers if scores.get(n) is None)
    mean = sum(given) / len(given) if given else None
    return DoseResult(
        mean=mean,
        scored=len(given),
        total=len(template),
        complete=not unscored,
        unscored=unscored,
    )
