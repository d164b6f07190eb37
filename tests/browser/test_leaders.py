"""Supervising leaders, as the ones who were locked out: the named leader of a major case,
the city leader, and a leader whose 督办 task waited behind an empty queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine import parse_iso
from tests.browser.people import Person
from tests.helpers import accept, report, to_rectify

pytestmark = pytest.mark.slow


def test_the_named_leader_and_the_city_leader_see_a_major_case(browser, server, shots, engine):
    case = report(engine)
    accept(engine, case, grade="major")  # 挂牌督办: the village grid's leader is named
    named = Person(browser, server, "leader_ap_d1_t1_v1", shots, width=375)
    page = named.page
    assert page.url.endswith("/supervision")  # where a leader lands
    listed = page.locator("ul.cases li", has_text=engine.case_number(case))
    assert listed.count() == 1 and "南门化工仓库" in listed.inner_text()
    named.shot("supervision-listed")
    listed.locator("a").first.click()
    page.wait_for_url(f"**/cases/{case}")
    assert "重大事故隐患" in page.inner_text("main")
    assert page.locator("a[href*='/tasks/']").count() == 0  # read-only: nothing to work here
    named.shot("case-as-named-leader")

    city = Person(browser, server, "leader_ap", shots)
    response = city.page.goto(f"{server.url}/cases/{case}")
    assert response.status == 200 and "南门化工仓库" in city.page.inner_text("main")

    elsewhere = Person(browser, server, "leader_ap_d2", shots)  # another district's leader
    assert elsewhere.page.goto(f"{server.url}/cases/{case}").status == 403


def test_a_leader_lands_on_the_supervision_task_that_waits(browser, server, shots, engine, clock):
    case = to_rectify(engine)
    clock.set(parse_iso(engine.instance(case)["data"]["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()  # overdue: the 督办 task goes to the village grid's leader
    leader = Person(browser, server, "leader_ap_d1_t1_v1", shots)
    page = leader.page
    assert page.url.endswith("/supervision")
    row = page.locator("table.queue tr", has_text=engine.case_number(case))
    assert row.count() == 1 and "督办" in row.inner_text()
    leader.shot("supervision-waiting")
