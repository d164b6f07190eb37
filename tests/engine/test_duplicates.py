"""A duplicate may only point at an existing earlier case: the classify form's duplicate-of
field ("x-case": "earlier") is checked on the server and stored as the case's number."""

from __future__ import annotations

import pytest

from engine import FormInvalid
from tests.helpers import REPORT, act, report


def _duplicate(engine, case, of):
    data = {"outcome": "duplicate", "reason": "同一仓库", "duplicate_of": of}
    act(engine, "dispatcher", case, "classify", {**data, "category": REPORT["category"]})


def _refusal(engine, case, of) -> str:
    with pytest.raises(FormInvalid) as refused:
        _duplicate(engine, case, of)
    assert list(refused.value.reasons) == ["duplicate_of"]
    return refused.value.reasons["duplicate_of"].code


def test_a_duplicate_of_an_earlier_case_is_stored_as_its_number(engine):
    earlier = report(engine)
    number = engine.instance(earlier)["number"]
    case = report(engine)
    _duplicate(engine, case, "#" + str(earlier))  # typed as people do
    done = engine.instance(case)
    assert done["end_event"] == "end_duplicate"
    assert done["data"]["duplicate_of"] == number


def test_a_duplicate_of_no_case_a_later_one_or_itself_is_refused(engine):
    case = report(engine)
    later = report(engine)
    assert _refusal(engine, case, "YH-2026-999999") == "case_unknown"
    assert _refusal(engine, case, "隔壁那家") == "case_unknown"
    assert _refusal(engine, case, engine.instance(later)["number"]) == "case_not_earlier"
    assert _refusal(engine, case, str(case)) == "case_not_earlier"
    assert engine.instance(case)["open_tasks"][0]["task_name"] == "classify"  # nothing changed
