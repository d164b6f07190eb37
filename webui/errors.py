"""Error pages for people: every HTTP error is a page in the site's layout and the reader's
language that says what happened and offers the way on (the queue, the case, back); what a
person typed into a form that could not be taken is shown again so nothing is lost. The API
answers the same errors as JSON."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

API_PREFIX = "/api/"


def _messages() -> dict[int, tuple[str, str]]:
    """Status -> (heading, what happened), in the reader's language."""
    return {
        400: (_("The request could not be used"), _("Something in it was missing or wrong.")),
        403: (_("Not for you"), _("Your account may not open this page or do this.")),
        404: (_("Not found"), _("This page, case or task does not exist, or no longer does.")),
        405: (_("Not possible here"), _("This page cannot be used that way.")),
        409: (
            _("Changed meanwhile"),
            _("Someone else changed this at the same time. Open it again to see it as it is."),
        ),
        413: (_("Too large"), _("The upload is too large.")),
        422: (_("The request could not be used"), _("Something in it was missing or wrong.")),
        429: (
            _("Too many requests"),
            _("Too many requests came from your address. Please try again later."),
        ),
        500: (
            _("Something went wrong on our side"),
            _("Nothing was saved. Please try again; if it happens again, tell the administrator."),
        ),
    }


def explain(message: str) -> None:
    """Say more precisely why, on the error page this request ends in (e.g. who claimed the
    task)."""
    g.error_detail = message


def keep_typed(typed: list[tuple[str, Any]]) -> None:
    """Show what the person typed (title, value) on the error page, so it is not lost."""
    g.error_typed = typed


def keep_way_on(label: str, url: str) -> None:
    """A link onwards from the error page besides home and back (e.g. the task's case)."""
    g.error_ways = [*g.get("error_ways", []), (label, url)]


def _back() -> str | None:
    """Where the reader came from, if it is a page of this site."""
    referrer = request.referrer or ""
    here = urlsplit(request.host_url)
    there = urlsplit(referrer)
    same_site = (there.scheme, there.netloc) == (here.scheme, here.netloc)
    return referrer if same_site and referrer != request.url else None


def render_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if request.path.startswith(API_PREFIX):
        name = (error.name or "error").lower().replace(" ", "_")
        return jsonify(error=name, message=error.description or "", fields={}), status
    heading, text = _messages().get(status, (error.name, error.description or ""))
    signed_in = getattr(current_user, "is_authenticated", False)
    ways = [(_("Back to my work"), url_for("queue.home"))] if signed_in else []
    if not signed_in and status in (401, 403):
        ways.append((_("Sign in"), url_for("auth.login", next=request.full_path)))
    ways.extend(g.get("error_ways", []))
    back = _back()
    if back:
        ways.append((_("Back"), back))
    detail = g.get("error_detail")
    if isinstance(error, CSRFError):
        detail = _("The form had expired. Open the page again and send it once more.")
    page = render_template(
        "errors/error.html",
        status=status,
        heading=heading,
        text=text,
        detail=detail,
        typed=g.get("error_typed", []),
        ways=ways,
    )
    return page, status, retry_after(error) if status == 429 else {}


def retry_after(error: HTTPException) -> dict[str, str]:
    """The Retry-After header of a refused request, if the limit gave one."""
    value = error.get_response().headers.get("Retry-After")
    return {"Retry-After": value} if value else {}


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(Exception, _unexpected)


def _unexpected(exc: Exception) -> ResponseReturnValue:
    """Anything unexpected: logged with its traceback, answered as a 500 page (or JSON)."""
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return render_error(InternalServerError())
