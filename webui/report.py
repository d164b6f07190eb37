"""Reporting (grid members, phone-sized): the start form of a process, and my reports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine import FormInvalid

from .context import current_actor, current_engine
from .form_errors import field_messages
from .photos import checked_photos, photos_chosen
from .process_texts import localized_fields, process_text
from .schema_form import parse_submission

report_blueprint = Blueprint("report", __name__)


def report_process() -> str:
    """The process people report with: config `report_process`, else the first one deployed.
    The pages name no process themselves."""
    engine = current_engine()
    ids = [p["process_id"] for p in engine.processes()]
    configured = engine.config.public_report_process
    return configured if configured in ids or not ids else ids[0]


@report_blueprint.get("/report")
@login_required
def default() -> ResponseReturnValue:
    return redirect(url_for("report.form", process_id=report_process()))


@report_blueprint.route("/report/<process_id>", methods=["GET", "POST"])
@login_required
def form(process_id: str) -> ResponseReturnValue:
    engine, actor = current_engine(), current_actor()
    process = next((p for p in engine.processes() if p["process_id"] == process_id), None)
    if process is None:
        abort(404)
    schema = process["start_form"]
    values: dict[str, Any] = {}
    if actor.grids:
        values["grid"] = actor.grids[0]
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        typed = parse_submission(schema, request.form)  # shown again without new photos
        try:
            uploads = checked_photos(schema, request.files)
            data = parse_submission(schema, request.form, uploads.ids)
            case = engine.start(process_id, data, actor, uploads.photos)
        except FormInvalid as invalid:
            values, errors, status = {**values, **typed}, field_messages(invalid), 422
            flash(_("The form has errors: see the marked fields."), "error")
            if photos_chosen(request.files):
                flash(_("Photos you chose were not kept: please choose them again."), "error")
        else:
            engine.attach_photos(data, case, actor)  # photos kept with an earlier post
            number = engine.case_number(case)
            flash(_("Reported. Your case number is %(case)s.", case=number), "ok")
            return redirect(url_for("cases.case", instance_id=case))
    own = engine.own_grids(actor) if actor.grids else None  # a grid member: their grids only
    fields = localized_fields(schema, values, errors, grid_choices=own)
    heading = process_text((schema or {}).get("title") or process["name"])  # 上报隐患, say
    return render_template("report/form.html", heading=heading, fields=fields, uploads=True), status


@report_blueprint.get("/my-reports")
@login_required
def mine() -> ResponseReturnValue:
    cases = current_engine().instances(created_by=current_actor().username, limit=100)
    return render_template("report/mine.html", cases=cases)
