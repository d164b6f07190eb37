"""The administrators' organisation pages: departments, the grid tree (add, rename, move, set
the level and the supervising leader) and importing all three from an XLSX or CSV file, tried
first (every row it would reject, with why) and kept only when confirmed. Under the admin
blueprint, so its role check holds."""

from __future__ import annotations

import io
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine import LEVELS, GridRecord, OrgRefused, UserRecord

from .admin import admin_blueprint
from .context import current_actor, current_engine
from .form_errors import field_message
from .roles import grid_rows

IMPORT_KEY = "org_import"  # the session's pending import: its file's token and name
IMPORT_KEEP_SECONDS = 24 * 3600  # a tried import not confirmed by then is forgotten
TEMPLATE_SHEETS = {
    "部门": ["编码", "名称"],
    "网格": ["编码", "名称", "上级网格", "层级", "挂点领导"],
    "用户": ["用户名", "姓名", "角色", "部门", "网格", "邮箱"],
}
TEMPLATE_NOTES = [
    ["部门", "编码", "字母、数字、- _ .，如 sjj；已有的编码则更新其名称"],
    ["网格", "上级网格", "上级网格的编码，顶层留空；可引用本文件后面的行"],
    ["网格", "层级", "、".join(LEVELS)],
    ["网格", "挂点领导", "有 leader 角色的用户名"],
    ["用户", "角色", "grid_member、dispatcher、department、leader、admin，多个用顿号或逗号分隔"],
    ["用户", "部门", "department 角色的用户所在部门的编码"],
    ["用户", "网格", "网格员所在网格的编码，多个用顿号分隔"],
    ["用户", "（密码）", "导入的用户没有密码：由管理员在用户页面设置"],
]


def refused_messages(refused: OrgRefused) -> dict[str, str]:
    """The field the engine refused -> why, in the reader's language."""
    return {refused.field: field_message(refused.reason)}


def _leaders() -> list[UserRecord]:
    return [u for u in current_engine().users() if "leader" in u["roles"] and u["active"]]


def org_page(errors: dict[str, str] | None = None, form: str | None = None) -> str:
    engine = current_engine()
    return render_template(
        "admin/organisation.html",
        departments=engine.departments(),
        rows=grid_rows(engine.grids()),
        leaders=_leaders(),
        levels=LEVELS,
        errors=errors or {},
        form=form,  # which form the errors belong to
        values=request.form,
    )


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _change(change: str, *args: Any, form: str, done: str) -> ResponseReturnValue:
    """One organisation change from a form: done → back to the page with `done` flashed;
    refused → the page again with the field marked and what was typed kept."""
    try:
        current_engine().change_organisation(change, *args, by=current_actor().username)
    except OrgRefused as refused:
        return org_page(refused_messages(refused), form), 422
    flash(done, "ok")
    return redirect(url_for("admin.organisation") + "#" + form.split(":")[0])


@admin_blueprint.get("/organisation")
def organisation() -> ResponseReturnValue:
    return org_page()


@admin_blueprint.post("/organisation/departments")
def add_department() -> ResponseReturnValue:
    code, name = _text("code"), _text("name")
    done = _("Department %(name)s is added.", name=name)
    return _change("add_department", code, name, form="departments", done=done)


@admin_blueprint.post("/organisation/departments/<code>")
def rename_department(code: str) -> ResponseReturnValue:
    name = _text("name")
    done = _("Department %(code)s is now called %(name)s.", code=code, name=name)
    return _change("rename_department", code, name, form=f"departments:{code}", done=done)


@admin_blueprint.post("/organisation/grids")
def add_grid() -> ResponseReturnValue:
    code, name = _text("code"), _text("name")
    args = (code, name, _text("parent") or None, _text("level") or None, _text("leader") or None)
    return _change("add_grid", *args, form="grids", done=_("Grid %(name)s is added.", name=name))


@admin_blueprint.get("/organisation/grids/<code>")
def grid(code: str) -> ResponseReturnValue:
    return grid_page(code, {})


def grid_page(code: str, errors: dict[str, str], edited: bool = False) -> str:
    """The grid's page; `edited`: the grid form was sent (show what was typed)."""
    rows = grid_rows(current_engine().grids())
    found = next((g for g, _depth in rows if g["code"] == code), None)
    if found is None:
        abort(404)
    below = _below(rows, code)
    return render_template(
        "admin/grid.html",
        grid=found,
        rows=[(g, d) for g, d in rows if g["code"] not in below],  # where it may move to
        leaders=_leaders(),
        levels=LEVELS,
        errors=errors,
        values=request.form if edited else None,
        shape=current_engine().grid_shape(code),
    )


