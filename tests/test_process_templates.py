"""Process templates: the bundled LISP, West Mercia and SARA files, validation and the dose."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from placewise.lib.process_templates import (
    DEFAULT_TEMPLATE,
    RECORD_KINDS,
    ScoreError,
    TemplateError,
    bundled_folder,
    dose,
    load_bundled,
    load_template,
    parse_template,
    validate,
)

LISP_TITLES = [
    "Clarify the justification for commencing Intensive Engagement",
    "Community assets and vulnerabilities",
    "Stakeholders and networks",
    "Develop problem rich pictures",
    "Form a working group",
    "Develop solution rich pictures",
    "Agree interventions and evaluation",
    "Establish escalation processes",
]
WEST_MERCIA_TITLES = [
    "Establish justification and purpose",
    "Develop local teams",
    "Identify stakeholders and networks",
    "Deliver training",
    "Form local working groups",
    "Develop solution rich pictures",
    "Agree on interventions and evaluation",
    "Establish escalation processes",
]
SARA_TITLES = ["Scanning", "Analysis", "Response", "Assessment"]


@pytest.fixture(scope="module")
def bundled():
    return load_bundled()


@pytest.fixture
def lisp_data() -> dict:
    return json.loads((bundled_folder() / "lisp-8-step.json").read_text(encoding="utf-8"))


def write(tmp_path: Path, data, name: str = "force-own.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# --- the bundled templates ------------------------------------------------------------------


def test_three_bundled_templates_load_and_validate(bundled):
    assert set(bundled) == {"lisp-8-step", "west-mercia-ie-8-step", "sara"}
    assert DEFAULT_TEMPLATE in bundled
    for path in sorted(bundled_folder().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert validate(data, path.name) == []
        assert path.stem == data["slug"]
        assert data["version"] == 1


def test_lisp_follows_the_toolkit_steps_in_order(bundled):
    lisp = bundled["lisp-8-step"]
    assert len(lisp) == 8
    assert [s.title for s in lisp.steps] == LISP_TITLES
    assert lisp.numbers == (1, 2, 3, 4, 5, 6, 7, 8)
    step1 = lisp.step(1)
    assert "What does crime and other data tell us?" in step1.prompts
    assert "What are the issues identified?" in step1.prompts
    assert "What is the evidence for this?" in step1.prompts
    assert "Milton Keynes" in lisp.source


def test_west_mercia_follows_its_approach_section(bundled):
    wm = bundled["west-mercia-ie-8-step"]
    assert len(wm) == 8
    assert [s.title for s in wm.steps] == WEST_MERCIA_TITLES


def test_sara_has_four_stages(bundled):
    sara = bundled["sara"]
    assert len(sara) == 4
    assert [s.title for s in sara.steps] == SARA_TITLES
    assert "Eck" in sara.source and "Spelman" in sara.source and "1987" in sara.source


def test_every_step_has_five_levels_prompts_and_known_records(bundled):
    for template in bundled.values():
        for step in template.steps:
            assert len(step.rubric) == 5 and all(text.strip() for text in step.rubric)
            assert step.prompts and all(p.strip() for p in step.prompts)
            assert set(step.records) <= set(RECORD_KINDS)
            assert step.descriptor(1) == step.rubric[0]
            assert step.descriptor(5) == step.rubric[4]


def test_lisp_step_3_descriptors_carry_the_published_wording(bundled):
    step3 = bundled["lisp-8-step"].step("stakeholders")
    assert step3.number == 3
    bottom, top = step3.descriptor(1).lower(), step3.descriptor(5).lower()
    assert "came to our notice through earlier incidents" in bottom
    assert "highly connected, highly capable people are engaged" in top
    assert "self-interest" in top


def test_lisp_uses_the_reviews_typical_early_answer(bundled):
    lisp = bundled["lisp-8-step"]
    assert "Some crime short term data is being used as well as professional opinion" in (
        lisp.step(1).descriptor(2)
    )
    assert "don't have the resources to do it all ourselves" in lisp.step(5).descriptor(2)


def test_round_trip_through_the_file_format(bundled):
    for template in bundled.values():
        assert parse_template(template.as_dict(), template.slug) == template


def test_a_force_can_add_its_own_template(tmp_path, lisp_data):
    for name in ("lisp-8-step.json", "sara.json"):
        (tmp_path / name).write_bytes((bundled_folder() / name).read_bytes())
    own = copy.deepcopy(lisp_data)
    own["slug"], own["name"] = "force-own", "Our force's variant"
    own["steps"] = own["steps"][:3]
    write(tmp_path, own)
    templates = load_bundled(tmp_path)
    assert set(templates) == {"lisp-8-step", "sara", "force-own"}
    assert len(templates["force-own"]) == 3


# --- the dose -------------------------------------------------------------------------------


def test_dose_hand_worked(bundled):
    lisp = bundled["lisp-8-step"]
    result = dose({1: 2, 2: 3, 3: 3, 4: 2, 5: 3, 6: 2, 7: 3, 8: 3}, lisp)
    assert result.mean == pytest.approx(21 / 8) == pytest.approx(2.625)
    assert (result.scored, result.total, result.complete, result.unscored) == (8, 8, True, ())
    assert result.label == "2.6 out of 5 (8 of 8 steps scored)"


def test_dose_leaves_unscored_steps_out_and_reports_them(bundled):
    lisp = bundled["lisp-8-step"]
    # the later stages not implemented, as in the Milton Keynes pilot
    result = dose({1: 3, 2: 3, 3: 2, 4: 2, 5: 1, 6: None}, lisp)
    assert result.mean == pytest.approx(11 / 5)
    assert (result.scored, result.total, result.complete) == (5, 8, False)
    assert result.unscored == (6, 7, 8)
    empty = dose({}, bundled["sara"])
    assert empty.mean is None and empty.scored == 0 and empty.total == 4
    assert empty.unscored == (1, 2, 3, 4) and not empty.complete
    assert empty.label.startswith("not yet scored")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({9: 3}, "no step 9"),
        ({0: 3}, "no step 0"),
        ({"1": 3}, "no step '1'"),
        ({1: 6}, "step 1: score must be an integer 1-5"),
        ({1: 0}, "step 1: score must be an integer 1-5"),
        ({2: 2.5}, "step 2: score must be an integer 1-5"),
        ({3: "3"}, "step 3: score must be an integer 1-5"),
        ({4: True}, "step 4: score must be an integer 1-5"),
    ],
)
def test_dose_refuses_bad_scores(bundled, scores, message):
    with pytest.raises(ScoreError, match=message):
        dose(scores, bundled["lisp-8-step"])


# --- validation errors name the file, the step and the field ------------------------------


def refused(tmp_path: Path, data) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        load_template(write(tmp_path, data))
    message = str(info.value)
    assert "force-own.json" in message
    assert all(p.startswith("force-own.json: ") for p in info.value.problems)
    return info.value


def test_missing_top_level_field(tmp_path, lisp_data):
    del lisp_data["source"]
    err = refused(tmp_path, lisp_data)
    assert "missing field(s) 'source'" in str(err)


def test_missing_step_field(tmp_path, lisp_data):
    del lisp_data["steps"][2]["purpose"]
    err = refused(tmp_path, lisp_data)
    assert "step 3: missing field(s) 'purpose'" in str(err)


def test_unknown_step_field_is_a_typo(tmp_path, lisp_data):
    lisp_data["steps"][1]["promts"] = ["?"]
    err = refused(tmp_path, lisp_data)
    assert "step 2: unknown field(s) 'promts'" in str(err)


def test_step_numbers_out_of_order(tmp_path, lisp_data):
    steps = lisp_data["steps"]
    steps[3], steps[4] = steps[4], steps[3]
    err = refused(tmp_path, lisp_data)
    assert "step 5: field 'number' is 5 but steps must be numbered 1..n in order" in str(err)
    assert "this is step 4" in str(err)


def test_step_numbers_not_starting_at_one(tmp_path, lisp_data):
    for step in lisp_data["steps"]:
        step["number"] += 1
    err = refused(tmp_path, lisp_data)
    assert "step 2: field 'number' is 2" in err.problems[0]
    assert len(err.problems) == 8


def test_step_number_not_an_integer(tmp_path, lisp_data):
    lisp_data["steps"][0]["number"] = "1"
    err = refused(tmp_path, lisp_data)
    assert "field 'number' must be an integer" in str(err)


def test_duplicate_step_keys(tmp_path, lisp_data):
    lisp_data["steps"][5]["key"] = "problem_rich_pictures"
    err = refused(tmp_path, lisp_data)
    assert "step 6: field 'key' 'problem_rich_pictures' duplicates the key of step 4" in str(err)


def test_unknown_record_kind_lists_the_valid_ones(tmp_path, lisp_data):
    lisp_data["steps"][6]["records"].append("tasks")
    err = refused(tmp_path, lisp_data)
    message = str(err)
    assert "step 7: field 'records' has unknown record kind 'tasks'" in message
    assert "valid kinds: " + ", ".join(RECORD_KINDS) in message


def test_rubric_missing_a_level(tmp_path, lisp_data):
    del lisp_data["steps"][0]["rubric"]["4"]
    err = refused(tmp_path, lisp_data)
    assert "step 1: field 'rubric' must have exactly levels 1-5; missing level(s) 4" in str(err)


def test_rubric_with_an_extra_level(tmp_path, lisp_data):
    lisp_data["steps"][7]["rubric"]["6"] = "Beyond full implementation."
    err = refused(tmp_path, lisp_data)
    assert "step 8: field 'rubric' must have exactly levels 1-5; unexpected level(s) '6'" in (
        str(err)
    )


def test_rubric_level_with_no_text(tmp_path, lisp_data):
    lisp_data["steps"][2]["rubric"]["3"] = "   "
    err = refused(tmp_path, lisp_data)
    assert "step 3: field 'rubric' level 3 has no descriptor text" in str(err)


def test_empty_prompts(tmp_path, lisp_data):
    lisp_data["steps"][3]["prompts"] = []
    err = refused(tmp_path, lisp_data)
    assert "step 4: field 'prompts' must be a non-empty list" in str(err)


def test_blank_prompt(tmp_path, lisp_data):
    lisp_data["steps"][3]["prompts"].append("")
    err = refused(tmp_path, lisp_data)
    assert "step 4: field 'prompts' item 5 is empty" in str(err)


def test_every_problem_is_reported_at_once(tmp_path, lisp_data):
    lisp_data["version"] = 2
    lisp_data["steps"][0]["records"] = ["evidence", "crimes"]
    lisp_data["steps"][1]["prompts"] = []
    err = refused(tmp_path, lisp_data)
    assert len(err.problems) == 3
    assert str(err).startswith("3 problems:")
    assert "field 'version' must be 1" in str(err)
    assert validate(lisp_data, "force-own.json", raise_errors=False) == err.problems


def test_not_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "force-own.json"
    path.write_text('{"slug": "force-own",\n  "name": }', encoding="utf-8")
    with pytest.raises(TemplateError, match=r"force-own\.json: not valid JSON at line 2"):
        load_template(path)


def test_duplicate_slugs_in_a_folder(tmp_path, lisp_data):
    write(tmp_path, lisp_data, "a.json")
    write(tmp_path, lisp_data, "b.json")
    with pytest.raises(TemplateError, match=r"b\.json: field 'slug' 'lisp-8-step' is already"):
        load_bundled(tmp_path)


def test_no_steps(tmp_path, lisp_data):
    lisp_data["steps"] = []
    err = refused(tmp_path, lisp_data)
    assert "field 'steps' must be a non-empty list" in str(err)
