"""Stored XSS in a real browser: a payload in every free-text field a person can write (the
report, the public report, every step's fields and comments, return, extension and
verification reasons, a leader's 批示, urging, handing over, a draft, a saved view, a display
name), the cases run through the real process, then every page that shows those values opened
in chromium for the people who see them.

The pages are opened with the Content-Security-Policy switched off (`bypass_csp`): the policy
would stop an injected script anyway (tests/browser/test_content_policy.py), so this test
checks what stands before it, the escaping. On every page: the payload's script never ran
(window.__xss unset, no dialog), no element with an inline handler, no inline script and no
javascript: link was made from data; and every injection point is shown as text somewhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engine import PUBLIC
from engine.clock import parse_iso
from tests.browser.people import Person
from tests.helpers import MAJOR_PLAN, MEMBER, REPORT, act, open_task, report
from tests.security.world import png
from tests.web.conftest import Server
from webui import create_app, public

pytestmark = pytest.mark.slow

SCRIPT = "<img src=x onerror=window.__xss=1>\"><script>window.__xss=1</script>'"
LINK = "javascript:window.__xss=1"


def payload(point: str) -> str:
    """The attack, led by a tag that names the field it was written into."""
    return f"X{point}X{SCRIPT}"


INJECTED: list[str] = []  # every injection point's tag, in the order written


def p(point: str) -> str:
    INJECTED.append(point)
    return payload(point)


def _later(day: str, days: int) -> str:
    return (date.fromisoformat(day[:10]) + timedelta(days=days)).isoformat()


def _write_everything(engine, clock) -> dict[str, int]:
    """The cases, each field and comment carrying a payload; the case ids by name."""
    INJECTED.clear()
    clock.set(datetime.now(UTC))  # the server runs on the real clock: nothing of ours is due
    engine.add_user(
        "dept_yjj3", roles=["department"], department="yjj", display_name=p("displayname")
    )
    engine.change_organisation("add_department", "xss", p("departmentname"))
    engine.change_organisation("add_grid", "ap-xss", p("gridname"), "ap")
    location = {"lat": 30.1, "lng": 120.2, "address": p("address") + " " + LINK}
    major = report(
        engine,
        unit=p("unit"),
        description=p("description"),
        location=location,
        contact=p("contact"),
    )
    act(
        engine,
        "dispatcher",
        major,
        "classify",
        {"outcome": "accept", "grade": "major", "category": REPORT["category"]},
        comment=p("classifycomment"),
    )
    data = engine.instance(major)["data"]
    dispatch = {"department": "yjj", "deadline_days": data["deadline_days"]}
    act(engine, "dispatcher", major, "dispatch", dispatch, comment=p("dispatchcomment"))
    act(engine, "dept_yjj", major, "receive", {"decision": "return", "reason": p("returnreason")})
    act(engine, "dispatcher", major, "dispatch", dispatch)
    act(engine, "dept_yjj", major, "receive", {"decision": "accept"}, comment=p("receivecomment"))
    deadline = engine.instance(major)["data"]["deadline"]
    extend = {
        "action": "extend",
        "new_deadline": _later(deadline, 10),
        "extension_reason": p("extensionreason"),
    }
    act(engine, "dept_yjj", major, "rectify", extend)
    act(
        engine,
        "dispatcher",
        major,
        "approve_extension",
        {"approved": False, "opinion": p("extensionopinion")},
    )
    rectify = open_task(engine, "dept_yjj", major, "rectify")["id"]
    engine.urge(rectify, engine.actor("dispatcher"), p("urge"))
    engine.hand_over(rectify, engine.actor("dept_yjj"), "dept_yjj2", p("handover"))
    plan = {
        **MAJOR_PLAN,
        "measures": p("planmeasures"),
        "responsibility": p("planresponsibility"),
        "contingency": p("plancontingency"),
        "time_limit": _later(deadline, 5),
    }
    after = engine.check_photo(png("green"))
    done = {
        "action": "report",
        "measures": p("measures"),
        "responsible_person": p("responsible"),
        "funds": 1000,
        "rectify_photos": [after.id],
        "completed_on": date.today().isoformat(),
        "plan": plan,
    }
    task = open_task(engine, "dept_yjj2", major, "rectify")["id"]
    engine.complete(task, engine.actor("dept_yjj2"), done, p("rectifycomment"), [after])
    act(engine, "dispatcher", major, "verify", {"passed": False, "verify_opinion": p("verify")})
    # past the deadline: the case climbs to its grid's leader, who writes 批示
    clock.set(parse_iso(engine.instance(major)["data"]["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()
    act(engine, "leader_ap_d1_t1_v1", major, "supervise", {"instructions": p("instructions")})
    rework = open_task(engine, "dept_yjj", major, "rectify")["id"]
    engine.save_draft(rework, engine.actor("dept_yjj"), {"measures": p("draft")})
    clock.set(datetime.now(UTC))

    invalid = report(engine, unit=p("invalidunit"))
    act(
        engine,
        "dispatcher",
        invalid,
        "classify",
        {"outcome": "invalid", "reason": p("invalidreason"), "category": REPORT["category"]},
    )
    public = engine.start(
        "hazard_handling",
        {
            **REPORT,
            "unit": p("publicunit"),
            "description": p("publicdescription"),
            "contact": p("publiccontact"),
        },
        PUBLIC,
    )
    act(
        engine,
        "dispatcher",
        public,
        "classify",
        {
            "outcome": "duplicate",
            "duplicate_of": engine.case_number(major),
            "reason": p("duplicatereason"),
            "category": REPORT["category"],
        },
    )
    elsewhere = report(engine, unit=p("overrideunit"))
    act(
        engine,
        "dispatcher",
        elsewhere,
        "classify",
        {"outcome": "accept", "grade": "general", "category": REPORT["category"]},
    )
    act(
        engine,
        "dispatcher",
        elsewhere,
        "dispatch",
        {"department": "ajb", "deadline_days": 5, "override_reason": p("overridereason")},
    )
    waiting = report(engine, unit=p("waitingunit"), description=p("waitingdescription"))
    engine.save_view(engine.actor("dispatcher"), p("viewname"), LINK)
    return {
        "major": major,
        "invalid": invalid,
        "public": public,
        "elsewhere": elsewhere,
        "waiting": waiting,
    }


def _lookup_codes(engine, ids: dict[str, int]) -> dict[int, str]:
    """Each case's lookup code, as the server signs it (the same secret in the data folder)."""
    app = create_app(engine)
    with app.test_request_context():
        return {case: public.lookup_code(case) for case in ids.values()}


