"""Working a task (dispatchers, departments, leaders): the task page, rendered from its JSON
Schema form, and one route per thing a person does with it: claim, release, hand over,
save a draft, complete. A separate URL per action, so that no form field (a rectify form has
its own `action` field) can turn one into another."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required

from engine import (
    Conflict,
    DraftRecord,
    EngineError,
    Forbidden,
    FormInvalid,
    NotFound,
    TaskClaimed,
    TaskDetail,
    TaskDone,
)

from .context import current_actor, current_engine
from .errors import explain, keep_typed, keep_way_on
from .form_errors import field_messages
from .photos import checked_photos, photos_chosen
from .process_texts import localized_fields, process_text
from .schema_form import Field, parse_submission

tasks_blueprint = Blueprint("tasks", __name__, url_prefix="/tasks")


def _task_or_abort(task_id: str) -> TaskDetail:
    """The task, or an error page that says why not and leads on to its case; a form sent to
    a task that can no longer take it is shown again there, so nothing typed is lost."""
    engine = current_engine()
    try:
        return engine.task(task_id, current_actor())
    except TaskClaimed as claimed:
        name = engine.display_names([claimed.assignee]).get(claimed.assignee, claimed.assignee)
        explain(_("%(name)s has claimed this task: only they can work it now.", name=name))
        _lead_to_case(claimed.instance_id)
        abort(403)
    except Forbidden:
        abort(403)
    except TaskDone as done:
        if done.by == current_actor().username:  # in another tab, or before going back
            explain(_("You have completed this task already."))
        elif done.by:
            name = engine.display_names([done.by]).get(done.by, done.by)
            explain(_("%(name)s completed this task first.", name=name))
        else:
            explain(_("This task is no longer open: the case has moved on."))
        _lead_to_case(done.instance_id)
        abort(404)
    except (NotFound, Conflict):
        abort(404)


def _lead_to_case(instance_id: int | None) -> None:
    """The error page leads on to the task's case and shows again what was sent with it."""
    if instance_id is None:
        return
    engine = current_engine()
    keep_way_on(_("The case"), url_for("cases.case", instance_id=instance_id))
    if request.method == "POST":
        fields = {f.name: f for f in localized_fields(engine.case_schema(instance_id), {})}
        typed = [
            (fields[name].title, fields[name].read_sent(value)) if name in fields else (name, value)
            for name, value in request.form.items(multi=True)
            if value.strip() and name not in ("csrf_token", "to")
        ]
        keep_typed(typed)


def _back(task_id: str) -> ResponseReturnValue:
    return redirect(url_for("tasks.task", task_id=task_id))


@tasks_blueprint.get("/<task_id>")
@login_required
def task(task_id: str) -> ResponseReturnValue:
    """The task's form; filled from this person's draft when they saved one."""
    found = _task_or_abort(task_id)
    draft = current_engine().draft(task_id, current_actor())
    values = {**found["data"], **draft["data"]} if draft else found["data"]
    return _render(found, localized_fields(found["form"], values), draft=draft)


def _render(
    task: TaskDetail,
    fields: list[Field],
    comment: str = "",
    status: int = 200,
    draft: DraftRecord | None = None,
) -> ResponseReturnValue:
    engine, actor = current_engine(), current_actor()
    case = engine.instance(task["instance_id"])
    colleagues = engine.display_names(engine.colleagues(task["id"], actor))
    assignee = task["assignee"]
    claimant = engine.display_names([assignee]).get(assignee, assignee) if assignee else None
    case_fields = localized_fields(engine.case_schema(task["instance_id"]), {})
    return render_template(
        "tasks/task.html",
        task=task,
        fields=fields,
        case=case,
        comment=comment,
        draft=draft,
        colleagues=colleagues,
        claimant=claimant,
        field_index={f.name: f for f in case_fields},
        description=process_text((task["form"] or {}).get("description")),
    ), status


