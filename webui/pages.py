"""The pages for people: work queue, task forms, reports, case detail, inbox."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine import Conflict, EngineError, Forbidden, FormInvalid, NotFound
from engine.calendar import CHINA
from engine.tasks import TaskQuery

from .form_errors import field_messages
from .photos import save_photos
from .process_texts import localized_bpmn, localized_fields, pt
from .schema_form import parse_submission

pages_blueprint = Blueprint("pages", __name__)
PAGE_SIZE = 25
TABS = ("all", "mine", "unclaimed", "overdue")


def engine():  # noqa: ANN201
    return current_app.extensions["hazardflow.engine"]


def actor():  # noqa: ANN201
    return current_user.actor


@pages_blueprint.app_context_processor
def layout_values() -> dict[str, Any]:
    if not getattr(current_user, "is_authenticated", False):
        return {}
    return {"unread": engine().notifications(actor(), unread_only=True, limit=1)["unread"]}


@pages_blueprint.get("/")
@login_required
def home():  # noqa: ANN201
    if current_user.has_role("grid_member") and not engine().task_counts(actor())["all"]:
        return redirect(url_for("pages.report", process_id=_report_process()))
    return redirect(url_for("pages.queue"))


def _report_process() -> str:
    """The process people report with: config `public_report_process`, else the first one
    deployed. The pages name no process themselves."""
    ids = [p["process_id"] for p in engine().processes()]
    configured = engine().config.public_report_process
    return configured if configured in ids or not ids else ids[0]


@pages_blueprint.get("/report")
@login_required
def report_default():  # noqa: ANN201
    return redirect(url_for("pages.report", process_id=_report_process()))


# --- queue ---------------------------------------------------------------------------------


def _day(name: str, end: bool = False) -> datetime | None:
    """A date filter in China time; an end date includes the whole day."""
    raw = request.args.get(name, "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), CHINA)


def _filters() -> TaskQuery:
    """The filters of the query string: case fields, date ranges; shared by list and counts."""
    fields = {}
    for name in engine().config.case_filter_fields:
        value = request.args.get(name, "")
        if value:
            fields[name] = engine().grid_and_below(value) if name == "grid" else [value]
    return TaskQuery(
        fields=fields,
        created_from=_day("created_from"),
        created_to=_day("created_to", end=True),
        due_from=_day("due_from"),
        due_to=_day("due_to", end=True),
    )


def _query_from_args() -> tuple[str, TaskQuery, int]:
    tab = request.args.get("tab", "all")
    page = max(int(request.args.get("page", "1") or 1), 1)
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


@pages_blueprint.get("/queue")
@login_required
def queue():  # noqa: ANN201
    tab, query, page = _query_from_args()
    tasks = engine().tasks_for(actor(), query)
    counts = engine().task_counts(actor(), _filters())
    cases = engine().instance_summaries([t["instance_id"] for t in tasks])
    shape = ("tab", "page", "sort", "partial")  # how the list is shown, not what is in it
    filters = {k: v for k, v in request.args.items() if k not in shape and v}
    # The page refreshes its tabs and list in place: that part alone, same query.
    if request.args.get("partial") == "live":
        template, page_only = "_queue_live.html", {}
    else:
        template = "queue.html"
        page_only = {
            "filter_fields": engine().filter_fields(),
            "views": engine().saved_views(actor()),
        }
    return render_template(
        template,
        tab=tab,
        tasks=tasks,
        counts=counts,
        cases=cases,
        page=page,
        page_size=PAGE_SIZE,
        sort=request.args.get("sort", "due"),
        filters=filters,
        **page_only,
    )


@pages_blueprint.post("/queue/views")
@login_required
def save_view():  # noqa: ANN201
    """Save the current filters under a name, to come back to them in one click."""
    query = request.form.get("query", "")
    try:
        engine().save_view(actor(), request.form.get("name", ""), query)
    except FormInvalid as invalid:
        flash("; ".join(field_messages(invalid).values()), "error")
    else:
        flash(_("View saved."), "ok")
    return redirect(url_for("pages.queue") + ("?" + query if query else ""))


@pages_blueprint.get("/queue/counts")
@login_required
def queue_counts():  # noqa: ANN201
    """For the live tab counts: refreshed by a few lines of fetch, no full reload."""
    counts = engine().task_counts(actor(), _filters())
    return jsonify(
        all=counts["all"],
        mine=counts["mine"],
        unclaimed=counts["unclaimed"],
        overdue=counts["overdue"],
        **{f"queue:{q['queue']}": q["count"] for q in counts["by_queue"]},
    )


@pages_blueprint.get("/supervision")
@login_required
def supervision():  # noqa: ANN201
    """The leader's view: what was escalated to me, by grid level and age (督办, 批示)."""
    tasks = engine().escalated_to(actor())
    cases = engine().instance_summaries([t["instance_id"] for t in tasks])
    return render_template("supervision.html", tasks=tasks, cases=cases)


# --- tasks -----------------------------------------------------------------------------------


def _task_or_403(task_id: str) -> dict[str, Any]:
    try:
        return engine().task(task_id, actor())
    except Forbidden:
        abort(403)
    except (NotFound, Conflict):
        abort(404)


@pages_blueprint.get("/tasks/<task_id>")
@login_required
def task_page(task_id: str):  # noqa: ANN201
    task = _task_or_403(task_id)
    fields = localized_fields(task["form"], task["data"])
    return _render_task(task, fields)


