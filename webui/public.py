"""The public report (no sign-in, like the 12350 hotline): rate limited per address; the
reporter gets a case number and a lookup code to follow the case's state."""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from engine import PUBLIC, FormInvalid, NotFound

from .context import current_engine
from .form_errors import field_messages
from .process_texts import localized_fields
from .schema_form import parse_submission

public_blueprint = Blueprint("public", __name__, url_prefix="/public")
limiter = Limiter(key_func=get_remote_address, default_limits=[], storage_uri="memory://")


def lookup_code(case: int) -> str:
    """A code that proves the reporter's right to see the case state (no table needed)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"case:{case}".encode(), hashlib.sha256).hexdigest()[:10]


def _public_schema() -> tuple[str, dict]:
    """The start form of the configured process with only the fields its `x-public` names
    (what a passer-by knows; the dispatcher completes the rest). Without them: no form."""
    process_id = current_engine().config.public_report_process
    process = next((p for p in current_engine().processes() if p["process_id"] == process_id), None)
    if process is None or not process["start_form"] or not process["public_fields"]:
        abort(404)
    schema = dict(process["start_form"])
    props = schema.get("properties") or {}
    schema["properties"] = {k: v for k, v in props.items() if k in process["public_fields"]}
    return process_id, schema


def _limit() -> str:
    return current_engine().config.public_report_limit


@public_blueprint.route("/report", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], error_message="too many reports from this address")
def report() -> ResponseReturnValue:
    process_id, schema = _public_schema()
    values: dict = {}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        values = parse_submission(schema, request.form)
        try:
            case = current_engine().start(process_id, values, PUBLIC)
        except FormInvalid as invalid:
            errors, status = field_messages(invalid), 422
        else:
            return redirect(url_for("public.case", instance_id=case, code=lookup_code(case)))
    fields = localized_fields(schema, values, errors)
    return render_template(
        "report/form.html",
        heading=_("Report a hazard"),
        hint=_(
            "Anyone may report a work-safety hazard here. You will get a case number to follow it."
        ),
        fields=fields,
    ), status


@public_blueprint.get("/cases/<int:instance_id>")
def case(instance_id: int) -> ResponseReturnValue:
    code = request.args.get("code", "")
    if not hmac.compare_digest(code, lookup_code(instance_id)):
        abort(404)  # the same answer for a wrong code and a missing case
    try:
        summary = current_engine().instance_summary(instance_id)
    except NotFound:
        abort(404)
    state = {
        "running": _("in progress"),
        "completed": _("closed"),
        "error": _("stopped with an error"),
    }.get(summary["status"], summary["status"])
    return render_template("public/case.html", case=summary, state=state, code=code)
