"""The words after a step say what it did, as the form declares (`x-done`); the labels name
whose text it is; the first dispatch's timeline entry records the department and deadline."""

from __future__ import annotations

from tests.helpers import accept, act, open_task, report
from tests.web.test_pages import csrf, signed_in


def _dispatched(engine) -> int:
    case = report(engine)
    accept(engine, case)
    act(engine, "dispatcher", case, "dispatch", {"department": "yjj", "deadline_days": 10})
    return case


def _complete(browser, task_id, data):
    page = browser.get(f"/tasks/{task_id}")
    done = browser.post(
        f"/tasks/{task_id}/complete",
        data={**data, "csrf_token": csrf(page.text)},
        follow_redirects=True,
    )
    assert done.status_code == 200, done.text
    return done.text


def test_returning_a_case_says_returned_in_either_language(app, engine):
    case = _dispatched(engine)
    task = open_task(engine, "dept_yjj", case, "receive")
    dept = signed_in(app, "dept_yjj")
    assert "部门退回理由" in dept.get(f"/tasks/{task['id']}").text
    shown = _complete(dept, task["id"], {"decision": "return", "reason": "非本部门职责"})
    assert "已退回" in shown and "已办理：签收" not in shown

    other = _dispatched(engine)
    task = open_task(engine, "dept_yjj", other, "receive")
    english = signed_in(app, "dept_yjj", "en")
    assert "Received" in _complete(english, task["id"], {"decision": "accept"})


def test_the_verify_opinion_is_its_own_field(app, engine):
    from tests.helpers import RECTIFY_REPORT, to_rectify

    case = to_rectify(engine)
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    task = open_task(engine, "dispatcher", case, "verify")
    page = signed_in(app, "dispatcher").get(f"/tasks/{task['id']}").text
    assert 'name="verify_opinion"' in page and "复查意见" in page
    act(engine, "dispatcher", case, "verify", {"passed": False, "verify_opinion": "未封顶"})
    data = engine.instance(case)["data"]
    assert data["verify_opinion"] == "未封顶" and "opinion" not in data


def test_the_first_dispatch_records_department_and_deadline(engine):
    case = _dispatched(engine)
    entry = [e for e in engine.history(case) if e["task_name"] == "dispatch"][0]
    deadline = engine.instance(case)["data"]["deadline"]
    assert entry["changes"]["department"][1] == "yjj"  # the table's proposal, confirmed
    assert entry["changes"]["deadline_days"][1] == 10
    assert entry["changes"]["deadline"][1] == deadline  # what set_deadline made of it


def test_a_step_records_news_not_counters_starting_or_copies(engine):
    """Classification starts the counters at 0 and a return copies its reason: neither is
    listed again in the timeline."""
    case = _dispatched(engine)
    classified = [e for e in engine.history(case) if e["task_name"] == "classify"][0]
    assert classified["changes"]["outcome"][1] == "accept"
    assert "returns_count" not in classified["changes"]
    act(engine, "dept_yjj", case, "receive", {"decision": "return", "reason": "不归我局管"})
    returned = [e for e in engine.history(case) if e["task_name"] == "receive"][0]
    assert returned["changes"]["reason"][1] == "不归我局管"
    assert "return_reason" not in returned["changes"]
    assert returned["changes"]["returns_count"] == [0, 1]  # a counter that moved is news
