"""The 考核 figures over HTTP: the API, the page, its exports and the case lists its figures
open, all with the numbers of the seeded cases of tests/engine/test_stats.py."""

from __future__ import annotations

import csv
import io
import re

import requests
from openpyxl import load_workbook

from tests.engine.test_stats import MARCH, seeded  # noqa: F401  - the seeded cases

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


def api(server, token: str, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return requests.get(f"{server.url}/api/v1/stats", params=params, headers=headers, timeout=30)


def test_the_api_answers_the_figures_of_the_page(engine, server, token_for, seeded):  # noqa: F811
    answer = api(server, token_for("dispatcher"), by="department", **PERIOD)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    yjj = next(row for row in body["rows"] if row["key"] == "yjj")
    assert (yjj["dispatched"], yjj["due"], yjj["on_time"], yjj["on_time_rate"]) == (5, 5, 3, 0.6)
    assert (yjj["overdue_open"], yjj["avg_working_days"], yjj["returns"]) == (1, 6.0, 1)
    expected = engine.stats_report(engine.actor("dispatcher"), "department", MARCH)
    assert body["rows"] == [row.as_dict() for row in expected.rows]
    assert body["total"]["dispatched"] == 7
    grids = api(server, token_for("leader_ap_d2"), by="grid", **PERIOD).json()
    assert all(row["key"].startswith("ap-d2") for row in grids["rows"])
    assert grids["total"]["dispatched"] == 1


def test_the_api_refuses_what_it_cannot_answer(server, token_for, seeded):  # noqa: F811
    assert api(server, token_for("member_d1_t1_v1")).status_code == 403
    wrong = api(server, token_for("dispatcher"), **{"from": "2026-13-01"})
    assert wrong.status_code in (400, 422) and "from" in wrong.text
    backwards = api(server, token_for("dispatcher"), **{"from": "2026-04-01", "to": "2026-03-01"})
    assert backwards.status_code == 422 and "from" in backwards.text
    assert api(server, token_for("dispatcher"), by="city").status_code in (400, 422)


def test_the_page_links_each_count_to_its_cases(server, web_user, seeded):  # noqa: F811
    dispatcher = web_user("dispatcher")
    page = dispatcher.get("/stats", params={"by": "department", **PERIOD})
    assert page.status_code == 200
    assert "按期整改率" in page.text and "60.0%" in page.text
    link = re.search(r'href="(/cases\?[^"]*stat=on_time[^"]*key=yjj[^"]*)"', page.text)
    assert link, "the on-time count of 应急管理局 opens its cases"
    listed = dispatcher.get(link.group(1).replace("&amp;", "&"))
    assert listed.status_code == 200
    numbers = set(re.findall(r"YH-2026-\d{6}", listed.text)) - {"YH-2026-000123"}  # the hint
    assert len(numbers) == 3, numbers
    assert web_user("member_d1_t1_v1").get("/stats").status_code == 403
    wrong = dispatcher.get("/stats", params={"from": "2026-04-01", "to": "2026-03-01"})
    assert wrong.status_code == 200 and 'aria-invalid="true"' in wrong.text


def test_an_export_holds_the_numbers_of_the_page_and_its_filters(server, web_user, seeded):  # noqa: F811
    dispatcher = web_user("dispatcher", "en")
    answer = dispatcher.get("/stats/export.xlsx", params={"by": "department", **PERIOD})
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.content)).active
    lines = list(sheet.iter_rows(values_only=True))
    assert lines[0][:2] == ("Period", "2026-03-01 – 2026-03-31")
    header = next(i for i, line in enumerate(lines) if line[0] == "Department")
    titles = lines[header]
    yjj = next(line for line in lines[header + 1 :] if line[0] == "应急管理局")
    figures = dict(zip(titles, yjj, strict=True))
    assert (figures["Dispatched"], figures["Due"], figures["On time"]) == (5, 5, 3)
    assert figures["On-time rate"] == 0.6 and figures["Avg. working days"] == 6.0
    assert lines[-1][0] == "Total" and dict(zip(titles, lines[-1], strict=True))["Dispatched"] == 7
    text = dispatcher.get("/stats/export.csv", params={"by": "grid", **PERIOD}).content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[0] == ["Period", "2026-03-01 – 2026-03-31"] and rows[1] == ["By", "Grid"]
    quarterly = dispatcher.get("/stats/quarterly.xlsx", params={"year": 2026, "quarter": 1})
    book = load_workbook(io.BytesIO(quarterly.content))
    assert book.sheetnames == ["By department", "By grid"]
    assert book["By department"]["B1"].value == "2026-01-01 – 2026-03-31"


def test_a_case_list_exports_with_its_filters(server, web_user, seeded):  # noqa: F811
    dispatcher = web_user("dispatcher", "en")
    params = {"status": "all", "department": "zjj"}
    answer = dispatcher.get("/cases/export.xlsx", params=params)
    assert answer.status_code == 200
    lines = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    heads = [line[:2] for line in lines]
    assert ("department", "zjj") in heads and ("Cases", "2") in heads
    header = next(i for i, line in enumerate(lines) if line[0] == "Case number")
    assert len(lines[header + 1 :]) == 2
