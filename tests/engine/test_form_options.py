"""Forms take the department choices from the organisation (`"x-options": "departments"` in
processes/forms/_defs.json): a department added is offered and accepted at once, without a
new deployment; a code that is no department is refused naming the field."""

from __future__ import annotations

import pytest

from engine import FormInvalid
from tests.conftest import PROCESSES
from tests.helpers import accept, act, open_task, report


def _choices(engine, case: int, role: str, step: str) -> dict[str, str]:
    form = open_task(engine, role, case, step)
    detail = engine.task(form["id"], engine.actor(role))
    options = detail["form"]["properties"]["department"]["oneOf"]
    return {o["const"]: o["title"] for o in options}


def test_a_new_department_is_offered_and_accepted_at_once(engine):
    case = report(engine)
    accept(engine, case)
    before = _choices(engine, case, "dispatcher", "dispatch")
    assert before["yjj"] == "应急管理局" and "sjj" not in before

    engine.change_organisation("add_department", "sjj", "市场监督管理局（新）")
    engine.add_user("dept_sjj", roles=["department"], department="sjj")
    assert _choices(engine, case, "dispatcher", "dispatch")["sjj"] == "市场监督管理局（新）"

    with pytest.raises(FormInvalid) as refused:
        act(engine, "dispatcher", case, "dispatch",
            {"department": "nope", "deadline_days": 5, "override_reason": "试"})  # fmt: skip
    assert set(refused.value.fields) == {"department"}
    act(engine, "dispatcher", case, "dispatch",
        {"department": "sjj", "deadline_days": 5, "override_reason": "属市场监管职责"})  # fmt: skip
    assert open_task(engine, "dept_sjj", case, "receive")  # the new department's officer has it
    assert engine.instance(case)["data"]["department"] == "sjj"


def test_the_filled_form_is_made_once_per_change_of_the_organisation(engine):
    case = report(engine)
    accept(engine, case)
    task = open_task(engine, "dispatcher", case, "dispatch")
    dispatcher = engine.actor("dispatcher")
    first = engine.task(task["id"], dispatcher)["form"]
    assert engine.task(task["id"], dispatcher)["form"] is first  # no copy per request
    engine.change_organisation("rename_department", "yjj", "应急管理局（改）")
    renamed = engine.task(task["id"], dispatcher)["form"]
    assert renamed is not first
    titles = {o["const"]: o["title"] for o in renamed["properties"]["department"]["oneOf"]}
    assert titles["yjj"] == "应急管理局（改）"


def test_a_draft_form_previews_the_organisations_departments(engine):
    base = engine.deployments()[0]["id"]
    content = (PROCESSES / "forms" / "dispatch.json").read_text(encoding="utf-8")
    schema, problems = engine.draft_form("forms/dispatch.json", content, base)
    assert problems == [] and schema is not None
    codes = {o["const"] for o in schema["properties"]["department"]["oneOf"]}
    assert {"yjj", "zjj"} <= codes