def _render_task(task: dict[str, Any], fields: list, comment: str = "", status: int = 200):  # noqa: ANN202
    case = engine().instance(task["instance_id"])
    colleagues = engine().display_names(engine().colleagues(task["id"], actor()))
    case_fields = localized_fields(engine().case_schema(task["instance_id"]), {})
    return render_template(
        "task.html",
        task=task,
        fields=fields,
        case=case,
        comment=comment,
        colleagues=colleagues,
        field_index={f.name: f for f in case_fields},
        description=pt((task["form"] or {}).get("description")),
    ), status


@pages_blueprint.post("/tasks/<task_id>")
@login_required
def task_submit(task_id: str):  # noqa: ANN201
    task = _task_or_403(task_id)
    action = request.form.get("action", "complete")
    try:
        if action == "claim":
            engine().claim(task_id, actor())
            flash(_("You took the task."), "ok")
            return redirect(url_for("pages.task_page", task_id=task_id))
        if action == "release":
            engine().release(task_id, actor())
            flash(_("The task is back in the group queue."), "ok")
            return redirect(url_for("pages.queue"))
        if action == "handover":
            to = request.form.get("to", "")
            engine().hand_over(task_id, actor(), to, request.form.get("comment") or None)
            flash(_("Handed over to %(name)s.", name=to), "ok")
            return redirect(url_for("pages.queue"))
        if action == "draft":
            data = parse_submission(task["form"], request.form, store_uploads(task["form"]))
            engine().save_draft(task_id, actor(), data)
            flash(_("Draft saved: pick it up here later."), "ok")
            return redirect(url_for("pages.task_page", task_id=task_id))
    except FormInvalid as invalid:
        flash("; ".join(field_messages(invalid).values()), "error")
        return redirect(url_for("pages.task_page", task_id=task_id))
    except EngineError as exc:
        flash(str(exc), "error")
        return redirect(url_for("pages.task_page", task_id=task_id))
    comment = (request.form.get("comment") or "").strip()
    data = parse_submission(task["form"], request.form)
    try:
        data = parse_submission(task["form"], request.form, store_uploads(task["form"]))
        engine().complete(task_id, actor(), data, comment or None)
    except FormInvalid as invalid:
        shown = {**task["data"], **data}
        fields = localized_fields(task["form"], shown, field_messages(invalid))
        flash(_("The form has errors: see the marked fields."), "error")
        return _render_task(task, fields, comment, 422)
    except Conflict:
        flash(_("Someone else completed this task first."), "error")
        return redirect(url_for("pages.queue"))
    except EngineError as exc:
        flash(str(exc), "error")
        return _render_task(
            task, localized_fields(task["form"], {**task["data"], **data}), comment, 422
        )
    engine().attach_photos(data, task["instance_id"], actor())
    flash(_("Done: %(title)s.", title=pt(task["title"])), "ok")
    return redirect(url_for("pages.queue"))


# --- reports (start forms) -------------------------------------------------------------------


@pages_blueprint.route("/report/<process_id>", methods=["GET", "POST"])
@login_required
def report(process_id: str):  # noqa: ANN201
    process = next((p for p in engine().processes() if p["process_id"] == process_id), None)
    if process is None:
        abort(404)
    schema = process["start_form"]
    values: dict[str, Any] = {}
    if actor().grids:
        values["grid"] = actor().grids[0]
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        data = parse_submission(schema, request.form)
        try:
            data = parse_submission(schema, request.form, store_uploads(schema))
            case = engine().start(process_id, data, actor())
        except FormInvalid as invalid:
            values, errors, status = {**values, **data}, field_messages(invalid), 422
            flash(_("The form has errors: see the marked fields."), "error")
        else:
            engine().attach_photos(data, case, actor())
            flash(_("Reported. Your case number is %(case)s.", case=case), "ok")
            return redirect(url_for("pages.case_page", instance_id=case))
    fields = localized_fields(schema, values, errors)
    return render_template(
        "report.html", heading=pt(process["name"]), fields=fields, uploads=True
    ), status


@pages_blueprint.get("/my-reports")
@login_required
def my_reports():  # noqa: ANN201
    cases = engine().instances(created_by=actor().username, limit=100)
    return render_template("my_reports.html", cases=cases)


# --- cases -----------------------------------------------------------------------------------


def _may_view_or_abort(instance_id: int) -> None:
    try:
        allowed = engine().can_view(actor(), instance_id)
    except NotFound:
        abort(404)
    if not allowed:
        abort(403)


@pages_blueprint.get("/cases/<int:instance_id>")
@login_required
def case_page(instance_id: int):  # noqa: ANN201
    _may_view_or_abort(instance_id)
    case = engine().instance(instance_id)
    fields = localized_fields(engine().case_schema(instance_id), case["data"])
    shown = [f for f in fields if f.value not in (None, "", [], {})]
    by_name = {f.name: f for f in fields}
    return render_template("case.html", case=case, fields=shown, field_index=by_name)


@pages_blueprint.get("/cases/<int:instance_id>/diagram.json")
@login_required
def case_diagram(instance_id: int):  # noqa: ANN201
    _may_view_or_abort(instance_id)
    diagram = engine().diagram(instance_id)
    return jsonify({**diagram, "xml": localized_bpmn(diagram["xml"])})


# --- inbox -----------------------------------------------------------------------------------


@pages_blueprint.get("/inbox")
@login_required
def inbox():  # noqa: ANN201
    return render_template("inbox.html", inbox=engine().notifications(actor(), limit=100))


@pages_blueprint.post("/inbox/read")
@login_required
def inbox_read():  # noqa: ANN201
    ids = [int(i) for i in request.form.getlist("id") if i.isdigit()] or None
    engine().mark_read(actor(), ids)
    return redirect(url_for("pages.inbox"))


def store_uploads(schema: dict[str, Any] | None) -> dict[str, list[str]]:
    """Photos uploaded with the form, stored by content hash: field name -> photo ids."""
    return save_photos(schema, request.files)
