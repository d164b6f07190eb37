"""The case page names whom each open task waits on: a case escalated up the grid waits on
several leaders' 督办 tasks of one name."""

from __future__ import annotations

from engine.clock import parse_iso
from tests.helpers import to_rectify


def test_each_supervision_task_names_its_leader_and_grid(engine, clock, web_user):
    case = to_rectify(engine, grade="major")
    for _ in range(4):  # a reminder, overdue, then two escalations: three leaders supervise
        clock.set(min(parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"]))
        assert engine.fire_due_timers() == 1
    shown = web_user("dispatcher").get(f"/cases/{case}")
    assert shown.status_code == 200
    tasks = shown.text.split('<ul class="open-tasks">', 1)[1].split("</ul>", 1)[0]
    grids = {g["code"]: g for g in engine.grids()}
    for code in ("ap-d1-t1-v1", "ap-d1-t1", "ap-d1"):
        grid = grids[code]
        assert tasks.count(f"{grid['leader_name']} ({grid['name']})") == 1, code
    assert tasks.count(grids["ap"]["name"] + ")") == 0, "the city leader is not reached yet"
