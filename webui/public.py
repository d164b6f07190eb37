"""The public report (no sign-in, like the 12350 hotline): rate limited per address; the
reporter gets a case number and a lookup code, and follows the case on its status page, which
shows what the start form declares (`x-public-status`) and the report's photos, through URLs
that carry the lookup code."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from engine import PUBLIC, FormInvalid, NotFound

from .context import current_engine
from .errors import render_error, retry_after
from .form_errors import field_messages
from .limits import limiter
from .photos import checked_photos, photos_chosen
from .process_texts import localized_fields
from .schema_form import parse_submission

public_blueprint = Blueprint("public", __name__, url_prefix="/public")
LOOKUP_SCOPE = "public-lookup"  # the lookup form and the status page share one limit


def _signature(text: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:10]


def lookup_code(case: int) -> str:
    """A code that proves the reporter's right to see the case state (no table needed)."""
    return _signature(f"case:{case}")


def _code_matches(case: int, code: str) -> bool:
    return hmac.compare_digest(code.encode(), lookup_code(case).encode())


def _photo_token(photo_id: str) -> str:
    """What a public photo not yet part of a case is shown with, to who uploaded it only."""
    return _signature(f"photo:{photo_id}")


def _normalized_code(raw: str) -> str:
    """A lookup code as typed: spaces, dashes and capitals forgiven."""
    return re.sub(r"[\s-]", "", raw).lower()


def _case_id(number: str) -> int | None:
    """The case a typed case number names (YH-2026-000123, or its id)."""
    return current_engine().case_named(number[:80])


def _not_found(response: Response) -> bool:
    """Only a wrong case number or code counts against the lookup limit."""
    return response.status_code == 404


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


def _report_limit() -> str:
    return current_engine().config.public_report_limit


def _lookup_limit() -> str:
    return current_engine().config.public_lookup_limit


@public_blueprint.context_processor
def _public_photo_urls() -> dict[str, Any]:
    """On the public report, a photo uploaded with a form shown again is shown through a URL
    that only its uploader got (there is no sign-in to check)."""

    def pending(photo_id: str) -> str:
        return url_for("public.pending_photo", photo_id=photo_id, t=_photo_token(photo_id))

    return {"photo_url": pending}


def _report_page(
    schema: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    notice: str | None = None,
) -> str:
    return render_template(
        "report/form.html",
        heading=_("Report a hazard"),
        hint=_(
            "Anyone may report a work-safety hazard here. You will get a case number and a "
            "lookup code to follow it."
        ),
        fields=localized_fields(schema, values, errors),
        uploads=True,
        notice=notice,
        public=True,
    )


@public_blueprint.route("/report", methods=["GET", "POST"])
@limiter.limit(_report_limit, methods=["POST"], error_message="too many reports from this address")
def report() -> ResponseReturnValue:
    engine = current_engine()
    process_id, schema = _public_schema()
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    notice: str | None = None
    status = 200
    if request.method == "POST":
        values = parse_submission(schema, request.form)  # shown again without new photos
        try:
            uploads = checked_photos(schema, request.files)
            data = parse_submission(schema, request.form, uploads.ids)
            case = engine.start(process_id, data, PUBLIC, uploads.photos)
        except FormInvalid as invalid:
            errors, status = field_messages(invalid), 422
            if photos_chosen(request.files):
                notice = _("Photos you chose were not kept: please choose them again.")
        else:
            engine.attach_photos(data, case, PUBLIC)
            return redirect(url_for("public.case", instance_id=case, code=lookup_code(case)))
    return _report_page(schema, values, errors, notice), status


@public_blueprint.get("/lookup")
@limiter.shared_limit(_lookup_limit, scope=LOOKUP_SCOPE, deduct_when=_not_found)
def lookup() -> ResponseReturnValue:
    """The reporter types the case number and lookup code they got and lands on the status
    page; a wrong number or code gets one and the same answer."""
    number = request.args.get("number", "")
    code = request.args.get("code", "")
    if not number.strip() and not code.strip():
        return _lookup_page(number, code)
    instance_id = _case_id(number)
    if instance_id is not None and _code_matches(instance_id, _normalized_code(code)):
        return redirect(
            url_for("public.case", instance_id=instance_id, code=lookup_code(instance_id))
        )
    not_found = _("No case was found for this case number and code. Check both and try again.")
    return _lookup_page(number, code, not_found), 404


def _lookup_page(number: str, code: str, error: str | None = None) -> str:
    return render_template("public/lookup.html", number=number, code=code, error=error)


def _checked_status(instance_id: int) -> tuple[dict[str, Any], str]:
    """The case's public status if the request carries its lookup code; 404 otherwise, the
    same for a wrong code and a missing case."""
    code = _normalized_code(request.args.get("code", ""))
    if not _code_matches(instance_id, code):
        abort(404)
    try:
        return dict(current_engine().public_status(instance_id)), code
    except NotFound:
        abort(404)


@public_blueprint.get("/cases/<int:instance_id>")
@limiter.shared_limit(_lookup_limit, scope=LOOKUP_SCOPE, deduct_when=_not_found)
def case(instance_id: int) -> ResponseReturnValue:
    found, code = _checked_status(instance_id)
    state = {
        "running": _("in progress"),
        "completed": _("closed"),
        "error": _("stopped with an error"),
    }.get(found["status"], found["status"])
    fields = localized_fields(found["schema"], found["data"])
    return render_template("public/case.html", case=found, state=state, code=code, fields=fields)


@public_blueprint.get("/cases/<int:instance_id>/photos/<photo_id>")
@limiter.shared_limit(_lookup_limit, scope=LOOKUP_SCOPE, deduct_when=_not_found)
def case_photo(instance_id: int, photo_id: str) -> ResponseReturnValue:
    """A photo of the case's public status, to whoever has its lookup code."""
    _checked_status(instance_id)
    if not photo_id.isalnum():
        abort(404)
    try:
        path, content_type = current_engine().public_photo(instance_id, photo_id)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype=content_type, max_age=3600)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@public_blueprint.get("/photos/<photo_id>")
@limiter.shared_limit(_lookup_limit, scope=LOOKUP_SCOPE, deduct_when=_not_found)
def pending_photo(photo_id: str) -> ResponseReturnValue:
    """A photo uploaded with a public report that was shown again (a field to correct): only
    with the token its page carried, and only until it belongs to a case."""
    token = request.args.get("t", "")
    if not photo_id.isalnum() or not hmac.compare_digest(token, _photo_token(photo_id)):
        abort(404)
    try:
        path, content_type = current_engine().pending_public_photo(photo_id)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype=content_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@public_blueprint.errorhandler(429)
def too_many(error: HTTPException) -> ResponseReturnValue:
    """The limit refused the request: the same page again, with everything typed and why, in
    the reader's language (a photo chosen for this post must be chosen again: it was not
    taken)."""
    headers = retry_after(error)
    if request.endpoint == "public.report" and request.method == "POST":
        schema = _public_schema()[1]
        notice = _(
            "Too many reports came from your address in a short time, so this one was not "
            "sent yet. Everything you typed is still here: please send it again later. "
            "Photos you chose must be chosen again."
        )
        typed = parse_submission(schema, request.form)
        return _report_page(schema, typed, notice=notice), 429, headers
    if request.endpoint in ("public.lookup", "public.case"):
        notice = _("Too many lookups came from your address. Please try again later.")
        number = request.args.get("number") or str((request.view_args or {}).get("instance_id", ""))
        return _lookup_page(number, request.args.get("code", ""), notice), 429, headers
    return render_error(error)
