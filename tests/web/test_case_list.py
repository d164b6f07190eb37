"""The case list `/cases`, the header's case-number box, case numbers on the pages, and the
API's case list: the same visibility rule, search and filters (Flask's in-process client)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import MEMBER, REPORT, close_invalid, report, to_rectify
from tests.web.test_pages import signed_in


def listed(html: str) -> list[int]:
    """The cases on a list page, in order."""
    return [int(i) for i in re.findall(r'class="case-card" data-case="(\d+)"', html)]


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'data-count="(\w+)">(\d+)<', html)
    return {key: int(n) for key, n in found}


def test_search_finds_a_case_by_number_unit_and_a_word_of_its_description(app, engine):
    warehouse = report(engine)
    station = report(engine, unit="北关加油站", description="油罐区未设置围栏 no fence")
    number = engine.case_number(warehouse)
    dispatcher = signed_in(app, "dispatcher")
    page = dispatcher.get("/cases", query_string={"q": number})
    assert page.status_code == 200 and listed(page.text) == [warehouse]
    assert number in page.text and REPORT["unit"] in page.text
    assert listed(dispatcher.get("/cases?q=南门化工").text) == [warehouse]
    assert listed(dispatcher.get("/cases?q=混存").text) == [warehouse]
    assert listed(dispatcher.get("/cases?q=Fence").text) == [station]
    assert listed(dispatcher.get("/cases?q=围栏 南门").text) == []
    assert "没有符合条件的可查看案件" in dispatcher.get("/cases?q=围栏 南门").text
    # a search looks at every status: a closed case is found too
    close_invalid(engine, station)
    assert listed(dispatcher.get("/cases?q=油罐").text) == [station]
    assert listed(dispatcher.get("/cases").text) == [warehouse]  # the list opens on open ones
    # the search is shown as text, never as markup
    hostile = dispatcher.get("/cases", query_string={"q": "<script>x</script>"}).text
    assert "<script>x</script>" not in hostile and "&lt;script&gt;x&lt;/script&gt;" in hostile


def test_the_header_box_opens_a_case_by_its_number(app, engine):
    case = report(engine)
    number = engine.case_number(case)
    member = signed_in(app, MEMBER)
    home = member.get("/my-reports").text
    assert 'action="/cases/go"' in home and 'href="/cases"' in home  # on every page
    for typed in (number, number.lower(), f"2026-{case}", str(case)):
        opened = member.get("/cases/go", query_string={"number": typed})
        assert opened.status_code == 302 and opened.location == f"/cases/{case}", typed
    words = member.get("/cases/go", query_string={"number": "南门 仓库"})
    assert words.status_code == 302 and words.location.startswith("/cases?q=")
    assert member.get("/cases/go").location == "/cases"
    missing = member.get("/cases/go", query_string={"number": "YH-2026-424242"})
    assert missing.status_code == 404
    assert "没有您可查看的案件 YH-2026-424242" in missing.text
    assert 'href="/cases?q=YH-2026-424242"' in missing.text  # the way on: search for it
    # a case the reader may not see is no case to them: the same answer
    other = signed_in(app, "member_d2_t1_v1")
    hidden = other.get("/cases/go", query_string={"number": number})
    assert hidden.status_code == 404 and f"没有您可查看的案件 {number}" in hidden.text
    english = signed_in(app, "dispatcher", language="en")
    assert "There is no case YH-2026-424242 that you may see." in english.get(
        "/cases/go?number=YH-2026-424242"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("dispatcher", True),
        (MEMBER, True),
        ("dept_yjj", True),
        ("leader_ap_d1", True),
        ("member_d1_t1_v2", False),  # another grid
        ("dept_zjj", False),  # another department
        ("leader_ap_d2", False),  # the leader of another district
    ],
)
def test_the_list_shows_each_reader_only_their_cases(app, engine, username, sees):
    case = to_rectify(engine)
    number = engine.case_number(case)
    browser = signed_in(app, username)
    for url in ("/cases?status=all", f"/cases?q={number}", "/cases?q=南门化工仓库"):
        page = browser.get(url)
        assert page.status_code == 200
        assert listed(page.text) == ([case] if sees else []), url
        assert (f">{number}</a>" in page.text) == sees  # (a search shows what was typed)
    expected = {"open": 1, "closed": 0, "all": 1} if sees else {"open": 0, "closed": 0, "all": 0}
    assert counts(browser.get("/cases").text) == expected


def test_paging_sort_and_filters(app, engine, clock):
    made = []
    for i in range(12):
        clock.advance(hours=1)
        category = "fireworks" if i % 3 == 0 else REPORT["category"]
        made.append(report(engine, unit=f"第{i}号单位", category=category))
    dispatcher = signed_in(app, "dispatcher")
    first = dispatcher.get("/cases?per_page=10")
    assert listed(first.text) == made[::-1][:10]
    assert "第 1 页，共 2 页" in first.text and "共 12 件" in first.text
    assert 'rel="next" href="/cases?status=open&amp;sort=newest&amp;per_page=10&amp;page=2"' in (
        first.text
    )
    second = dispatcher.get("/cases?per_page=10&page=2")
    assert listed(second.text) == made[::-1][10:]
    for garbage in ("abc", "-1", "0", "1e9", ""):
        assert listed(dispatcher.get(f"/cases?per_page=10&page={garbage}").text) == listed(
            first.text
        ), garbage
    assert listed(dispatcher.get("/cases?per_page=10&page=999999999").text) == listed(
        second.text
    )  # past the last page: the last page
    assert listed(dispatcher.get("/cases?per_page=7").text) == made[::-1]  # not a size: 25
    assert listed(dispatcher.get("/cases?sort=oldest&per_page=10").text) == made[:10]
    assert listed(dispatcher.get("/cases?sort=nonsense&per_page=10").text) == made[::-1][:10]
    fireworks = dispatcher.get("/cases?category=fireworks&sort=oldest")
    assert listed(fireworks.text) == made[::3]
    assert re.search(r'<option value="fireworks" selected>', fireworks.text)
    # the status tabs keep the filters and the search
    assert 'href="/cases?status=closed&amp;sort=oldest&amp;per_page=25&amp;category=fireworks"' in (
        fireworks.text
    )
    town = dispatcher.get("/cases?grid=ap-d1-t1&q=单位").text  # a town includes its villages
    assert len(listed(town)) == 12
    assert listed(dispatcher.get("/cases?grid=ap-d2").text) == []
    assert listed(dispatcher.get("/cases?created_from=2026-03-03").text) == []
    assert len(listed(dispatcher.get("/cases?created_from=2026-03-02&created_to=2026-03-02").text))
    assert len(listed(dispatcher.get("/cases?created_to=not-a-date").text)) == 12


def test_case_numbers_on_the_pages_people_read(app, engine):
    case = to_rectify(engine)
    number = engine.case_number(case)
    member = signed_in(app, MEMBER)
    assert number in member.get("/my-reports").text
    page = member.get(f"/cases/{case}").text
    assert f"<title>案件 {number}" in page and f'<span class="case-number">{number}</span>' in page
    assert number in signed_in(app, "dept_yjj").get("/inbox").text


def test_a_report_tells_its_case_number(app, engine):
    member = signed_in(app, MEMBER)
    form = member.get("/report/hazard_handling")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text).group(1)
    sent = member.post(
        "/report/hazard_handling",
        data={**REPORT, "csrf_token": token},
        follow_redirects=True,
    )
    case = engine.instances()[0]
    assert f"已上报，案件编号 {case['number']}。" in sent.text


# --- the API's case list --------------------------------------------------------------------


def api(app, token: str, **params):
    return app.test_client().get(
        "/api/v1/instances",
        query_string=params,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("dispatcher", True),
        (MEMBER, True),
        ("dept_yjj", True),
        ("leader_ap_d1_t1", True),
        ("member_d1_t1_v2", False),
        ("dept_zjj", False),
        ("leader_ap_d2", False),
    ],
)
def test_the_api_lists_only_cases_the_caller_may_see(app, engine, token_for, username, sees):
    case = to_rectify(engine)
    number = engine.case_number(case)
    page = api(app, token_for(username)).get_json()
    assert [c["id"] for c in page["items"]] == ([case] if sees else [])
    assert page["total"] == (1 if sees else 0)
    assert page["counts"]["all"] == (1 if sees else 0)
    searched = api(app, token_for(username), q=number).get_json()
    assert [c["number"] for c in searched["items"]] == ([number] if sees else [])


def test_the_api_searches_filters_sorts_and_pages(app, engine, token_for, clock):
    made = []
    for i in range(5):
        clock.advance(hours=1)
        made.append(report(engine, category="fireworks" if i % 2 else REPORT["category"]))
    close_invalid(engine, made[0])
    token = token_for("dispatcher")
    page = api(app, token, q="南门化工", sort="oldest", limit=2, offset=2).get_json()
    assert [c["id"] for c in page["items"]] == made[2:4]
    assert page["total"] == 5 and page["limit"] == 2 and page["offset"] == 2
    assert page["items"][0]["number"] == engine.case_number(made[2])
    assert [c["id"] for c in api(app, token, status="open", sort="oldest").get_json()["items"]] == (
        made[1:]
    )
    assert [c["id"] for c in api(app, token, status="closed").get_json()["items"]] == made[:1]
    fireworks = api(app, token, field="category:fireworks", sort="oldest").get_json()
    assert [c["id"] for c in fireworks["items"]] == [made[1], made[3]]
    app_client = app.test_client()
    both = app_client.get(
        "/api/v1/instances?field=category:fireworks&field=category:hazardous_chemicals"
        "&field=grid:ap-d1&sort=oldest",
        headers={"Authorization": f"Bearer {token}"},
    ).get_json()
    assert [c["id"] for c in both["items"]] == made
    assert api(app, token, q=str(made[3])).get_json()["items"][0]["id"] == made[3]
    assert api(app, token, created_from="2026-03-03").get_json()["items"] == []
    refused = api(app, token, field="colour:red")
    assert refused.status_code == 422 and "field" in refused.get_json()["fields"]
    assert api(app, token, sort="sideways").status_code == 422
    assert api(app, token, limit=0).status_code == 422


def test_the_api_documents_the_case_list_query(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in document["paths"]["/api/v1/instances"]["get"]["parameters"]}
    assert {"q", "field", "status", "sort", "created_from", "created_to", "limit", "offset"} <= (
        set(params)
    )
    assert "x-search" in params["q"]["description"]
    assert "cases.filter_fields" in params["field"]["description"]