def _below(rows: list[tuple[GridRecord, int]], code: str) -> set[str]:
    """The grid and every grid below it (in `rows`, depth first)."""
    found: set[str] = set()
    depth_at = None
    for grid, depth in rows:
        if depth_at is not None and depth <= depth_at:
            break
        if grid["code"] == code:
            depth_at = depth
        if depth_at is not None:
            found.add(grid["code"])
    return found


@admin_blueprint.post("/organisation/grids/<code>")
def update_grid(code: str) -> ResponseReturnValue:
    name = _text("name")
    args = (code, name, _text("parent") or None, _text("level") or None, _text("leader") or None)
    try:
        current_engine().change_organisation("update_grid", *args, by=current_actor().username)
    except OrgRefused as refused:
        return grid_page(code, refused_messages(refused), edited=True), 422
    flash(_("Grid %(name)s is saved.", name=name), "ok")
    return redirect(url_for("admin.organisation") + "#grids")


# --- import: tried first, kept only when confirmed -------------------------------------------


def _imports_dir() -> Path:
    folder = Path(current_engine().config.data_dir) / "org-imports"
    folder.mkdir(parents=True, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():  # tried and never confirmed
        if now - old.stat().st_mtime > IMPORT_KEEP_SECONDS:
            old.unlink(missing_ok=True)
    return folder


def _import_page(report: Any = None, errors: dict[str, str] | None = None) -> str:
    return render_template(
        "admin/org_import.html",
        report=report,
        errors=errors or {},
        pending=session.get(IMPORT_KEY),
        row_message=_row_message,
    )


def _row_message(row: dict[str, Any]) -> str:
    if row["code"] is None:
        return str(row["reason"] or "")
    return field_message(OrgRefused(row["field"], row["code"], "", **row["params"]).reason)


@admin_blueprint.get("/organisation/import")
def org_import() -> ResponseReturnValue:
    return _import_page()


@admin_blueprint.post("/organisation/import")
def try_import() -> ResponseReturnValue:
    """Import the file in a dry run: every row as it would go, nothing kept. The file waits
    (for this session only) for the administrator to confirm."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _import_page(errors={"file": _("Choose an XLSX or CSV file.")}), 422
    content = upload.read()
    try:
        report = current_engine().import_organisation(upload.filename, content)
    except OrgRefused as refused:
        return _import_page(errors=refused_messages(refused)), 422
    token = secrets.token_hex(16)
    (_imports_dir() / token).write_bytes(content)
    session[IMPORT_KEY] = {"token": token, "filename": upload.filename}
    return _import_page(report)


@admin_blueprint.post("/organisation/import/confirm")
def confirm_import() -> ResponseReturnValue:
    pending = session.get(IMPORT_KEY)
    path = _imports_dir() / str((pending or {}).get("token", "-"))
    if not pending or not path.is_file():
        session.pop(IMPORT_KEY, None)
        flash(_("There is no tried import to confirm: choose the file again."), "error")
        return redirect(url_for("admin.org_import"))
    try:
        report = current_engine().import_organisation(
            pending["filename"], path.read_bytes(), confirm=True
        )
    except OrgRefused as refused:
        return _import_page(errors=refused_messages(refused)), 422
    finally:
        path.unlink(missing_ok=True)
        session.pop(IMPORT_KEY, None)
    flash(
        _(
            "Imported: %(added)s added, %(updated)s updated, %(rejected)s rejected.",
            added=report["added"],
            updated=report["updated"],
            rejected=report["rejected"],
        ),
        "ok",
    )
    return _import_page(report)


@admin_blueprint.get("/organisation/import/template.xlsx")
def import_template() -> ResponseReturnValue:
    """A workbook with the three sheets and their headers, and one example row each."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, header in TEMPLATE_SHEETS.items():
        book.create_sheet(title).append(header)
    notes = book.create_sheet("说明")  # not a sheet the import reads
    notes.append(["工作表", "列", "填写说明"])
    for row in TEMPLATE_NOTES:
        notes.append(row)
    data = io.BytesIO()
    book.save(data)
    headers = {"Content-Disposition": 'attachment; filename="organisation-template.xlsx"'}
    mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(data.getvalue(), mimetype=mimetype, headers=headers)
