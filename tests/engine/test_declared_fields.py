"""The fields a process declares on its start form: `x-summary` (what summarises its cases),
`x-public` (what the public form asks for) and `x-search` (what a search finds its cases by),
checked at deploy and read from the compiled process of each case's own version."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from engine import CaseQuery, DeployRefused
from tests.helpers import MEMBER, REPORT, accept, act, edit_json, report

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("x-summary", "unit", "must be a list of field names"),
        ("x-public", ["unit", 3], "must be a list of field names"),
        ("x-summary", ["unit", "colour"], "'colour': no form of 'hazard_handling' has it"),
        ("x-search", "description", "must be a list of field names"),
        ("x-search", ["unit", "colour"], "'colour': no form of 'hazard_handling' has it"),
        ("x-public", [*REPORT, "grade"], "'grade': not a field of this form"),
        (
            "x-public",
            ["unit", "description"],
            "leaves out the required 'grid', 'category': a public report could never be submitted",
        ),
    ],
    ids=[
        "summary-not-a-list",
        "public-not-names",
        "summary-unknown",
        "search-not-a-list",
        "search-unknown",
        "public-unknown",
        "public-gap",
    ],
)
def test_declared_fields_are_checked_naming_the_form_and_the_key(
    engine, folder, key, value, message
):
    edit_json(folder / "forms" / "report.json", lambda d: d.update({key: value}))
    with pytest.raises(DeployRefused) as refused:
        engine.deploy([folder])
    assert [str(p) for p in refused.value.problems] == [f"forms/report.json: {key}: {message}"]


def test_each_process_summarises_its_cases_by_its_own_fields(engine, folder):
    engine.deploy([FIXTURES / "self_report"])
    engine.add_user("boss", roles=["enterprise"])
    engine.add_user("town_officer", roles=["township"])
    own = {"unit": "青石钢构厂", "category": "industry_trade", "description": "行车钢丝绳断股"}
    self_case = engine.start("enterprise_self_report", own, engine.actor("boss"))
    hazard_case = report(engine)
    summaries = engine.instance_summaries([self_case, hazard_case])
    assert summaries[self_case]["summary"] == {"unit": "青石钢构厂"}
    assert summaries[hazard_case]["summary"] == {
        "unit": REPORT["unit"],
        "grid": REPORT["grid"],
        "category": REPORT["category"],
        "description": REPORT["description"],
    }
    act(engine, "town_officer", self_case, "review", {"decision": "confirm"})
    accept(engine, hazard_case, grade="major")
    listed = {s["id"]: s["summary"] for s in engine.instances()}
    assert listed[self_case] == {"unit": "青石钢构厂", "decision": "confirm"}
    assert listed[hazard_case]["grade"] == "major"  # a field a later task set
    assert engine.instance_summary(self_case)["stage"] == ["确认归档"]
    assert [(p["process_id"], p["summary_fields"]) for p in engine.processes()] == [
        ("enterprise_self_report", ["unit", "decision"]),
        ("hazard_handling", ["unit", "grid", "category", "grade", "supervised", "description"]),
    ]
    assert [(p["process_id"], p["search_fields"]) for p in engine.processes()] == [
        ("enterprise_self_report", ["unit", "description", "remark"]),
        ("hazard_handling", ["unit", "description"]),
    ]

    # A version without x-summary summarises its cases by nothing; older cases keep theirs.
    edit_json(folder / "forms" / "report.json", lambda d: d.pop("x-summary"))
    engine.deploy([folder])
    bare_case = report(engine)
    summaries = engine.instance_summaries([bare_case, hazard_case])
    assert summaries[bare_case]["summary"] == {}
    assert summaries[hazard_case]["summary"]["unit"] == REPORT["unit"]


def test_a_list_of_cases_costs_no_query_per_case(engine):
    def statements_for(cases: list[int]) -> int:
        count = [0]

        def counted(*_args) -> None:
            count[0] += 1

        event.listen(engine.db.sa, "before_cursor_execute", counted)
        try:
            engine.instance_summaries(cases)
            engine.instances(created_by=MEMBER)
            engine.cases(engine.actor(MEMBER), CaseQuery(q="南门化工"))
            engine.tasks_for(engine.actor("dispatcher"))
        finally:
            event.remove(engine.db.sa, "before_cursor_execute", counted)
        return count[0]

    cases = [report(engine) for _ in range(6)]
    statements_for(cases)  # the versions' compiled processes are cached from now on
    assert statements_for(cases[:2]) == statements_for(cases)
