"""The case list: case numbers, search (indexed, CJK-aware), who sees what, filters, sort and
paging, through real persistence on each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from engine import CaseQuery, NotFound
from engine.case_index import matching
from engine.models import Instance
from tests.helpers import (
    MEMBER,
    REPORT,
    accept,
    act,
    close_invalid,
    edit_json,
    report,
    to_rectify,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def ids(engine, username: str, **query) -> list[int]:
    return [c["id"] for c in engine.cases(engine.actor(username), CaseQuery(**query))["items"]]


def test_search_finds_a_case_by_number_unit_and_a_word_of_its_description(engine, make_engine):
    warehouse = report(engine)  # 南门化工仓库: 仓库内危化品混存，未设置防火隔离
    station = report(
        engine,
        unit="北关加油站",
        description="Gas station: 油罐区 no fence, 3号加油机漏油",
    )
    report(engine, unit="河口烟花批发部", description="门店内超量储存烟花爆竹")
    fresh = make_engine()  # another process: what it finds, the database holds
    number = fresh.instance(warehouse)["number"]
    assert number == f"YH-2026-{warehouse:06d}"

    def found(q: str, username: str = "dispatcher") -> list[int]:
        return ids(fresh, username, q=q)

    # by number, however it is typed, and by id
    assert found(number) == [warehouse]
    assert found(number.lower().replace("-", "")) == [warehouse]
    assert found(f"2026-{warehouse}") == [warehouse]
    assert found("ＹＨ－２０２６－" + f"{station:06d}") == [station]
    assert found(str(station)) == [station]
    assert found("YH-2026-999999") == []
    # by the unit's name or part of it, by a word of the description, in any letter case
    assert found("南门化工仓库") == [warehouse]
    assert found("化工") == [warehouse]
    assert found("混存") == [warehouse]
    assert found("危化品 防火") == [warehouse]
    assert found("FENCE") == [station]
    assert found("油罐") == [station]
    assert found("3号") == [station]
    assert found("烟花") == [max(warehouse, station) + 1]
    assert found("仓") == [warehouse]  # one character is a term of its own
    # every term must match, in the order written
    assert found("南门 油罐") == []
    assert found("存混") == []
    assert found("fences") == []
    # punctuation only: no search at all
    assert len(found("，。!")) == 3


def test_a_changed_searched_field_is_found_after_the_step(engine, make_engine):
    engine.deploy([FIXTURES / "self_report"])  # x-search: unit, description, remark
    engine.add_user("boss", roles=["enterprise"])
    engine.add_user("town_officer", roles=["township"])
    own = {"unit": "青石钢构厂", "category": "industry_trade", "description": "行车钢丝绳断股"}
    case = engine.start("enterprise_self_report", own, engine.actor("boss"))
    assert ids(engine, "boss", q="材料") == []
    act(engine, "town_officer", case, "review", {"decision": "reject", "remark": "材料不全"})
    assert ids(make_engine(), "boss", q="材料不全") == [case]
    assert ids(engine, "boss", q="钢丝绳") == [case]


def test_each_version_says_what_finds_its_cases(engine, folder):
    older = report(engine)  # x-search: unit, description
    edit_json(folder / "forms" / "report.json", lambda d: d.pop("x-search"))
    engine.deploy([folder])
    summarised = report(engine)  # without x-search: its x-summary (unit, grid, ...)
    edit_json(folder / "forms" / "report.json", lambda d: d.update({"x-search": []}))
    engine.deploy([folder])
    bare = report(engine)  # by its number only
    assert ids(engine, "dispatcher", q="南门化工") == [summarised, older]
    # its own version's fields: the grid is in x-summary, not in the older x-search
    assert ids(engine, "dispatcher", q="ap-d1-t1-v1") == [summarised]
    assert ids(engine, "dispatcher", q=engine.case_number(bare)) == [bare]
    assert ids(engine, "dispatcher", q="2026") == []  # a plain number is an id
    assert ids(engine, "dispatcher", q="YH 2026") == [bare, summarised, older]


def test_search_uses_the_index_not_a_scan(engine):
    report(engine)
    with engine.db.reading() as session:
        stmt = select(Instance.id).where(matching(session, ["南门", "混存"]))
        sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
        assert "LIKE" not in sql.upper()
        if engine.is_sqlite:
            plan = " ".join(r[-1] for r in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "case_search_fts VIRTUAL TABLE INDEX" in plan
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(r[0] for r in session.execute(text("EXPLAIN " + sql)))
            assert "Bitmap Index Scan on ix_case_search_terms" in plan


VISIBLE = [
    "dispatcher",
    "admin",
    MEMBER,  # reported it
    "dept_yjj",  # works it (the rectify task)
    "dept_yjj2",  # a colleague: the task is their department's
    "leader_ap_d1_t1_v1",  # its grid's leader
    "leader_ap_d1_t1",  # the town's
    "leader_ap_d1",  # the district's
    "leader_ap",  # the city's
]
HIDDEN = [
    "member_d1_t1_v2",  # a grid member of the next village
    "member_d2_t1_v1",  # of another district
    "dept_zjj",  # another department
    "leader_ap_d2",  # the leader of another district
    "leader_ap_d1_t2",  # of another town of the same district
]


@pytest.mark.parametrize("username", VISIBLE + HIDDEN)
def test_the_list_counts_and_search_show_only_cases_the_reader_may_see(engine, username):
    case = to_rectify(engine)  # hazardous chemicals: with 应急管理局 (yjj)
    number = engine.instance(case)["number"]
    actor = engine.actor(username)
    page = engine.cases(actor, CaseQuery(status="all"))
    by_number = engine.cases(actor, CaseQuery(q=number))
    by_unit = engine.cases(actor, CaseQuery(q=REPORT["unit"]))
    if username in VISIBLE:
        assert engine.can_view(actor, case)  # the same rule as the case page
        assert [c["id"] for c in page["items"]] == [case]
        assert page["counts"] == {"open": 1, "closed": 0, "all": 1}
        assert [c["id"] for c in by_number["items"]] == [case]
        assert [c["id"] for c in by_unit["items"]] == [case]
        assert engine.find_case(actor, number) == case
    else:
        assert not engine.can_view(actor, case)
        assert page["items"] == [] and page["total"] == 0
        assert page["counts"] == {"open": 0, "closed": 0, "all": 0}
        assert by_number["items"] == [] and by_unit["items"] == []
        with pytest.raises(NotFound):
            engine.find_case(actor, number)
        with pytest.raises(NotFound):
            engine.find_case(actor, str(case))


def test_find_case_tells_a_number_from_a_search(engine):
    case = report(engine)
    dispatcher = engine.actor("dispatcher")
    assert engine.find_case(dispatcher, f"yh2026{case:06d}") == case
    assert engine.find_case(dispatcher, f" {case} ") == case
    assert engine.find_case(dispatcher, "南门") is None  # not a number: search it
    with pytest.raises(NotFound):
        engine.find_case(dispatcher, "YH-2026-777777")


def test_status_sort_filters_and_paging(engine, clock):
    made = []
    for i, (grid, category) in enumerate(
        [
            ("ap-d1-t1-v1", "hazardous_chemicals"),
            ("ap-d1-t1-v2", "fireworks"),
            ("ap-d1-t2-v1", "hazardous_chemicals"),
            ("ap-d2-t1-v1", "fireworks"),
            ("ap-d1-t1-v1", "construction"),
            ("ap-d1-t1-v2", "hazardous_chemicals"),
            ("ap-d2-t2-v1", "fireworks"),
        ]
    ):
        clock.advance(hours=1)
        made.append(report(engine, grid=grid, category=category, unit=f"单位{i}"))
    clock.advance(hours=1)
    close_invalid(engine, made[1])  # closed
    clock.advance(hours=1)
    accept(engine, made[0])  # the oldest changes last

    assert ids(engine, "dispatcher") == made[::-1]
    assert ids(engine, "dispatcher", sort="oldest") == made
    changed = ids(engine, "dispatcher", sort="changed")
    assert changed[:2] == [made[0], made[1]] and changed[2:] == made[:1:-1]
    found = engine.cases(engine.actor("dispatcher"), CaseQuery(status="open"))
    assert found["counts"] == {"open": 6, "closed": 1, "all": 7} and found["total"] == 6
    assert ids(engine, "dispatcher", status="closed") == [made[1]]
    assert ids(engine, "dispatcher", status="completed") == [made[1]]

    # pages of three; a page past the last is the last
    pages = [ids(engine, "dispatcher", sort="oldest", limit=3, offset=o) for o in (0, 3, 6)]
    assert pages == [made[:3], made[3:6], made[6:]]
    late = engine.cases(engine.actor("dispatcher"), CaseQuery(sort="oldest", limit=3, offset=90))
    assert late["offset"] == 6 and [c["id"] for c in late["items"]] == made[6:]
    assert late["total"] == 7

    # the queue's filters: case fields (a town's grid includes its villages) and report dates
    town = engine.grid_and_below("ap-d1-t1")
    assert ids(engine, "dispatcher", sort="oldest", fields={"grid": town}) == [
        made[0],
        made[1],
        made[4],
        made[5],
    ]
    both = {"grid": town, "category": ["hazardous_chemicals"]}  # closing set made[1]'s
    assert ids(engine, "dispatcher", sort="oldest", fields=both) == [made[0], made[1], made[5]]
    assert ids(engine, "dispatcher", fields=both, status="open", q="单位5") == [made[5]]
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # T0; case i was made at T0 + i+1 hours
    window = {
        "created_from": start + timedelta(hours=2),
        "created_to": start + timedelta(hours=4),
    }
    assert ids(engine, "dispatcher", sort="oldest", **window) == [made[1], made[2]]
    # a leader's counts are of their area only
    district = engine.cases(engine.actor("leader_ap_d2"), CaseQuery())
    assert district["counts"] == {"open": 2, "closed": 0, "all": 2}


def test_case_numbers_everywhere_and_the_china_year(engine, clock, make_engine):
    clock.set(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 2027-01-01 00:30 in China
    case = to_rectify(engine)
    number = f"YH-2027-{case:06d}"
    assert engine.case_number(case) == number
    assert engine.instance(case)["number"] == number
    assert engine.instance_summaries([case])[case]["number"] == number
    assert engine.instances()[0]["number"] == number
    yjj = engine.actor("dept_yjj")
    task = [t for t in engine.tasks_for(yjj) if t["instance_id"] == case][0]
    assert task["case_number"] == number
    assert engine.task(task["id"], yjj)["case_number"] == number
    assert engine.claim(task["id"], yjj)["case_number"] == number
    assert engine.release(task["id"], yjj)["case_number"] == number
    assert engine.instance(case)["open_tasks"][0]["case_number"] == number
    notes = engine.notifications(yjj)["items"]
    assert notes and {n["case_number"] for n in notes if n["instance_id"] == case} == {number}
    # another prefix for new cases; numbers given stay
    other = make_engine(case_number_prefix="AQ")
    second = report(other)
    assert other.case_number(second) == f"AQ-2027-{second:06d}"
    assert other.case_number(case) == number
    with pytest.raises(ValueError, match="number_prefix"):
        make_engine(case_number_prefix="yh-")
