"""Every page of every role fits a 375 px phone, in Chinese and in English.

Each person starts where they land and follows every link of the site they are shown (as
they would, tapping through), so a new page is covered the day a link leads to it. A page is
wider than the screen when `document.documentElement.scrollWidth` exceeds the viewport."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from engine import PUBLIC, parse_iso
from tests.browser.people import PASSWORD
from tests.helpers import (
    RECTIFY_REPORT,
    REPORT,
    accept,
    act,
    close_invalid,
    open_task,
    report,
    to_rectify,
)

pytestmark = pytest.mark.slow
WIDTH = 375
PAGES_PER_PERSON = 60
OF_EACH_KIND = 3  # cases differ: running, archived, major, overdue, with photos ...
PEOPLE = (
    None,  # not signed in
    "member_d1_t1_v1",
    "dispatcher",
    "dept_yjj",
    "dept_zjj",
    "leader_ap_d1_t1_v1",
    "leader_ap",
    "admin",
)
# what following a link would change or leave the pages for people
SKIP = re.compile(  # and files
    r"^/(static/|photos/|api/|logout|lang/)|/diagram\.json$|\.(zip|xlsx|csv)(\?|$)"
)


def public_status_page(engine) -> str:
    """The status page a passer-by follows their report on (with its lookup code)."""
    from webui import create_app
    from webui.public import lookup_code

    case = engine.start("hazard_handling", REPORT, PUBLIC)
    with create_app(engine).test_request_context():  # the server's secret, in its data folder
        return f"/public/cases/{case}?code={lookup_code(case)}"


def cases_in_every_state(engine, clock) -> None:
    to_rectify(engine)  # waiting for rectification
    done = to_rectify(engine)
    act(engine, "dept_yjj", done, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", done, "verify", {"passed": True})  # archived
    close_invalid(engine, report(engine))
    major = report(engine, grid="ap-d1-t1-v1")
    accept(engine, major, grade="major")
    late = to_rectify(engine, category="construction")  # the housing bureau's
    clock.set(parse_iso(engine.instance(late)["data"]["deadline"]) + timedelta(minutes=1))
    engine.fire_due_timers()  # overdue: a 督办 task for the village grid's leader
    open_task(engine, "leader_ap_d1_t1_v1", late, "supervise")


def same_site_paths(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    paths = []
    for href in hrefs:
        url = urlsplit(href)
        if f"{url.scheme}://{url.netloc}" != base or SKIP.search(url.path):
            continue
        paths.append(url.path + (f"?{url.query}" if url.query else ""))
    return paths


STICKING_OUT = """() => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > innerWidth + 1
        && ![...e.children].some((c) => c.getBoundingClientRect().right > innerWidth + 1))
    .slice(0, 3)
    .map((e) => e.tagName.toLowerCase() + (e.className ? "." + e.className : "")
        + " '" + e.textContent.trim().slice(0, 30) + "'")
    .join("; ")"""


# The pages whose scripts draw after the page has loaded (a diagram, the map, an editor) say
# when they are done; waiting for that, not for the network to be idle half a second, halves
# the time of this walk over some 400 pages.
DRAWN = """() => ["diagram", "hazard-map", "file-editor"].every((id) => {
    const box = document.getElementById(id);
    return !box || box.dataset.ready;
})"""


def _sticking_out(page) -> str:
    """The innermost elements past the screen's right edge, to say what to fix."""
    return page.evaluate(STICKING_OUT)


def page_kind(path: str) -> str:
    """Pages that differ only in ids or query values are one kind."""
    path = re.sub(r"/[0-9a-f-]{36}", "/T", path.split("?")[0])
    path = re.sub(r"^/admin/users/[^/]+", "/admin/users/U", path)
    path = re.sub(r"^/admin/files/.+(\.\w+)$", r"/admin/files/F\1", path)  # by editor
    return re.sub(r"/\d+", "/N", path)


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_every_page_of_every_role_fits_a_phone(browser, server, engine, clock, shots, language):
    cases_in_every_state(engine, clock)
    status_page = public_status_page(engine)
    too_wide: list[str] = []
    broken: list[str] = []
    visited: dict[str, set[str]] = {}
    for username in PEOPLE:
        context = browser.new_context(viewport={"width": WIDTH, "height": 800}, locale=language)
        page = context.new_page()
        if username:
            page.goto(server.url + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("form button[type=submit]")
            page.wait_for_load_state()
            start = [urlsplit(page.url).path]
        else:
            start = ["/login", "/public/report", status_page]
        seen: dict[str, set[str]] = {}  # kind -> paths visited
        todo = [*start, "/cases/99999", "/admin/"]  # an error page (404, 403 or sign-in)
        visits = 0
        while todo and visits < PAGES_PER_PERSON:
            path = todo.pop(0)
            paths = seen.setdefault(page_kind(path), set())
            if path in paths or len(paths) >= OF_EACH_KIND:
                continue
            paths.add(path)
            visits += 1
            response = page.goto(server.url + path, wait_until="load")
            page.wait_for_function(DRAWN)  # what scripts draw after loading, at its width
            who = username or "anonymous"
            if response is None or response.status >= 500:
                broken.append(f"{who} {path}: {response.status if response else 'no answer'}")
                continue
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > WIDTH:
                name = re.sub(r"\W+", "_", f"{who}{path}")[:80]
                page.screenshot(path=str(shots / f"{language}-{name}.png"), full_page=True)
                too_wide.append(f"{who} {path}: {width} px, {_sticking_out(page)}")
            todo.extend(same_site_paths(page, server.url))
        visited[username or "anonymous"] = set(seen)
        context.close()
    assert broken == []
    assert too_wide == [], "wider than the screen (screenshots in test-output):\n" + "\n".join(
        too_wide
    )
    # the crawl reached the pages each role works with
    assert {"/queue", "/cases/N", "/tasks/T", "/inbox"} <= visited["dispatcher"]
    assert {"/supervision", "/cases/N"} <= visited["leader_ap_d1_t1_v1"]
    assert "/report/hazard_handling" in visited["member_d1_t1_v1"]
    assert {"/public/report", "/public/lookup", "/public/cases/N"} <= visited["anonymous"]
    assert {"/admin/", "/admin/users", "/admin/users/U"} <= visited["admin"]
    assert {"/admin/files/F.bpmn", "/admin/files/F.dmn", "/admin/files/F.json"} <= visited["admin"]
    assert "/public/report" in visited["anonymous"]
