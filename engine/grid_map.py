"""The map of open hazards by grid: how many open cases each grid has and how many of them
are overdue, counted in SQL under the one visibility rule (`visibility`) from the indexed
grid field (`instance_fields`) and the open tasks' deadlines (`open_tasks.due_at`), then
added up the (small) grid tree in Python, so that a grid's number is its own cases and those
of every grid below it: what the case list shows for that grid (`/cases?status=open&grid=`).
The reported locations come from their indexed projection too; no case data is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from . import grid_shapes, org
from .case_list import overdue_condition
from .models import Instance, InstanceField
from .org import Actor
from .records import MapData, MapGrid, MapPoint
from .visibility import Visibility, led_grids

MAX_POINTS = 2000  # the newest open cases with a location; the rest are counted, not drawn


def shown_grids(session: Session, actor: Actor, rule: Visibility) -> set[str] | None:
    """The grids the reader's map shows: None for all (who sees every case), else the grids
    they lead and those below."""
    return None if rule.sees_all(actor) else set(led_grids(session, actor))


def map_data(
    session: Session,
    actor: Actor,
    rule: Visibility,
    now: datetime,
    location: tuple[str, str],
) -> MapData:
    shown = shown_grids(session, actor, rule)
    visible = rule.rule(session, actor)
    overdue = overdue_condition(now)
    grid = aliased(InstanceField)
    on_grid = and_(grid.instance_id == Instance.id, grid.name == rule.grid_field)
    counted = (
        select(grid.value, func.count(), func.coalesce(func.sum(case((overdue, 1), else_=0)), 0))
        .select_from(Instance)
        .join(grid, on_grid)
        .where(Instance.status == "running", visible)
        .group_by(grid.value)
    )
    if shown is not None:
        counted = counted.where(grid.value.in_(shown))
    own = {code: (int(n), int(late)) for code, n, late in session.execute(counted)}

    records = [g for g in org.grids(session) if shown is None or g["code"] in shown]
    codes = {g["code"] for g in records}
    children: dict[str | None, list[str]] = {}
    for g in records:
        children.setdefault(g["parent"] if g["parent"] in codes else None, []).append(g["code"])
    totals: dict[str, tuple[int, int]] = {}
    # children before parents: a depth-first order, reversed
    order: list[str] = []
    todo = list(children.get(None, []))
    while todo:
        code = todo.pop()
        order.append(code)
        todo.extend(children.get(code, []))
    for code in reversed(order):
        n, late = own.get(code, (0, 0))
        for child in children.get(code, []):
            n, late = n + totals[child][0], late + totals[child][1]
        totals[code] = (n, late)

    shapes = grid_shapes.stored(session, None if shown is None else sorted(codes))
    grids: list[MapGrid] = [
        {
            "code": g["code"],
            "name": g["name"],
            "parent": g["parent"] if g["parent"] in codes else None,
            "level": g["level"],
            "open": totals.get(g["code"], (0, 0))[0],
            "overdue": totals.get(g["code"], (0, 0))[1],
            "geometry": shapes.get(g["code"]),
        }
        for g in records
    ]
    tops = children.get(None, [])
    points, left_out = _points(session, visible, overdue, rule.grid_field, location, shown)
    return {
        "grids": grids,
        "points": points,
        "points_limit": MAX_POINTS,
        "points_left_out": left_out,
        "open": sum(totals.get(c, (0, 0))[0] for c in tops),
        "overdue": sum(totals.get(c, (0, 0))[1] for c in tops),
    }


def _coordinate(raw: str | None, limit: float) -> float | None:
    try:
        value = float(raw or "")
    except ValueError:
        return None
    return value if -limit <= value <= limit else None


def _points(
    session: Session,
    visible: Any,
    overdue: Any,
    grid_field: str,
    location: tuple[str, str],
    shown: set[str] | None,
) -> tuple[list[MapPoint], int]:
    """The newest open cases the reader sees that have a reported location (and, for a
    reader who sees some grids only, lie in one of them)."""
    lat, lng, grid = aliased(InstanceField), aliased(InstanceField), aliased(InstanceField)
    where = [Instance.status == "running", visible]
    stmt = (
        select(Instance.id, Instance.number, lat.value, lng.value, grid.value, overdue)
        .select_from(Instance)
        .join(lat, and_(lat.instance_id == Instance.id, lat.name == location[0]))
        .join(lng, and_(lng.instance_id == Instance.id, lng.name == location[1]))
        .outerjoin(grid, and_(grid.instance_id == Instance.id, grid.name == grid_field))
    )
    if shown is not None:
        where.append(grid.value.in_(shown))
    stmt = stmt.where(*where).order_by(Instance.created_at.desc(), Instance.id.desc())
    rows = session.execute(stmt.limit(MAX_POINTS)).all()
    points: list[MapPoint] = []
    for instance_id, number, raw_lat, raw_lng, code, late in rows:
        y, x = _coordinate(raw_lat, 90), _coordinate(raw_lng, 180)
        if y is not None and x is not None:
            points.append(
                {"id": instance_id, "number": number, "lat": y, "lng": x, "grid": code,
                 "overdue": bool(late)}
            )  # fmt: skip
    left_out = 0
    if len(rows) == MAX_POINTS:
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        left_out = max(0, (total or 0) - MAX_POINTS)
    return points, left_out
