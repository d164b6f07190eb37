"""A refused form names every field to fill in at once, a nested object (五到位) each part."""

from __future__ import annotations

import pytest

from engine import FormInvalid
from tests.helpers import open_task, to_rectify


def test_every_missing_field_and_each_missing_part_of_the_plan_is_named(engine):
    case = to_rectify(engine, grade="major")
    task = open_task(engine, "dept_yjj", case, "rectify")
    with pytest.raises(FormInvalid) as refused:
        engine.complete(task["id"], engine.actor("dept_yjj"), {"action": "report"})
    reasons = refused.value.reasons
    expected = {
        "measures": "整改措施",
        "responsible_person": "整改责任人",
        "funds": "整改资金（元）",
        "rectify_photos": "整改后照片",
        "completed_on": "完成日期",
        "plan": "治理方案（五到位）",
        "plan.measures": "治理措施",
        "plan.responsibility": "责任落实",
        "plan.funds": "治理资金（元）",
        "plan.time_limit": "治理时限",
        "plan.contingency": "应急预案",
    }
    assert set(reasons) == set(expected)
    for name, title in expected.items():
        assert reasons[name].code == "required" and reasons[name].params["title"] == title


def test_a_part_of_the_plan_left_out_is_named_by_its_own_title(engine):
    case = to_rectify(engine, grade="major")
    task = open_task(engine, "dept_yjj", case, "rectify")
    plan = {
        "measures": "拆除储罐",
        "responsibility": "法人",
        "funds": 1000,
        "time_limit": "2026-04-01",
    }
    data = {
        "action": "report",
        "measures": "停产整顿",
        "responsible_person": "赵经理",
        "funds": 1000,
        "rectify_photos": ["p1"],
        "completed_on": "2026-03-06",
        "plan": plan,
    }
    with pytest.raises(FormInvalid) as refused:
        engine.complete(task["id"], engine.actor("dept_yjj"), data)
    assert refused.value.fields == {"plan.contingency": "请填写「应急预案」"}
