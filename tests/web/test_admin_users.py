"""The users pages over real HTTP: an administrator deactivates someone (their sessions and
tokens end at once, the tasks they claimed go back to their department with nothing of the
case lost), reactivates them, sets a new password (their sessions end, the new one signs in),
revokes one of their tokens; every form needs its CSRF token; flashes in zh and en."""

from __future__ import annotations

import re

import pytest
import requests

from tests.helpers import open_task, to_rectify

pytestmark = pytest.mark.slow


def api_answers(server, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(server.url + "/api/v1/tasks", headers=headers, timeout=30).status_code


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash[^"]*" role="status">(.*?)</p>', html, re.S)


def test_deactivating_ends_sessions_and_tokens_and_gives_claimed_tasks_back(
    server, web_user, engine
):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    engine.claim(task["id"], engine.actor("dept_yjj"))
    before = engine.instance(case)["data"]
    officer = web_user("dept_yjj")
    token = engine.new_token("dept_yjj", label="手机")
    assert officer.get("/queue").status_code == 200 and api_answers(server, token) == 200

    admin = web_user("admin")
    listed = admin.get("/admin/users").text
    row = re.search(
        r"<tr[^>]*>\s*<td[^>]*><a href=\"/admin/users/dept_yjj\">.*?</tr>", listed, re.S
    )
    assert row and ">1</td>" in row.group(0)  # a live session (and a token)
    page = admin.get("/admin/users/dept_yjj")
    assert "data-confirm" in page.text
    no_token = admin.session.post(admin.base + "/admin/users/dept_yjj/deactivate", timeout=30)
    assert no_token.status_code == 400 and engine.actor("dept_yjj")  # still active

    done = admin.post("/admin/users/dept_yjj/deactivate", page=page, allow_redirects=True)
    said = flashes(done.text)
    assert any("已停用" in s for s in said) and any("1 项任务" in s for s in said), said
    assert officer.get("/queue").status_code == 302  # signed out
    assert api_answers(server, token) == 401
    after = engine.instance(case)
    assert after["data"] == before and after["status"] == "running"
    back = [t for t in after["open_tasks"] if t["id"] == task["id"]][0]
    assert back["assignee"] is None
    release = [e for e in after["history"] if e["action"] == "release"][-1]
    assert release["actor"] == "admin"
    assert "已停用" in admin.get("/admin/users").text

    again = admin.post(
        "/admin/users/dept_yjj/reactivate",
        page=admin.get("/admin/users/dept_yjj"),
        allow_redirects=True,
    )
    assert any("恢复启用" in s for s in flashes(again.text))
    assert web_user("dept_yjj").get("/queue").status_code == 200
    assert api_answers(server, token) == 401  # old tokens stay revoked


def test_a_new_password_ends_their_sessions_and_signs_in(server, web_user, engine):
    officer = web_user("dept_zjj")
    admin = web_user("admin", "en")
    page = admin.get("/admin/users/dept_zjj")
    short = admin.post(
        "/admin/users/dept_zjj/password",
        {"new_password": "short", "new_password_again": "short"},
        page=page,
    )
    assert short.status_code == 422 and "at least" in short.text.lower()
    differ = admin.post(
        "/admin/users/dept_zjj/password",
        {"new_password": "a-long-new-one", "new_password_again": "another-one"},
        page=page,
    )
    assert differ.status_code == 422
    assert officer.get("/queue").status_code == 200  # nothing changed yet
    done = admin.post(
        "/admin/users/dept_zjj/password",
        {"new_password": "a-long-new-one", "new_password_again": "a-long-new-one"},
        page=page,
        allow_redirects=True,
    )
    assert any("signed out everywhere" in s for s in flashes(done.text))
    assert officer.get("/queue").status_code == 302
    assert engine.sign_in("dept_zjj", "a-long-new-one") is not None
    assert engine.sign_in("dept_zjj", "hazard2026") is None


def test_an_administrator_revokes_one_token_of_a_user(server, web_user, engine):
    keep = engine.new_token("dispatcher", label="报表")
    lost = engine.new_token("dispatcher", label="丢失的手机")
    admin = web_user("admin")
    page = admin.get("/admin/users/dispatcher")
    assert "丢失的手机" in page.text and "报表" in page.text
    lost_id = next(t["id"] for t in engine.tokens("dispatcher") if t["label"] == "丢失的手机")
    done = admin.post(
        f"/admin/users/dispatcher/tokens/{lost_id}/revoke", page=page, allow_redirects=True
    )
    assert any("已吊销" in s for s in flashes(done.text))
    assert api_answers(server, lost) == 401 and api_answers(server, keep) == 200
    assert "丢失的手机" not in done.text
    gone = admin.post(f"/admin/users/dispatcher/tokens/{lost_id}/revoke", page=page)
    assert gone.status_code == 404
    assert admin.get("/admin/users/nobody").status_code == 404


def test_an_administrator_cannot_deactivate_themselves(server, web_user, engine):
    admin = web_user("admin")
    page = admin.get("/admin/users/admin")
    assert "/admin/users/admin/deactivate" not in page.text
    done = admin.post("/admin/users/admin/deactivate", page=page, allow_redirects=True)
    assert any("不能停用自己" in s for s in flashes(done.text))
    assert engine.actor("admin").is_admin
