"""The hazard lifecycle through the JSON API of a running server, as API clients use it."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import MAJOR_PLAN, MEMBER, RECTIFY_REPORT, REPORT
from tests.web.conftest import Client

pytestmark = pytest.mark.slow


class Case:
    """One case driven through HTTP by the people who work it."""

    def __init__(self, client, **report_changes) -> None:
        self.client = client
        response = client(MEMBER).post(
            "/processes/hazard_handling/instances", {**REPORT, **report_changes}
        )
        assert response.status_code == 201, response.text
        self.id = response.json()["id"]

    def task(self, username: str, task_name: str) -> dict:
        tasks = self.client(username).get("/tasks", task_name=task_name).json()["items"]
        mine = [t for t in tasks if t["instance_id"] == self.id]
        assert mine, f"{username} has no '{task_name}' task in case {self.id}"
        return mine[0]

    def complete(self, username: str, task_name: str, data: dict, status: int = 200):
        task = self.task(username, task_name)
        data = self.client(username).with_photos(data)
        response = self.client(username).post(f"/tasks/{task['id']}/complete", data)
        assert response.status_code == status, response.text
        return response.json()

    def detail(self) -> dict:
        response = self.client("dispatcher").get(f"/instances/{self.id}")
        assert response.status_code == 200, response.text
        return response.json()

    def open_tasks(self) -> list[str]:
        return sorted(t["task_name"] for t in self.detail()["open_tasks"])

    def accept_and_dispatch(self, grade: str = "general") -> None:
        self.complete(
            "dispatcher",
            "classify",
            {"outcome": "accept", "grade": grade, "category": REPORT["category"]},
        )
        data = self.detail()["data"]
        self.complete(
            "dispatcher",
            "dispatch",
            {"department": data["department"], "deadline_days": data["deadline_days"]},
        )


def test_happy_path_with_history(client):
    case = Case(client)
    case.accept_and_dispatch()
    case.complete("dept_yjj", "receive", {"decision": "accept"})
    case.complete("dept_yjj", "rectify", {**RECTIFY_REPORT, "_comment": "已整改完毕"})
    case.complete("dispatcher", "verify", {"passed": True})
    detail = case.detail()
    assert detail["status"] == "completed" and detail["end_event"] == "end_archived"
    history = detail["history"]
    assert [(e["action"], e["task_name"]) for e in history if e["action"] != "end"] == [
        ("start", None),
        ("complete", "classify"),
        ("complete", "dispatch"),
        ("complete", "receive"),
        ("complete", "rectify"),
        ("complete", "verify"),
    ]
    assert all(e["actor"] and e["at"] for e in history)
    assert history[4]["comment"] == "已整改完毕"


@pytest.mark.parametrize(
    ("data", "end"),
    [
        ({"outcome": "invalid", "reason": "无此隐患"}, "end_invalid"),
        ({"outcome": "duplicate", "reason": "重复", "duplicate_of": "1"}, "end_duplicate"),
    ],
)
def test_invalid_and_duplicate(client, data, end):
    Case(client)  # case 1, the earlier one a duplicate may join
    case = Case(client)
    case.complete("dispatcher", "classify", {"category": REPORT["category"], **data})
    assert case.detail()["end_event"] == end


def test_return_then_redispatch(client):
    case = Case(client)
    case.accept_and_dispatch()
    inbox = client("dept_yjj").get("/notifications").json()
    assert inbox["unread"] == 1 and inbox["items"][0]["kind"] == "assignment"
    case.complete("dept_yjj", "receive", {"decision": "return", "reason": "不属本部门"})
    assert case.open_tasks() == ["dispatch"]
    dispatcher = client("dispatcher")
    news = dispatcher.get("/notifications", unread="true").json()["items"]
    assert news[0]["kind"] == "return" and "不属本部门" in news[0]["text"]
    assert dispatcher.post("/notifications/read", {"ids": [news[0]["id"]]}).json()["marked"] == 1
    assert dispatcher.get("/notifications").json()["unread"] == 0
    task = case.task("dispatcher", "dispatch")
    detail = client("dispatcher").get(f"/tasks/{task['id']}").json()
    assert detail["data"]["return_reason"] == "不属本部门"
    assert detail["form"]["properties"]["department"]
    case.complete(
        "dispatcher",
        "dispatch",
        {"department": "xf", "deadline_days": 5, "override_reason": "消防通道问题"},
    )
    case.complete("dept_xf", "receive", {"decision": "accept"})
    assert case.open_tasks() == ["rectify"]


def test_extension_approved(client):
    case = Case(client)
    case.accept_and_dispatch()
    case.complete("dept_yjj", "receive", {"decision": "accept"})
    case.complete(
        "dept_yjj",
        "rectify",
        {"action": "extend", "new_deadline": "2099-06-30", "extension_reason": "需停产检修"},
    )
    case.complete("dispatcher", "approve_extension", {"approved": True})
    detail = case.detail()
    assert detail["data"]["deadline"].startswith("2099-06-30")
    assert any(t["fire_at"].startswith("2099-06-30") for t in detail["timers"])


def test_major_without_plan_gets_field_errors(client):
    case = Case(client)
    case.accept_and_dispatch(grade="major")
    case.complete("dept_yjj", "receive", {"decision": "accept"})
    body = case.complete("dept_yjj", "rectify", RECTIFY_REPORT, status=422)
    assert body["error"] == "invalid"
    assert "plan" in body["fields"] and body["fields"]["plan"]
    case.complete("dept_yjj", "rectify", {**RECTIFY_REPORT, "plan": MAJOR_PLAN})
    assert case.open_tasks() == ["verify"]


def test_verify_failed_rework_then_archived(client):
    case = Case(client)
    case.accept_and_dispatch()
    case.complete("dept_yjj", "receive", {"decision": "accept"})
    case.complete("dept_yjj", "rectify", RECTIFY_REPORT)
    case.complete("dispatcher", "verify", {"passed": False, "verify_opinion": "未整改到位"})
    case.complete("dept_yjj", "rectify", RECTIFY_REPORT)
    case.complete("dispatcher", "verify", {"passed": True})
    detail = case.detail()
    assert detail["end_event"] == "end_archived" and detail["data"]["rework_count"] == 1


def test_other_department_and_grid_member_are_refused(client):
    case = Case(client)
    classify = case.task("dispatcher", "classify")
    response = client(MEMBER).post(f"/tasks/{classify['id']}/complete", {"outcome": "accept"})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    case.accept_and_dispatch()
    receive = case.task("dept_yjj", "receive")
    other = client("dept_zjj")
    assert other.get(f"/tasks/{receive['id']}").status_code == 403
    assert other.post(f"/tasks/{receive['id']}/complete", {"decision": "accept"}).status_code == 403
    assert all(t["instance_id"] != case.id for t in other.get("/tasks").json()["items"])


def test_concurrent_completions_one_wins(client):
    case = Case(client)
    task = case.task("dispatcher", "classify")
    data = {"outcome": "accept", "grade": "general", "category": REPORT["category"]}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post() -> None:
        api = client("dispatcher")
        barrier.wait()
        statuses.append(api.post(f"/tasks/{task['id']}/complete", data).status_code)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    assert case.open_tasks() == ["dispatch"]


def test_sigkill_between_steps_loses_nothing(process_server, token_for):
    server = process_server
    case = Case(lambda username: Client(server, token_for(username)))
    case.complete(
        "dispatcher",
        "classify",
        {"outcome": "accept", "grade": "general", "category": REPORT["category"]},
    )
    server.kill()
    server.start()
    assert case.open_tasks() == ["dispatch"]
    data = case.detail()["data"]
    case.complete("dispatcher", "dispatch", {"department": data["department"], "deadline_days": 10})
    assert case.open_tasks() == ["receive"]


def test_auth_errors_and_openapi(client, server):
    import requests

    assert requests.get(server.url + "/api/v1/tasks", timeout=10).status_code == 401
    bad = requests.get(
        server.url + "/api/v1/tasks", headers={"Authorization": "Bearer nope"}, timeout=10
    )
    assert bad.status_code == 401 and bad.json()["error"] == "unauthorized"
    spec = requests.get(server.url + "/api/v1/openapi.json", timeout=10).json()
    assert "/api/v1/tasks/{task_id}/complete" in spec["paths"]
    processes = client("dispatcher").get("/processes").json()
    assert processes[0]["process_id"] == "hazard_handling"
    assert processes[0]["start_form"]["properties"]["category"]
    page = client("dispatcher").get("/instances", status="running").json()
    assert page["items"] == []


def test_a_second_process_deployed_runs_through_the_api(client, engine):
    from pathlib import Path

    engine.deploy([Path(__file__).resolve().parent.parent / "fixtures" / "self_report"])
    engine.add_user("boss", roles=["enterprise"], password="x")
    engine.add_user("town_officer", roles=["township"], password="x")
    names = [p["process_id"] for p in client("boss").get("/processes").json()]
    assert "enterprise_self_report" in names
    started = client("boss").post(
        "/processes/enterprise_self_report/instances",
        {"unit": "白云木器厂", "category": "industry_trade", "description": "粉尘未清理"},
    )
    assert started.status_code == 201, started.text
    case = started.json()["id"]
    officer = client("town_officer")
    review = [t for t in officer.get("/tasks").json()["items"] if t["instance_id"] == case][0]
    refused = officer.post(f"/tasks/{review['id']}/complete", {"decision": "reject"})
    assert refused.status_code == 422 and "remark" in refused.json()["fields"]
    done = officer.post(
        f"/tasks/{review['id']}/complete", {"decision": "reject", "remark": "材料不全"}
    )
    assert done.status_code == 200, done.text
    detail = officer.get(f"/instances/{case}").json()
    assert detail["status"] == "completed" and detail["end_event"] == "end_rejected"


def test_a_token_revoked_over_the_api_is_refused_by_the_server(client):
    dispatcher = client("dispatcher")
    assert dispatcher.get("/tasks").status_code == 200
    (own,) = dispatcher.get("/tokens").json()
    revoked = dispatcher.session.delete(f"{dispatcher.base}/tokens/{own['id']}", timeout=30)
    assert revoked.status_code == 204
    refused = dispatcher.get("/tasks")
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
