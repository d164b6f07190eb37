"""Shared form definitions (forms/_defs.json, used with $ref): deployed, stored and compiled
through the database, and refused when a reference names nothing, leaves the deployment or
goes round in a circle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine import DeployRefused, FormInvalid, deployments
from engine.definitions import compile_sources
from engine.models import Deployment, DeploymentFile
from tests.conftest import PROCESSES
from tests.helpers import accept, edit_json, report

CATEGORY_FORMS = {
    "report",
    "classify",
    "dispatch",
    "receive",
    "rectify",
    "approve_extension",
    "verify",
    "supervise",
}


def _forms_of_newest(engine) -> dict:
    """The forms of hazard_handling's newest version, compiled from the stored files."""
    with engine.db.reading() as session:
        version = deployments.latest_version(session, "hazard_handling")
        stored = deployments.files(session, version.deployment_id)
    return compile_sources(stored)["hazard_handling"].forms


def test_shared_options_are_stored_and_inlined_into_every_form(engine, make_engine):
    with engine.db.reading() as session:
        stored = session.execute(
            select(DeploymentFile.name, DeploymentFile.kind).where(
                DeploymentFile.name == "forms/_defs.json"
            )
        ).all()
    assert stored == [("forms/_defs.json", "form")]  # a deployment file like the forms
    defs = json.loads((PROCESSES / "forms" / "_defs.json").read_text(encoding="utf-8"))
    options = defs["$defs"]["category"]["oneOf"]
    assert len(options) == 12

    fresh = make_engine()  # compiles the stored files, not the folder
    forms = _forms_of_newest(fresh)
    assert "_defs" not in forms  # shared definitions are no form
    using = {key for key, form in forms.items() if "category" in form["properties"]}
    assert using == CATEGORY_FORMS
    for key in using:
        category = forms[key]["properties"]["category"]
        assert "$ref" not in category
        assert category["oneOf"] == options and category["type"] == "string"
        assert category["title"] == "行业类别"  # the form's own siblings stay beside it
        assert category.get("readOnly", False) == (key not in ("report", "classify"))
    assert forms["classify"]["properties"]["category"]["description"] == "上报时选择的类别，可更正"
    # what the pages, the API and the queue filters read is the complete schema
    start_form = fresh.processes()[0]["start_form"]
    assert start_form["properties"]["category"]["oneOf"] == options
    filters = {f["name"]: f for f in fresh.filter_fields(fresh.actor("dispatcher"))}
    assert [code for code, _title in filters["category"]["options"]] == [
        o["const"] for o in options
    ]


def test_a_shared_choice_is_validated_on_submission(engine):
    with pytest.raises(FormInvalid) as invalid:
        report(engine, category="mining_on_the_moon")
    assert invalid.value.reasons["category"].code == "choice"
    case = report(engine)
    with pytest.raises(FormInvalid) as invalid:
        accept(engine, case, category="nope")
    assert list(invalid.value.reasons) == ["category"]
    accept(engine, case, category="fireworks")  # the dispatcher corrects the category
    assert engine.instance(case)["data"]["category"] == "fireworks"


def test_adding_a_category_is_one_option_its_dmn_rows_and_its_translation(engine, folder):
    edit_json(
        folder / "forms" / "_defs.json",
        lambda d: d["$defs"]["category"]["oneOf"].append(
            {"const": "gas_station", "title": "加油站"}
        ),
    )
    dmn = folder / "dispatch.dmn"
    source = dmn.read_text(encoding="utf-8")
    rules = source[source.index('      <rule id="rule_electric_power_general">') :]
    rules = rules[: rules.index("    </decisionTable>")]
    new_rules = rules.replace("electric_power", "gas_station").replace("电力", "加油站")
    dmn.write_text(source.replace(rules, rules + new_rules), encoding="utf-8")
    en = folder / "translations" / "en.yaml"
    en.write_text(en.read_text(encoding="utf-8") + "加油站: Filling stations\n", "utf-8")

    warnings: list = []
    engine.validate([folder], warnings)
    assert warnings == []  # every form has it, the table covers it, it has its English
    assert engine.deploy([folder]).versions == {"hazard_handling": 2}

    forms = _forms_of_newest(engine)
    for key in CATEGORY_FORMS:
        codes = [o["const"] for o in forms[key]["properties"]["category"]["oneOf"]]
        assert len(codes) == 13 and codes[-1] == "gas_station", key
    case = report(engine, category="gas_station")
    accept(engine, case, category="gas_station")
    assert engine.instance(case)["data"]["department"] == "fgj"


