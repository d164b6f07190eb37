"""Every error is a page in the site's layout and the reader's language, with the way on; the
API answers JSON. The real cases people hit, and every status the app can answer."""

from __future__ import annotations

import pytest
from flask import abort

from tests.helpers import (
    MEMBER,
    RECTIFY_REPORT,
    accept,
    complete_with_photos,
    open_task,
    report,
    to_rectify,
)
from tests.web.test_pages import csrf, signed_in

HEADINGS = {
    400: ("请求无法处理", "The request could not be used"),
    403: ("无权访问", "Not for you"),
    404: ("未找到", "Not found"),
    405: ("无法这样操作", "Not possible here"),
    409: ("已被他人修改", "Changed meanwhile"),
    413: ("文件过大", "Too large"),
    429: ("请求过于频繁", "Too many requests"),
    500: ("系统出错了", "Something went wrong on our side"),
}


def is_site_page(text: str) -> bool:
    return '<header class="top">' in text and "<main>" in text


@pytest.mark.parametrize("status", sorted(HEADINGS))
def test_every_status_is_a_page_in_the_readers_language(app, status):
    def fail() -> None:
        abort(status)

    app.add_url_rule("/fails", view_func=fail)
    for language, heading in zip(("zh-CN", "en"), HEADINGS[status], strict=True):
        browser = signed_in(app, "dispatcher", language)
        page = browser.get("/fails")
        assert page.status_code == status
        assert is_site_page(page.text) and heading in page.text, (language, page.text[:400])
        assert 'href="/"' in page.text  # the way back to one's work


def test_an_unexpected_error_is_the_500_page_not_a_traceback(app):
    def crash() -> None:
        raise ZeroDivisionError("boom")

    app.add_url_rule("/crashes", view_func=crash)
    page = signed_in(app, "dispatcher").get("/crashes")
    assert page.status_code == 500 and is_site_page(page.text)
    assert "系统出错了" in page.text and "ZeroDivisionError" not in page.text


def test_a_missing_case_is_404_for_everyone(app):
    for username in ("dispatcher", MEMBER, "dept_yjj"):
        page = signed_in(app, username).get("/cases/9999")
        assert page.status_code == 404 and "未找到" in page.text, username


def test_an_api_path_answers_json(app):
    missing = app.test_client().get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_a_task_a_colleague_claimed_says_who_and_keeps_what_was_typed(app, engine):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    officer = signed_in(app, "dept_yjj")
    form = officer.get(f"/tasks/{task['id']}")
    engine.claim(task["id"], engine.actor("dept_yjj2"))  # the colleague got there first
    sent = officer.post(
        f"/tasks/{task['id']}/complete",
        data={"action": "report", "measures": "加装防火隔离墙", "csrf_token": csrf(form.text)},
    )
    assert sent.status_code == 403 and is_site_page(sent.text)
    assert "应急管理局经办人（二） 已领取此任务" in sent.text
    assert "加装防火隔离墙" in sent.text and "整改措施" in sent.text  # typed, by its title
    assert "报告整改完成" in sent.text  # a choice by its option's title, not its code "report"
    assert f'href="/cases/{case}"' in sent.text


def test_a_task_a_colleague_completed_first_leads_to_the_case_in_english(app, engine):
    case = to_rectify(engine)
    task = open_task(engine, "dept_yjj", case, "rectify")
    officer = signed_in(app, "dept_yjj", "en")
    form = officer.get(f"/tasks/{task['id']}")
    complete_with_photos(engine, task["id"], engine.actor("dept_yjj2"), RECTIFY_REPORT)
    sent = officer.post(
        f"/tasks/{task['id']}/complete",
        data={"action": "report", "measures": "my own words", "csrf_token": csrf(form.text)},
    )
    assert sent.status_code == 404 and is_site_page(sent.text)
    assert "应急管理局经办人（二） completed this task first." in sent.text  # who, by name
    assert "my own words" in sent.text and f'href="/cases/{case}"' in sent.text


def test_a_task_done_in_another_tab_says_so(app, engine):
    case = report(engine)
    task = open_task(engine, "dispatcher", case, "classify")
    dispatcher = signed_in(app, "dispatcher")
    form = dispatcher.get(f"/tasks/{task['id']}")
    accept(engine, case)  # in the other tab
    sent = dispatcher.post(
        f"/tasks/{task['id']}/complete",
        data={"outcome": "invalid", "reason": "重复", "csrf_token": csrf(form.text)},
    )
    assert sent.status_code == 404 and "您已办理了此任务" in sent.text
    assert "无效" in sent.text and "重复" in sent.text  # what was sent, the choice by its title
    back = dispatcher.get(f"/tasks/{task['id']}")  # the back button, a reload
    assert back.status_code == 404 and "您已办理了此任务" in back.text


def test_the_case_page_links_only_tasks_its_reader_may_work(app, engine):
    case = report(engine)
    classify = open_task(engine, "dispatcher", case, "classify")
    member_view = signed_in(app, MEMBER).get(f"/cases/{case}").text
    assert "分类定级" in member_view and f"/tasks/{classify['id']}" not in member_view
    dispatcher_view = signed_in(app, "dispatcher").get(f"/cases/{case}").text
    assert f"/tasks/{classify['id']}" in dispatcher_view