def _person(browser, server, username: str | None, shots) -> Person:
    if username is not None:
        return Person(browser, server, username, shots, bypass_csp=True)
    passer_by = Person.__new__(Person)  # nobody signed in
    passer_by.context = browser.new_context(bypass_csp=True, locale="zh-CN")
    passer_by.page = passer_by.context.new_page()
    return passer_by


class Watch:
    """What a page did that an injection would do, found after it loaded."""

    CHECK = """() => ({
        xss: window.__xss === undefined ? null : String(window.__xss),
        handlers: [...document.querySelectorAll('*')].filter(
            e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
        inline: [...document.scripts].filter(s => !s.src).length,
        links: [...document.querySelectorAll('a[href], form[action]')].filter(
            e => /^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('action'))
        ).length,
        text: document.body.innerText + [...document.querySelectorAll('input, textarea')]
            .map(e => e.value).join(' '),
    })"""

    def __init__(self, person: Person) -> None:
        self.page = person.page
        self.dialogs: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def open(self, url: str) -> tuple[list[str], str]:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        found = self.page.evaluate(self.CHECK)
        problems = [
            f"{name} {found[name]}"
            for name in ("xss", "handlers", "inline", "links")
            if found[name]
        ] + [f"dialog {d}" for d in self.dialogs]
        self.dialogs.clear()
        return problems, found["text"]


def test_no_payload_runs_on_any_page(browser, engine, clock, database_url, tmp_path, shots):
    ids = _write_everything(engine, clock)
    major = ids["major"]
    server = Server(database_url, tmp_path / "data")
    server.start()
    try:
        base = server.url
        codes = _lookup_codes(engine, ids)
        rectify = open_task(engine, "dept_yjj", major, "rectify")["id"]
        classify = open_task(engine, "dispatcher", ids["waiting"], "classify")["id"]
        receive = open_task(engine, "dept_ajb", ids["elsewhere"], "receive")["id"]
        evil = payload("reflected")
        everyone = ["/inbox", "/cases?status=all", "/cases?status=all&q=X", f"/cases/{major}"]
        pages = {
            "dispatcher": [
                "/queue",
                "/queue?tab=all&sort=age",
                f"/tasks/{classify}",
                *(f"/cases/{i}" for i in ids.values()),
                *everyone,
                f"/cases/go?number={evil}",
                f"/cases?q={evil}",
            ],
            "dept_yjj": ["/queue", f"/tasks/{rectify}", *everyone],
            "dept_yjj2": ["/queue", *everyone],
            "dept_ajb": ["/queue", f"/tasks/{receive}", f"/cases/{ids['elsewhere']}", "/inbox"],
            MEMBER: ["/my-reports", f"/cases/{ids['invalid']}", *everyone],
            "leader_ap_d1_t1_v1": ["/supervision", *everyone],
            "admin": [
                "/admin/",
                "/admin/organisation",
                "/admin/organisation/grids/ap-xss",
                "/admin/users",
                "/admin/users/dept_yjj3",
                "/admin/users/new",
                *everyone,
            ],
            None: [
                *(f"/public/cases/{i}?code={codes[i]}" for i in ids.values()),
                f"/public/lookup?number={evil}&code={evil}",
                f"/login?next={LINK}",
            ],
        }
        problems: list[str] = []
        shown = ""
        opened = 0
        for username, paths in pages.items():
            person = _person(browser, server, username, shots)
            watch = Watch(person)
            for path in paths:
                found, text = watch.open(base + path)
                opened += 1
                shown += text
                problems += [f"{username} {path}: {f}" for f in found]
            person.context.close()
        never_shown = [point for point in INJECTED if f"X{point}X" not in shown]
        print(f"stored XSS: {len(INJECTED)} injection points, {opened} pages in chromium")
        assert problems == [], "\n".join(problems)
        assert never_shown == []  # each payload reached a page, as text
        assert SCRIPT in shown  # shown as written, not dropped
    finally:
        server.stop()
