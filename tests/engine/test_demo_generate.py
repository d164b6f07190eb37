"""`hazardflow demo generate`: the copies are cases like any other, on both databases: their
audit chains verify, the figures count them, the feed lists them, their numbers are found,
and an open copy's task can be worked to the end like the case it was copied from."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from engine import Period
from engine.case_list import CaseQuery
from engine.models import PartEscalation
from engine.tasks import TaskQuery
from tests.helpers import RECTIFY_REPORT, act

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
CATEGORIES = ("hazardous_chemicals", "construction")


def test_generated_cases_are_whole_cases(engine, clock):
    made = engine.generate_demo_cases(120, seed=7, now=NOW, categories=CATEGORIES)
    assert (made["cases"], made["templates"]) == (120, 22)  # 2 categories × 11 outcomes
    # the timers that fell due before now fired at their moments, none is left for a sweep
    assert made["timers"] > 0 and engine.fire_due_timers() == 0
    with engine.db.reading() as session:
        days = {e.at.date() for e in session.scalars(select(PartEscalation))}
    assert len(days) > 3, "escalations on the days they fell due, not all on the first sweep"
    assert engine.now() == NOW
    check = engine.verify_audit()
    assert check.ok and check.chains >= 120, check.problems

    dispatcher = engine.actor("dispatcher")
    everything = engine.cases(dispatcher, CaseQuery(status="all", limit=500))
    assert everything["total"] == 120
    numbers = {item["number"] for item in everything["items"]}
    assert len(numbers) == 120, "every copy has its own number"
    found = engine.cases(dispatcher, CaseQuery(q=sorted(numbers)[-1]))
    assert found["total"] == 1

    year = Period(date(2025, 11, 1), date(2026, 11, 30))
    figures = engine.stats_report(dispatcher, "department", year).total.as_dict()
    assert 0 < figures["dispatched"] < 120  # the invalid reports are never dispatched
    assert figures["rectified"] > 0 and figures["overdue_open"] > 0
    assert figures["major_open"] > 0 and figures["major_open_by_level"]

    # each open case is a point on the map, inside its own village's outline
    shown = engine.map_data(dispatcher)
    points = shown["points"]
    assert len(points) == sum(1 for i in everything["items"] if i["status"] == "running")
    for point in points:
        ring = engine.grid_shape(point["grid"])["coordinates"][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        assert min(xs) < point["lng"] < max(xs) and min(ys) < point["lat"] < max(ys), point
    copies = [p for p in points if p["id"] > 22]  # the templates share their village's place
    assert len({(p["lat"], p["lng"]) for p in copies}) == len(copies), "each its own place"

    seen: set[int] = set()
    since = None
    while True:
        page = engine.hazard_feed(dispatcher, since, 500)
        seen |= {item["record"]["id"] for item in page["items"]}
        if not page["items"]:
            break
        since = page["next"]
    assert len(seen) == 120, "every case is in the feed"

    # the lead department's queue has work in it: reports to classify, extensions, verifications
    waiting = engine.tasks_for(dispatcher, TaskQuery(limit=500))
    assert {"classify", "approve_extension", "verify"} <= {t["task_name"] for t in waiting}
    to_classify = max(t["instance_id"] for t in waiting if t["task_name"] == "classify")
    assert to_classify > 22
    category = engine.instance(to_classify)["data"]["category"]
    accepted = {"category": category, "outcome": "accept", "grade": "general"}
    act(engine, "dispatcher", to_classify, "classify", accepted)
    assert "dispatch" in {t["task_name"] for t in engine.instance(to_classify)["open_tasks"]}

    # a copy's rectification photos are its own, shown to whoever sees the case
    to_verify = max(t["instance_id"] for t in waiting if t["task_name"] == "verify")
    shown = engine.instance(to_verify)["data"]
    (photo,) = shown["rectify_photos"]
    for each in (photo, *shown["photos"]):  # the rectification's, the report's
        path, kind = engine.photo(each, dispatcher)
        assert kind == "image/png" and path.read_bytes()[:4] == b"\x89PNG"
    assert len(shown["photos"]) == 1 and shown["photos"] != [photo]
    template_photos = {
        p for c in range(1, 23) for p in engine.instance(c)["data"].get("rectify_photos", [])
    }
    assert photo not in template_photos

    # an open copy (not one of the templates) is worked on to the end
    tasks = engine.tasks_for(engine.actor("dept_yjj"), TaskQuery(task_name="rectify", limit=100))
    general = [
        t["instance_id"]
        for t in tasks
        if engine.instance(t["instance_id"])["data"]["grade"] == "general"
    ]
    copy = max(general)  # a major one needs the 五到位 plan too
    assert copy > 22
    act(engine, "dept_yjj", copy, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", copy, "verify", {"passed": True})
    assert engine.instance(copy)["end_event"] == "end_archived"
    assert engine.verify_audit().ok
