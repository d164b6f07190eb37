"""Small drivers for tests: act as a user on a case, as a person would through the queue."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import Engine, PhotoUpload
from engine.tasks import TaskQuery

REPORT = {
    "grid": "ap-d1-t1-v1",
    "unit": "南门化工仓库",
    "category": "hazardous_chemicals",
    "description": "仓库内危化品混存，未设置防火隔离",
}
MEMBER = "member_d1_t1_v1"
# A form names only photos that exist (uploaded by its sender, or of a case they see): this
# id stands for "a photo after rectification", which `act` and `with_photos` upload for real.
AFTER_PHOTO = "photo-after-1"
RECTIFY_REPORT = {
    "action": "report",
    "measures": "危化品分区存放，加装防火隔离墙",
    "responsible_person": "赵经理",
    "funds": 12000,
    "rectify_photos": [AFTER_PHOTO],
    "completed_on": "2026-03-06",
}


def tiny_png(colour: tuple[int, int, int] = (40, 160, 90)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), colour).save(out, "PNG")
    return out.getvalue()


def with_photos(engine: Engine, data: dict[str, Any]) -> tuple[dict[str, Any], list[PhotoUpload]]:
    """The form data with the stand-in AFTER_PHOTO replaced by a real photo, and that photo,
    to hand to the command with the form."""
    if AFTER_PHOTO not in (data.get("rectify_photos") or []):
        return data, []
    photo = engine.check_photo(tiny_png(), "rectify_photos")
    photos = [photo.id if p == AFTER_PHOTO else p for p in data["rectify_photos"]]
    return {**data, "rectify_photos": photos}, [photo]


MAJOR_PLAN = {
    "measures": "停产整顿，拆除违规储罐",
    "responsibility": "企业法人负总责",
    "funds": 500000,
    "time_limit": "2026-04-10",
    "contingency": "专项应急预案，配备堵漏器材",
}


def complete_with_photos(
    engine: Engine, task_id: str, actor: Any, data: dict[str, Any], comment: str | None = None
) -> Any:
    """engine.complete with the stand-in photo of `data` uploaded for real (`with_photos`)."""
    data, photos = with_photos(engine, data)
    return engine.complete(task_id, actor, data, comment, photos)


def open_task(engine: Engine, username: str, instance_id: int, task_name: str) -> dict[str, Any]:
    actor = engine.actor(username)
    tasks = engine.tasks_for(actor, TaskQuery(instance_id=instance_id, task_name=task_name))
    assert tasks, f"{username} has no open '{task_name}' task in case {instance_id}"
    return tasks[0]


def act(
    engine: Engine,
    username: str,
    instance_id: int,
    task_name: str,
    data: dict[str, Any],
    comment: str | None = None,
) -> dict[str, Any]:
    task = open_task(engine, username, instance_id, task_name)
    data, photos = with_photos(engine, data)
    return engine.complete(task["id"], engine.actor(username), data, comment, photos)


def open_task_names(engine: Engine, instance_id: int) -> list[str]:
    return sorted(t["task_name"] for t in engine.instance(instance_id)["open_tasks"])


def report(engine: Engine, **changes: Any) -> int:
    """A report by the grid member of its grid (member_d2_t1_v1 for ap-d2-t1-v1, ...)."""
    data = {**REPORT, **changes}
    reporter = "member_" + data["grid"].removeprefix("ap-").replace("-", "_")
    return engine.start("hazard_handling", data, engine.actor(reporter))


def accept(engine: Engine, case: int, grade: str = "general", category: str | None = None) -> None:
    """The dispatcher accepts the report (分类定级: 受理) with the category as reported."""
    data = {"outcome": "accept", "grade": grade, "category": category or REPORT["category"]}
    act(engine, "dispatcher", case, "classify", data)


def close_invalid(engine: Engine, case: int, reason: str = "无此单位") -> None:
    """The dispatcher closes the report as invalid (无效结案)."""
    data = {"outcome": "invalid", "reason": reason, "category": REPORT["category"]}
    act(engine, "dispatcher", case, "classify", data)


def merge_duplicate(
    engine: Engine, case: int, earlier: int, reason: str = "与较早的举报为同一隐患"
) -> None:
    """The dispatcher merges the report into an earlier case (重复合并)."""
    data = {
        "outcome": "duplicate",
        "duplicate_of": str(earlier),
        "reason": reason,
        "category": REPORT["category"],
    }
    act(engine, "dispatcher", case, "classify", data)


def dispatch_as_proposed(engine: Engine, case: int) -> str:
    """The dispatcher dispatches an accepted case as the table says and the department signs
    for it (签收); the department's user name."""
    data = engine.instance(case)["data"]
    act(
        engine,
        "dispatcher",
        case,
        "dispatch",
        {"department": data["department"], "deadline_days": data["deadline_days"]},
    )
    dept = "dept_" + data["department"]
    act(engine, dept, case, "receive", {"decision": "accept"})
    return dept


def to_rectify(engine: Engine, grade: str = "general", category: str | None = None) -> int:
    """A case reported, classified, dispatched as the table says and accepted by the dept."""
    case = report(engine, **({"category": category} if category else {}))
    accept(engine, case, grade, category)
    dispatch_as_proposed(engine, case)
    return case


def edit_json(path: Path, edit: Callable[[Any], Any]) -> None:
    """Change a JSON process file in place (`edit` changes the parsed document)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
