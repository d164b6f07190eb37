"""The work queue (dispatchers and departments): tabs with counts, filters, sort, paging,
saved filters; and the landing page, which sends each person to where their work is."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from engine import CHINA, EngineError, FormInvalid, TaskQuery

from .context import current_actor, current_engine
from .form_errors import field_messages
from .report import report_process
from .summaries import summarise_all

queue_blueprint = Blueprint("queue", __name__)
PAGE_SIZE = 25
MAX_PAGE = 10_000


@queue_blueprint.get("/")
@login_required
def home() -> ResponseReturnValue:
    """Each person lands where their work is: a supervising leader on what waits for them
    (escalations, the cases they supervise), an administrator and nothing else on the
    administration, a grid member with nothing to work on the report form, someone with
    the admin role besides others and nothing to work on the administration, everyone else
    on the work queue."""
    engine, actor = current_engine(), current_actor()
    if current_user.is_leader:
        return redirect(url_for("supervise.escalated"))
    if current_user.only_administers:
        return redirect(url_for("admin.index"))
    if engine.task_counts(actor)["all"]:
        return redirect(url_for("queue.queue"))
    if current_user.has_role("grid_member"):
        return redirect(url_for("report.form", process_id=report_process()))
    if current_user.has_role("admin"):
        return redirect(url_for("admin.index"))
    return redirect(url_for("queue.queue"))


def _day(name: str, end: bool = False) -> datetime | None:
    """A date filter in China time; an end date includes the whole day."""
    raw = request.args.get(name, "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), CHINA)


def _page() -> int:
    """The page number of the query string; anything that is not one is the first page."""
    raw = request.args.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and int(raw) > 0 else 1


def _filters() -> TaskQuery:
    """The filters of the query string: case fields, date ranges; shared by list and counts."""
    engine = current_engine()
    fields = {}
    for name in engine.config.case_filter_fields:
        value = request.args.get(name, "")
        if value:
            grid = name == engine.config.case_grid_field  # a town includes its villages
            fields[name] = engine.grid_and_below(value) if grid else [value]
    return TaskQuery(
        fields=fields,
        created_from=_day("created_from"),
        created_to=_day("created_to", end=True),
        due_from=_day("due_from"),
        due_to=_day("due_to", end=True),
    )


def _query_from_args() -> tuple[str, TaskQuery, int]:
    tab = request.args.get("tab", "all")
    page = _page()
    query = _filters()
    query.limit, query.offset = PAGE_SIZE, (page - 1) * PAGE_SIZE
    query.order = "created" if request.args.get("sort") == "age" else "due"
    if tab == "mine":
        query.mine_only = True
    elif tab == "unclaimed":
        query.unclaimed_only = True
    elif tab == "overdue":
        query.overdue = True
    elif tab.startswith("queue:"):
        query.queue = tab[6:]
    else:
        tab = "all"
    return tab, query, page


@queue_blueprint.get("/queue")
@login_required
def queue() -> ResponseReturnValue:
    engine, actor = current_engine(), current_actor()
    tab, query, page = _query_from_args()
    tasks = engine.tasks_for(actor, query)
    counts = engine.task_counts(actor, _filters())
    cases = engine.instance_summaries([t["instance_id"] for t in tasks])
    claimants = engine.display_names(t["assignee"] for t in tasks if t["assignee"])
    shape = ("tab", "page", "sort", "partial")  # how the list is shown, not what is in it
    filters = {k: v for k, v in request.args.items() if k not in shape and v}
    # The page refreshes its tabs and list in place: that part alone, same query.
    page_only: dict[str, Any]
    if request.args.get("partial") == "live":
        template, page_only = "queue/_live.html", {}
    else:
        template = "queue/queue.html"
        page_only = {
            "filter_fields": engine.filter_fields(actor),
            "views": engine.saved_views(actor),
            "colleagues": engine.display_names(engine.group_colleagues(actor)),
        }
    return render_template(
        template,
        tab=tab,
        tasks=tasks,
        counts=counts,
        cases=cases,
        summaries=summarise_all(cases),
        claimants=claimants,
        page=page,
        page_size=PAGE_SIZE,
        sort=request.args.get("sort", "due"),
        filters=filters,
        **page_only,
    )


@queue_blueprint.post("/queue/views")
@login_required
def save_view() -> ResponseReturnValue:
    """Save the current filters under a name, to come back to them in one click."""
    query = request.form.get("query", "")
    try:
        current_engine().save_view(current_actor(), request.form.get("name", ""), query)
    except FormInvalid as invalid:
        flash("; ".join(field_messages(invalid).values()), "error")
    else:
        flash(_("View saved."), "ok")
    return redirect(url_for("queue.queue") + ("?" + query if query else ""))


def _selected() -> list[str]:
    return [task_id for task_id in request.form.getlist("task") if task_id]


def _back_to_queue() -> ResponseReturnValue:
    return redirect(
        url_for("queue.queue") + ("?" + request.form["back"] if request.form.get("back") else "")
    )


@queue_blueprint.post("/queue/claim")
@login_required
def claim_selected() -> ResponseReturnValue:
    """Claim the selected tasks; those a colleague took first are named, the rest taken."""
    engine, actor = current_engine(), current_actor()
    taken, missed = 0, 0
    for task_id in _selected():
        try:
            engine.claim(task_id, actor)
            taken += 1
        except EngineError:
            missed += 1
    _report(taken, missed)
    return _back_to_queue()


@queue_blueprint.post("/queue/handover")
@login_required
def hand_over_selected() -> ResponseReturnValue:
    """转办 the selected tasks to one colleague, with one reason for the timeline."""
    engine, actor = current_engine(), current_actor()
    to = request.form.get("to", "")
    comment = request.form.get("comment") or None
    done, missed = 0, 0
    for task_id in _selected():
        try:
            engine.hand_over(task_id, actor, to, comment)
            done += 1
        except EngineError:
            missed += 1
    _report(done, missed)
    return _back_to_queue()


def _report(done: int, missed: int) -> None:
    if not done and not missed:
        flash(_("Select the tasks first."), "error")
        return
    if done:
        flash(ngettext("%(num)s task done.", "%(num)s tasks done.", done), "ok")
    if missed:
        flash(
            ngettext(
                "%(num)s task could not be taken: someone else has it, or it is done.",
                "%(num)s tasks could not be taken: someone else has them, or they are done.",
                missed,
            ),
            "error",
        )


@queue_blueprint.get("/queue/counts")
@login_required
def counts() -> ResponseReturnValue:
    """For the live tab counts: refreshed by a few lines of fetch, no full reload."""
    found = current_engine().task_counts(current_actor(), _filters())
    return jsonify(
        all=found["all"],
        mine=found["mine"],
        unclaimed=found["unclaimed"],
        overdue=found["overdue"],
        **{f"queue:{q['queue']}": q["count"] for q in found["by_queue"]},
    )
