"""Everyone's inbox: the notifications the process sends (assignments, reminders,
supervision, returns), and the unread count in the header of every page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .context import current_actor, current_engine

inbox_blueprint = Blueprint("inbox", __name__)


@inbox_blueprint.app_context_processor
def unread_count() -> dict[str, Any]:
    if not getattr(current_user, "is_authenticated", False):
        return {}
    count = current_engine().unread_count(current_actor(), cap=100)
    return {"unread": count, "unread_text": "99+" if count > 99 else str(count)}


@inbox_blueprint.get("/inbox")
@login_required
def inbox() -> ResponseReturnValue:
    found = current_engine().notifications(current_actor(), limit=100)
    return render_template("inbox/inbox.html", inbox=found)


@inbox_blueprint.post("/inbox/read")
@login_required
def read() -> ResponseReturnValue:
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()] or None
    current_engine().mark_read(current_actor(), ids)
    return redirect(url_for("inbox.inbox"))