@tasks_blueprint.post("/<task_id>/claim")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    _task_or_abort(task_id)
    try:
        current_engine().claim(task_id, current_actor())
    except EngineError as exc:
        flash(str(exc), "error")
    else:
        flash(_("You took the task."), "ok")
    return _back(task_id)


@tasks_blueprint.post("/<task_id>/release")
@login_required
def release(task_id: str) -> ResponseReturnValue:
    _task_or_abort(task_id)
    try:
        current_engine().release(task_id, current_actor())
    except EngineError as exc:
        flash(str(exc), "error")
        return _back(task_id)
    flash(_("The task is back in the group queue."), "ok")
    return redirect(url_for("queue.queue"))


@tasks_blueprint.post("/<task_id>/handover")
@login_required
def hand_over(task_id: str) -> ResponseReturnValue:
    _task_or_abort(task_id)
    to = request.form.get("to", "")
    try:
        current_engine().hand_over(
            task_id, current_actor(), to, request.form.get("comment") or None
        )
    except FormInvalid as invalid:
        flash("; ".join(field_messages(invalid).values()), "error")
        return _back(task_id)
    except EngineError as exc:
        flash(str(exc), "error")
        return _back(task_id)
    flash(_("Handed over to %(name)s.", name=to), "ok")
    return redirect(url_for("queue.queue"))


@tasks_blueprint.post("/<task_id>/draft")
@login_required
def draft(task_id: str) -> ResponseReturnValue:
    """Keep what is typed so far; the task stays as it is (not completed, not claimed)."""
    found = _task_or_abort(task_id)
    schema = found["form"]
    try:
        uploads = checked_photos(schema, request.files)
        data = parse_submission(schema, request.form, uploads.ids)
        current_engine().save_draft(task_id, current_actor(), data, uploads.photos)
    except FormInvalid as invalid:
        flash("; ".join(field_messages(invalid).values()), "error")
    else:
        flash(_("Draft saved: pick it up here later."), "ok")
    return _back(task_id)


def done_text(schema: dict[str, Any] | None, data: dict[str, Any]) -> str | None:
    """What the chosen answer did, as the form declares it (`x-done`: field -> value -> text,
    a boolean's value written `true`/`false`); None when the form does not say."""
    for name, texts in ((schema or {}).get("x-done") or {}).items():
        value = data.get(name)
        key = json.dumps(value) if isinstance(value, bool) else str(value)
        if isinstance(texts, dict) and isinstance(texts.get(key), str):
            return str(texts[key])
    return None


@tasks_blueprint.post("/<task_id>/complete")
@login_required
def complete(task_id: str) -> ResponseReturnValue:
    engine, actor = current_engine(), current_actor()
    found = _task_or_abort(task_id)
    schema = found["form"]
    comment = (request.form.get("comment") or "").strip()
    typed: dict[str, Any] = parse_submission(schema, request.form)  # shown again, no new photos
    try:
        uploads = checked_photos(schema, request.files)
        data = parse_submission(schema, request.form, uploads.ids)
        engine.complete(task_id, actor, data, comment or None, uploads.photos)
    except FormInvalid as invalid:
        shown = {**found["data"], **typed}
        fields = localized_fields(schema, shown, field_messages(invalid))
        flash(_("The form has errors: see the marked fields."), "error")
        if photos_chosen(request.files):
            flash(_("Photos you chose were not kept: please choose them again."), "error")
        return _render(found, fields, comment, 422)
    except Conflict:
        flash(_("Someone else completed this task first."), "error")
        return redirect(url_for("queue.queue"))
    except EngineError as exc:
        flash(str(exc), "error")
        fields = localized_fields(schema, {**found["data"], **typed})
        return _render(found, fields, comment, 422)
    engine.attach_photos(data, found["instance_id"], actor)
    done = done_text(schema, data)
    if done:
        flash(process_text(done), "ok")
    else:
        flash(_("Done: %(title)s.", title=process_text(found["title"])), "ok")
    return redirect(url_for("queue.queue"))
