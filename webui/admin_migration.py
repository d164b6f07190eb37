"""Moving running cases to the newest version of their process: the preview of every case
that runs on another version (what changes, or why it may not move), then the chosen ones
moved with a comment. Part of the administrators' blueprint (its role check covers it)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from .admin import MAX_COMMENT, admin_blueprint
from .context import current_actor, current_engine
from .form_errors import note_message

PREVIEW_LIMIT = 200  # each preview restores the case's workflow: a page of them at a time


@admin_blueprint.get("/processes/<process_id>/migrate")
def migration(process_id: str) -> ResponseReturnValue:
    engine = current_engine()
    plans = engine.migrate_cases(process_id, None, limit=PREVIEW_LIMIT + 1)
    names = {p["process_id"]: p["name"] for p in current_engine().processes()}
    return render_template(
        "admin/migrate.html",
        process_id=process_id,
        process_name=names.get(process_id) or process_id,
        note_message=note_message,
        plans=plans[:PREVIEW_LIMIT],
        more=len(plans) > PREVIEW_LIMIT,
    )


@admin_blueprint.post("/processes/<process_id>/migrate")
def migrate(process_id: str) -> ResponseReturnValue:
    chosen = [int(raw) for raw in request.form.getlist("case") if raw.isdigit()]
    if not chosen:
        flash(_("Choose the cases to move."), "error")
        return redirect(url_for("admin.migration", process_id=process_id))
    comment = request.form.get("comment", "").strip()[:MAX_COMMENT] or None
    done = current_engine().migrate_cases(
        process_id, current_actor(), instance_ids=chosen, comment=comment, dry_run=False
    )
    moved = sum(1 for record in done if record["migrated"])
    refused = len(done) - moved
    if moved:
        flash(ngettext("%(num)s case moved.", "%(num)s cases moved.", moved), "ok")
    if refused:
        flash(
            ngettext(
                "%(num)s case could not move: see why below.",
                "%(num)s cases could not move: see why below.",
                refused,
            ),
            "error",
        )
    return redirect(url_for("admin.migration", process_id=process_id))
