"""A case's page (everyone who may see the case): its data, photos, timeline, pending
deadlines and the BPMN diagram with where it stands."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import ngettext
from flask_login import login_required

from engine import Forbidden, NotFound, TaskQuery

from .context import current_actor, current_engine
from .process_texts import localized_fields, process_text, reader_language

cases_blueprint = Blueprint("cases", __name__, url_prefix="/cases")


def _may_view_or_abort(instance_id: int) -> None:
    try:
        allowed = current_engine().can_view(current_actor(), instance_id)
    except NotFound:
        abort(404)
    if not allowed:
        abort(403)


@cases_blueprint.get("/<int:instance_id>")
@login_required
def case(instance_id: int) -> ResponseReturnValue:
    _may_view_or_abort(instance_id)
    engine, actor = current_engine(), current_actor()
    found = engine.instance(instance_id)
    data = found["data"]
    sections = []
    for section in engine.case_sections(instance_id):
        fields = localized_fields(section["schema"], data, readonly=True)
        shown = [f for f in fields if f.value not in (None, "", [], {})]
        if shown:
            sections.append((process_text(section["title"]), shown))
    by_name = {f.name: f for f in localized_fields(engine.case_schema(instance_id), {})}
    # Only the open tasks this reader may work are links: the others would answer 403.
    mine = engine.tasks_for(actor, TaskQuery(instance_id=instance_id, limit=100))
    return render_template(
        "cases/case.html",
        case=found,
        sections=sections,
        field_index=by_name,
        workable={t["id"] for t in mine},
        may_urge=engine.sees_all_cases(actor),
        names=engine.display_names(t["assignee"] for t in found["open_tasks"] if t["assignee"]),
    )


@cases_blueprint.post("/<int:instance_id>/tasks/<task_id>/urge")
@login_required
def urge(instance_id: int, task_id: str) -> ResponseReturnValue:
    """催办: remind who works an open task of the case; on its timeline, in their inbox."""
    _may_view_or_abort(instance_id)
    try:
        told = current_engine().urge(task_id, current_actor(), request.form.get("comment") or None)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    flash(
        ngettext("Urged: %(num)s person was told.", "Urged: %(num)s people were told.", told), "ok"
    )
    return redirect(url_for("cases.case", instance_id=instance_id))


@cases_blueprint.get("/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> ResponseReturnValue:
    _may_view_or_abort(instance_id)
    return jsonify(current_engine().diagram(instance_id, reader_language()))
