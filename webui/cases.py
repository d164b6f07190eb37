"""Cases (everyone who may see a case): the case list with search, filters, sort and
paging; the header's case-number box; a case's page: its data, photos, timeline, pending
deadlines and the BPMN diagram with where it stands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from engine import CHINA, CaseQuery, FilterField, Forbidden, NotFound, StatFilter, TaskQuery

from .case_filters import LIST_STATUSES, PAGE_SIZES, SORTS, bounded_page, case_query
from .context import current_actor, current_engine
from .errors import explain, keep_way_on
from .exports import Sheet, csv_file, xlsx
from .process_texts import localized_fields, process_text, reader_language
from .stats import case_stat_args
from .stats_figures import FIGURES

cases_blueprint = Blueprint("cases", __name__, url_prefix="/cases")
PAGE_SIZE = 25
# how the list is shown, not which cases are in it: left out of the links that change it
SHAPE = ("page", "sort", "per_page", "status")


@cases_blueprint.app_context_processor
def case_number_hint() -> dict[str, Any]:
    """An example number for the header's box: this year's, with the configured prefix."""
    if not getattr(current_user, "is_authenticated", False):
        return {}
    year = datetime.now(CHINA).year
    return {"case_number_hint": f"{current_engine().config.case_number_prefix}-{year}-000123"}


def _may_view_or_abort(instance_id: int) -> None:
    try:
        allowed = current_engine().can_view(current_actor(), instance_id)
    except NotFound:
        abort(404)
    if not allowed:
        abort(403)


@cases_blueprint.get("")
@login_required
def index() -> ResponseReturnValue:
    """The cases the reader may see: open, closed or all, searched, filtered, sorted, paged.
    Without a search the open ones; a search looks at every status unless one is chosen."""
    engine, args = current_engine(), request.args
    q = args.get("q", "").strip()
    status = args.get("status", "")
    if status not in LIST_STATUSES:
        status = "all" if q else "open"
    sort = args.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    per_page = int(args["per_page"]) if args.get("per_page", "").isdigit() else PAGE_SIZE
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZE
    page = bounded_page(args.get("page"))
    query = _list_query(status, q, sort, per_page, (page - 1) * per_page)
    found = engine.cases(current_actor(), query)
    filter_fields = engine.filter_fields(current_actor())
    # what the list is of: kept by every link that changes only how it is shown
    filters = {k: v for k, v in args.items() if k not in SHAPE and v}
    last_page = max(1, -(-found["total"] // per_page))
    return render_template(
        "cases/list.html",
        found=found,
        cases=found["items"],
        q=q,
        status=status,
        sort=sort,
        per_page=per_page,
        page_sizes=PAGE_SIZES,
        page=found["offset"] // per_page + 1,
        last_page=last_page,
        filters=filters,
        filter_fields=filter_fields,
        labels=_labels(filter_fields),
        stat=_stat_caption(query.stat),
    )


def _list_query(status: str, q: str, sort: str, limit: int, offset: int) -> CaseQuery:
    """The list's query from the request: filters, dates, search and, from the 考核 page,
    the cases behind one of its figures (`stat`, `by`, `key`, `from`, `to`)."""
    engine, args = current_engine(), request.args
    query = case_query(
        fields={name: [args.get(name, "")] for name in engine.config.case_filter_fields},
        status=status,
        q=q,
        created_from=args.get("created_from"),
        created_to=args.get("created_to"),
        sort=sort,
        limit=limit,
        offset=offset,
        overdue=args.get("overdue") == "1",
    )
    asked = case_stat_args(args)
    scope = engine.stats_scope(current_actor()) if asked else None
    if asked and scope is not None:
        query.stat = StatFilter(scope=scope, now=engine.now(), **asked)
    return query


def _stat_caption(stat: StatFilter | None) -> str | None:
    """What the list is of, when a figure of the 考核 page opened it."""
    if stat is None:
        return None
    who = stat.key or _("all")
    if stat.key and stat.by == "department":
        who = {d["code"]: d["name"] for d in current_engine().departments()}.get(stat.key, who)
    elif stat.key:
        who = {g["code"]: g["name"] for g in current_engine().grids()}.get(stat.key, who)
    period = f"{stat.period.start.isoformat()} – {stat.period.end.isoformat()}"
    return f"{FIGURES[stat.figure][0]} · {who} · {period}"


EXPORT_LIMIT = 50_000  # rows of one export; more is a narrower filter's job
EXPORT_BATCH = 500


@cases_blueprint.get("/export.<any(xlsx, csv):kind>")
@login_required
def export(kind: str) -> ResponseReturnValue:
    """The case list as it is filtered (every page), its filters in the header lines."""
    engine, args = current_engine(), request.args
    q = args.get("q", "").strip()
    status = args.get("status", "")
    status = status if status in LIST_STATUSES else ("all" if q else "open")
    sort = args.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    query = _list_query(status, q, sort, EXPORT_BATCH, 0)
    filter_fields = engine.filter_fields(current_actor())
    labels = _labels(filter_fields)
    summary_names = [f["name"] for f in filter_fields]
    items: list[Any] = []
    total = 0
    while len(items) < EXPORT_LIMIT:
        found = engine.cases(current_actor(), query)
        total = found["total"]
        items += found["items"]
        if query.offset + EXPORT_BATCH >= total:
            break
        query.offset += EXPORT_BATCH
    header = [(_("Status"), status)]
    header += [(k, v) for k, v in args.items() if v and k not in ("page", "per_page")]
    if query.stat is not None:
        header.append((_("Figure"), _stat_caption(query.stat) or ""))
    header.append((_("Cases"), str(total)))
    if total > len(items):
        header.append((_("Note"), _("only the first %(n)d rows", n=len(items))))
    columns = [_("Case number"), _("Reported at"), _("Status"), _("Stage")]
    columns += [f["title"] for f in filter_fields]
    columns += [_("Unit"), _("Description")]

    def row(item: Any) -> list[Any]:
        summary = item["summary"]
        values = [
            labels.get(name, {}).get(str(summary.get(name)), summary.get(name))
            for name in summary_names
        ]
        return [
            item["number"],
            item["created_at"],
            item["status"],
            "、".join(item.get("stage") or []),
            *values,
            summary.get("unit"),
            summary.get("description"),
        ]

    sheet = Sheet(_("Cases"), header, columns, [row(item) for item in items])
    name = f"cases-{engine.now().strftime('%Y%m%d-%H%M')}"
    return xlsx([sheet], name + ".xlsx") if kind == "xlsx" else csv_file(sheet, name + ".csv")


def _labels(filter_fields: list[FilterField]) -> dict[str, dict[str, str]]:
    """The titles of the summary values a card shows (a grid by its name alone)."""
    labels = {f["name"]: {str(v): t for v, t in f["options"]} for f in filter_fields}
    grid_field = current_engine().config.case_grid_field
    labels[grid_field] = {g["code"]: g["name"] for g in current_engine().grids()}
    return labels


@cases_blueprint.get("/go")
@login_required
def go() -> ResponseReturnValue:
    """The header's box: a case number (or id) opens that case; any other text is a search
    of the list; a number that names no case the reader may see is the 404 page."""
    typed = request.args.get("number", "").strip()
    if not typed:
        return redirect(url_for("cases.index"))
    try:
        found = current_engine().find_case(current_actor(), typed)
    except NotFound:
        explain(_("There is no case %(number)s that you may see.", number=typed))
        keep_way_on(_("Search the cases"), url_for("cases.index", q=typed))
        abort(404)
    if found is None:
        return redirect(url_for("cases.index", q=typed))
    return redirect(url_for("cases.case", instance_id=found))


@cases_blueprint.get("/<int:instance_id>")
@login_required
def case(instance_id: int) -> ResponseReturnValue:
    _may_view_or_abort(instance_id)
    engine, actor = current_engine(), current_actor()
    found = engine.instance(instance_id)
    data = found["data"]
    sections = []
    for section in engine.case_sections(instance_id):
        fields = localized_fields(section["schema"], data, readonly=True)
        shown = [f for f in fields if f.value not in (None, "", [], {})]
        if shown:
            sections.append((process_text(section["title"]), shown))
    by_name = {f.name: f for f in localized_fields(engine.case_schema(instance_id), {})}
    parts = data.get(engine.config.case_parts_field)
    if not (isinstance(parts, list) and len(parts) > 1):
        parts = []  # one department: nothing to add to what the case page shows
    department_names = {d["code"]: d["name"] for d in engine.departments()}
    # Only the open tasks this reader may work are links: the others would answer 403.
    mine = engine.tasks_for(actor, TaskQuery(instance_id=instance_id, limit=100))
    return render_template(
        "cases/case.html",
        case=found,
        sections=sections,
        field_index=by_name,
        parts=[p for p in parts if isinstance(p, dict)],
        department_names=department_names,
        holders=engine.task_holders(instance_id),
        workable={t["id"] for t in mine},
        may_urge=engine.sees_all_cases(actor),
        names=engine.display_names(t["assignee"] for t in found["open_tasks"] if t["assignee"]),
    )


@cases_blueprint.post("/<int:instance_id>/tasks/<task_id>/urge")
@login_required
def urge(instance_id: int, task_id: str) -> ResponseReturnValue:
    """催办: remind who works an open task of the case; on its timeline, in their inbox."""
    _may_view_or_abort(instance_id)
    try:
        told = current_engine().urge(task_id, current_actor(), request.form.get("comment") or None)
    except Forbidden:
        abort(403)
    except NotFound:
        abort(404)
    flash(
        ngettext("Urged: %(num)s person was told.", "Urged: %(num)s people were told.", told), "ok"
    )
    return redirect(url_for("cases.case", instance_id=instance_id))


@cases_blueprint.get("/<int:instance_id>/diagram.json")
@login_required
def diagram(instance_id: int) -> ResponseReturnValue:
    _may_view_or_abort(instance_id)
    return jsonify(current_engine().diagram(instance_id, reader_language()))