def _set_category_ref(folder: Path, form: str, ref: str) -> None:
    edit_json(
        folder / "forms" / form,
        lambda d: d["properties"]["category"].update({"$ref": ref}),
    )


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("_defs.json#/$defs/nope", "names nothing in the deployment"),
        ("elsewhere.json#/$defs/category", "names nothing in the deployment"),
        ("../hazard.bpmn", "names nothing in the deployment"),
        ("https://example.com/defs.json#/$defs/category", "points outside the deployment"),
        ("file:///etc/passwd", "points outside the deployment"),
        ("#/properties/category", "is cyclic"),
        ("#", "is cyclic"),
    ],
    ids=["pointer", "file", "not-a-form", "remote", "local-file", "self", "root"],
)
def test_a_bad_ref_is_refused_naming_file_and_pointer(engine, folder, ref, words):
    _set_category_ref(folder, "dispatch.json", ref)
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([folder])
    assert [str(p) for p in refused.value.problems] == [
        f"forms/dispatch.json: properties/category: $ref '{ref}' {words}"
        + (
            ": only its forms/ files can be referenced, nothing is fetched"
            if "outside" in words
            else ": it names a schema around it"
            if "cyclic" in words
            else ""
        )
    ]
    with engine.db.reading() as session:
        assert session.query(Deployment).count() == 1  # nothing new stored


def test_a_cycle_through_the_shared_definitions_is_refused(engine, folder):
    def cycle(defs: dict) -> None:
        defs["$defs"]["place"] = {
            "type": "object",
            "properties": {"inside": {"$ref": "#/$defs/area"}},
        }
        defs["$defs"]["area"] = {"$ref": "#/$defs/place"}

    edit_json(folder / "forms" / "_defs.json", cycle)
    edit_json(
        folder / "forms" / "verify.json",
        lambda d: d["properties"].update({"place": {"$ref": "_defs.json#/$defs/place"}}),
    )
    with pytest.raises(DeployRefused) as refused:
        engine.validate([folder])
    problems = refused.value.problems
    assert problems and all(p.file == "forms/_defs.json" for p in problems), problems
    assert {p.element for p in problems} <= {"$defs/place/properties/inside", "$defs/area"}
    assert all("is cyclic" in p.message for p in problems)


def test_definitions_that_multiply_are_refused_not_expanded(engine, folder):
    def bomb(defs: dict) -> None:
        for i in range(40):
            twice = [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]
            defs["$defs"][f"d{i}"] = {"allOf": twice}
        defs["$defs"]["d40"] = {"type": "string"}

    edit_json(folder / "forms" / "_defs.json", bomb)
    with pytest.raises(DeployRefused) as refused:
        engine.validate([folder])
    assert [p.file for p in refused.value.problems] == ["forms/_defs.json"]
    assert "nested too deep or used too often" in refused.value.problems[0].message


def test_a_sibling_may_not_contradict_the_shared_definition(engine, folder):
    edit_json(
        folder / "forms" / "report.json",
        lambda d: d["properties"]["category"].update({"type": "integer"}),
    )
    with pytest.raises(DeployRefused) as refused:
        engine.validate([folder])
    assert [str(p) for p in refused.value.problems] == [
        "forms/report.json: properties/category: 'type' beside $ref "
        "'_defs.json#/$defs/category' differs from the referenced schema's: write it in one place"
    ]


def test_no_task_may_use_the_shared_definitions_as_its_form(engine, folder):
    bpmn = folder / "hazard.bpmn"
    source = bpmn.read_text(encoding="utf-8")
    bpmn.write_text(source.replace('value="verify"', 'value="_defs"'), encoding="utf-8")
    with pytest.raises(DeployRefused) as refused:
        engine.validate([folder])
    assert [str(p) for p in refused.value.problems] == [
        "hazard.bpmn: verify: form '_defs' not found: forms/_defs.json holds shared "
        "definitions, not a form"
    ]
