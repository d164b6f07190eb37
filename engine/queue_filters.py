"""What a queue page offers besides its rows: filters on the configured case fields (titles
and choices from the forms), the per-case values they filter on (`instance_fields`, kept in
step with the case data by every command), and the views people save."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from . import org
from .deployments import CompiledById, newest_versions
from .errors import FieldError, FormInvalid
from .models import Instance, InstanceField, SavedView
from .org import Actor
from .records import FilterField, SavedFilter
from .visibility import indexed_value, led_grids


def filter_fields(
    session: Session,
    names: Sequence[str],
    compiled_by_id: CompiledById,
    actor: Actor,
    sees_all: bool,
) -> list[FilterField]:
    """Titles and choices come from the forms of each process's newest version, the first
    form that defines the field winning. A grid field (`x-ui` widget `grid`) offers the
    organisation's grids, a leader field their leaders; each only as far as the reader sees:
    someone who does not see every case is offered their own grids (and those below) and a
    department officer their own department."""
    props: dict[str, dict[str, Any]] = {}
    for version in newest_versions(session):
        for form in compiled_by_id(session, version.id).forms.values():
            for name, prop in (form.get("properties") or {}).items():
                if name in names and name not in props:
                    props[name] = prop
    grids = org.grids(session)
    own = set(led_grids(session, actor))
    for code in actor.grids:
        own.update(org.grid_and_below(session, code))
    if not sees_all and own:
        grids = [g for g in grids if g["code"] in own]
    result: list[FilterField] = []
    for name in names:
        prop = props.get(name, {})
        widget = (prop.get("x-ui") or {}).get("widget")
        options: list[tuple[Any, str]] = [
            (o.get("const"), o.get("title") or str(o.get("const"))) for o in prop.get("oneOf", [])
        ]
        if widget == "grid":
            options = [(g["code"], f"{g['name']} ({g['code']})") for g in grids]
        elif widget == "leader":
            options = [
                (g["leader_group"], f"{g['leader_name']} ({g['name']})")
                for g in grids
                if g["leader"]
            ]
        elif not sees_all and actor.department and actor.department in dict(options):
            options = [o for o in options if o[0] == actor.department]  # their own department
        result.append({"name": name, "title": prop.get("title") or name, "options": options})
    return result


def field_value(data: dict[str, Any], name: str) -> Any:
    """A case field's value; `location.lat` names a member of an object field (the map's
    coordinates are kept indexed so)."""
    value: Any = data
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def write_filter_fields(
    session: Session,
    instance_id: int,
    names: Sequence[str],
    old: dict[str, Any],
    new: dict[str, Any],
) -> None:
    """Keep the case's rows of the filter fields in step with its data, from the data before
    and after a step: only the changed fields' rows are replaced; an empty value has none."""
    changed = {
        name: field_value(new, name)
        for name in names
        if field_value(old, name) != field_value(new, name)
    }
    if not changed:
        return
    table = cast(Table, InstanceField.__table__)
    conn = session.connection()
    conn.execute(
        table.delete().where(table.c.instance_id == instance_id, table.c.name.in_(list(changed)))
    )
    rows = [
        {"instance_id": instance_id, "name": name, "value": indexed_value(value)}
        for name, value in changed.items()
        if value not in (None, "", [])
    ]
    if rows:
        conn.execute(table.insert(), rows)


def index_missing(session: Session, names: Sequence[str]) -> int:
    """Write the rows of indexed fields a case has in its data but not in `instance_fields`
    (a field newly configured to be indexed); returns how many. Run after a schema upgrade."""
    have = {
        (i, n) for i, n in session.execute(select(InstanceField.instance_id, InstanceField.name))
    }
    rows = []
    for instance_id, data in session.execute(select(Instance.id, Instance.data)):
        for name in names:
            value = field_value(data or {}, name)
            if value not in (None, "", []) and (instance_id, name) not in have:
                rows.append(
                    {"instance_id": instance_id, "name": name, "value": indexed_value(value)}
                )
    if rows:
        session.execute(cast(Table, InstanceField.__table__).insert(), rows)
    return len(rows)


def saved_views(session: Session, username: str) -> list[SavedFilter]:
    rows = session.scalars(
        select(SavedView).where(SavedView.username == username).order_by(SavedView.name)
    )
    return [{"id": v.id, "name": v.name, "query": v.query} for v in rows]


def save_view(session: Session, username: str, name: str, query: str) -> None:
    """One view a name and person: saving under the same name again replaces its query."""
    name = name.strip()[:80]
    if not name:
        reason = FieldError("view_name", "请填写视图名称")
        raise FormInvalid("a view needs a name", {"name": reason})
    view = session.scalar(
        select(SavedView).where(SavedView.username == username, SavedView.name == name)
    )
    if view is None:
        session.add(SavedView(username=username, name=name, query=query))
    else:
        view.query = query
