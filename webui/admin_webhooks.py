"""The administrators' webhooks page: register an address for case events (its secret is
shown once, in the answer to the registration: it is kept in no cookie), stop one, and the
newest deliveries with their status, attempts and last error. Under the admin blueprint, so
its role check holds."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine import FormInvalid

from .admin import admin_blueprint
from .context import current_actor, current_engine
from .form_errors import field_messages


def _page(
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    created: dict[str, Any] | None = None,
) -> str:
    engine = current_engine()
    return render_template(
        "admin/webhooks.html",
        webhooks=engine.webhooks(),
        deliveries=engine.webhook_deliveries(limit=100),
        events=engine.webhook_events,
        errors=errors or {},
        values=values or {"url": "", "events": []},
        created=created,
        event_labels=event_labels(),
        status_labels={
            "pending": _("waiting to be sent"),
            "delivered": _("delivered"),
            "failed": _("failed (gave up)"),
        },
    )


def event_labels() -> dict[str, str]:
    return {
        "started": _("Case reported"),
        "dispatched": _("Dispatched"),
        "overdue": _("Overdue"),
        "escalated": _("Escalated"),
        "archived": _("Archived"),
    }


@admin_blueprint.get("/webhooks")
def webhooks() -> ResponseReturnValue:
    return _page()


@admin_blueprint.post("/webhooks")
def add_webhook() -> ResponseReturnValue:
    url = (request.form.get("url") or "").strip()
    events = request.form.getlist("events")
    try:
        created = current_engine().add_webhook(url, events, current_actor())
    except FormInvalid as refused:
        return _page(field_messages(refused), {"url": url, "events": events}), 422
    return _page(created=dict(created))


@admin_blueprint.post("/webhooks/<int:subscription_id>/deactivate")
def deactivate_webhook(subscription_id: int) -> ResponseReturnValue:
    current_engine().deactivate_webhook(subscription_id, current_actor())
    flash(_("The webhook is stopped: nothing more is sent to it."))
    return redirect(url_for("admin.webhooks"))
