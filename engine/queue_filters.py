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
from .models import InstanceField, SavedView
from .records import FilterField, SavedFilter


def filter_fields(
    session: Session, names: Sequence[str], compiled_by_id: CompiledById
) -> list[FilterField]:
    """Titles and choices come from the forms of each process's newest version, the first
    form that defines the field winning; the grid's choices are the organisation's grids."""
    titles: dict[str, dict[str, Any]] = {}
    for version in newest_versions(session):
        for form in compiled_by_id(session, version.id).forms.values():
            for name, prop in (form.get("properties") or {}).items():
                if name in names and name not in titles:
                    titles[name] = prop
    result: list[FilterField] = []
    for name in names:
        prop = titles.get(name, {})
        options = [(o.get("const"), o.get("title")) for o in prop.get("oneOf", [])]
        if name == "grid":
            options = [(g["code"], f"{g['name']} ({g['code']})") for g in org.grids(session)]
        result.append({"name": name, "title": prop.get("title") or name, "options": options})
    return result


def write_filter_fields(
    session: Session,
    instance_id: int,
    names: Sequence[str],
    old: dict[str, Any],
    new: dict[str, Any],
) -> None:
    """Keep the case's rows of the filter fields in step with its data, from the data before
    and after a step: only the changed fields' rows are replaced; an empty value has none."""
    changed = {name: new.get(name) for name in names if old.get(name) != new.get(name)}
    if not changed:
        return
    table = cast(Table, InstanceField.__table__)
    conn = session.connection()
    conn.execute(
        table.delete().where(table.c.instance_id == instance_id, table.c.name.in_(list(changed)))
    )
    rows = [
        {"instance_id": instance_id, "name": name, "value": str(value)[:255]}
        for name, value in changed.items()
        if value not in (None, "")
    ]
    if rows:
        conn.execute(table.insert(), rows)


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
