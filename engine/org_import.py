"""Importing departments, grids and users from an XLSX workbook (sheets 部门/departments,
网格/grids, 用户/users) or a CSV file (one kind, told by its header row).

Every row is tried on its own (a savepoint each) with the same checks as the pages that edit
one (engine/org_edit.py): a row whose code exists updates it, else it is added. Rows that
refer to something the file adds later (a grid's parent, a grid's leader, a user's grids) are
tried again until nothing more goes in; what is left is rejected with its reason. A dry run
does all of it and rolls it back, so what it lists is exactly what the import would do.

Users are imported without a password: they sign in once an administrator sets one.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from typing import Any, TypedDict

from sqlalchemy.orm import Session

from . import org_edit
from .models import Department, Grid

MAX_MB = 5
MAX_BYTES = MAX_MB * 1024 * 1024
MAX_UNPACKED = 50 * 1024 * 1024  # an XLSX is a zip: its inflated size, before it is opened
MAX_ROWS = 10_000

SHEETS = {
    "departments": "departments",
    "部门": "departments",
    "grids": "grids",
    "网格": "grids",
    "users": "users",
    "用户": "users",
}
COLUMNS = {
    "编码": "code", "名称": "name", "上级网格": "parent", "层级": "level", "挂点领导": "leader",
    "用户名": "username", "姓名": "display_name", "角色": "roles", "部门": "department",
    "网格": "grids", "邮箱": "email",
}  # fmt: skip
KINDS = ("departments", "grids", "users")


def _refused(code: str, text: str, **params: Any) -> org_edit.OrgRefused:
    """The file as a whole cannot be imported."""
    return org_edit.OrgRefused("file", code, text, **params)


class ImportRow(TypedDict):
    sheet: str  # departments | grids | users
    row: int  # the row number in the file (the header is row 1)
    key: str  # the code or username
    action: str  # added | updated | rejected
    reason: str | None  # why rejected, in English (the CLI's words)
    field: str | None  # the column that was wrong
    code: str | None  # the reason as a code (org_edit.OrgRefused), for pages to phrase
    params: dict[str, Any]


class ImportReport(TypedDict):
    rows: list[ImportRow]
    added: int
    updated: int
    rejected: int
    applied: bool  # False for a dry run


def read_tables(filename: str, content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """kind -> [(row number, column -> text)]; OrgRefused for a file that cannot be read."""
    if len(content) > MAX_BYTES:
        raise _refused("org_file_too_large", f"larger than {MAX_MB} MB", limit=MAX_MB)
    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    if filename.lower().endswith(".csv"):
        return _read_csv(content)
    raise _refused("org_file_kind", "an .xlsx workbook or a .csv file is needed")


def _columns(header: list[Any]) -> list[str]:
    names = [str(h or "").strip() for h in header]
    return [COLUMNS.get(n, n.lower()) for n in names]


def _rows(rows: list[list[Any]]) -> list[tuple[int, dict[str, str]]]:
    if not rows:
        return []
    columns = _columns(rows[0])
    found = []
    for number, values in enumerate(rows[1:], start=2):
        record = {
            c: str(v).strip() for c, v in zip(columns, values, strict=False) if c and v is not None
        }
        if any(record.values()):
            found.append((number, record))
    if len(found) > MAX_ROWS:
        raise _refused("org_file_too_many_rows", f"more than {MAX_ROWS} rows", limit=MAX_ROWS)
    return found


def _read_xlsx(content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as packed:
            if sum(info.file_size for info in packed.infolist()) > MAX_UNPACKED:
                raise _refused(
                    "org_file_unpacks_too_large", "the workbook unpacks to more than 50 MB"
                )
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise _refused("org_file_unreadable", f"not a readable XLSX workbook ({exc})") from None
    tables: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for sheet in book.worksheets:
        kind = SHEETS.get(sheet.title.strip().lower()) or SHEETS.get(sheet.title.strip())
        if kind is None:
            continue
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                raise _refused(
                    "org_file_too_many_rows", f"more than {MAX_ROWS} rows", limit=MAX_ROWS
                )
        tables[kind] = _rows(rows)
    book.close()
    if not tables:
        raise _refused(
            "org_file_no_sheet", "no sheet named 部门/departments, 网格/grids or 用户/users"
        )
    return tables


def _read_csv(content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refused("org_file_not_utf8", "a CSV file must be UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise _refused("org_file_empty", "the CSV file is empty")
    columns = _columns(rows[0])
    kind = "users" if "username" in columns else "grids" if "parent" in columns else "departments"
    if "code" not in columns and kind != "users":
        raise _refused("org_file_no_code_column", "the header row needs a code (编码) column")
    return {kind: _rows(rows)}


def _names(text: str | None) -> list[str]:
    """'a、b，c; d' -> [a, b, c, d]: a list in one cell, as people write them."""
    joined = text or ""
    for sep in ("、", "，", ";", "；"):
        joined = joined.replace(sep, ",")
    return [part.strip() for part in joined.split(",") if part.strip()]


def _department(session: Session, row: dict[str, str]) -> str:
    code = row.get("code", "")
    if session.get(Department, code) is not None:
        org_edit.rename_department(session, code, row.get("name", ""))
        return "updated"
    org_edit.add_department(session, code, row.get("name", ""))
    return "added"


def _grid(session: Session, row: dict[str, str]) -> str:
    code, parent = row.get("code", ""), row.get("parent") or None
    level, leader = row.get("level") or None, row.get("leader") or None
    if session.get(Grid, code) is None:
        org_edit.add_grid(session, code, row.get("name", ""), parent, level, leader)
        return "added"
    org_edit.update_grid(session, code, row.get("name", ""), parent, level, leader)
    return "updated"


def _user(session: Session, row: dict[str, str]) -> str:
    return org_edit.save_user(
        session,
        row.get("username", ""),
        roles=_names(row.get("roles")),
        display_name=row.get("display_name") or None,
        department=row.get("department") or None,
        grids=_names(row.get("grids")),
        email=row.get("email") or None,
    )


IMPORTERS: dict[str, Callable[[Session, dict[str, str]], str]] = {
    "departments": _department,
    "grids": _grid,
    "users": _user,
}


def run(session: Session, tables: dict[str, list[tuple[int, dict[str, str]]]]) -> ImportReport:
    """Import every row that can go in (each in a savepoint), in rounds while rows go in."""
    pending = [(kind, number, row) for kind in KINDS for number, row in tables.get(kind, [])]
    done: dict[tuple[str, int], ImportRow] = {}
    last_error: dict[tuple[str, int], ValueError] = {}
    progress = True
    while pending and progress:
        progress, retry = False, []
        for kind, number, row in pending:
            try:
                with session.begin_nested():
                    action = IMPORTERS[kind](session, row)
            except ValueError as exc:
                last_error[(kind, number)] = exc
                retry.append((kind, number, row))
                continue
            key = row.get("username" if kind == "users" else "code", "")
            done[(kind, number)] = ImportRow(
                sheet=kind,
                row=number,
                key=key,
                action=action,
                reason=None,
                field=None,
                code=None,
                params={},
            )
            progress = True
        pending = retry
    for kind, number, row in pending:
        key = row.get("username" if kind == "users" else "code", "")
        error = last_error[(kind, number)]
        refused = error if isinstance(error, org_edit.OrgRefused) else None
        done[(kind, number)] = ImportRow(
            sheet=kind,
            row=number,
            key=key,
            action="rejected",
            reason=str(error),
            field=refused.field if refused else None,
            code=refused.reason.code if refused else None,
            params=dict(refused.reason.params) if refused else {},
        )
    rows = [done[key] for key in sorted(done, key=lambda k: (KINDS.index(k[0]), k[1]))]
    return ImportReport(
        rows=rows,
        added=sum(r["action"] == "added" for r in rows),
        updated=sum(r["action"] == "updated" for r in rows),
        rejected=sum(r["action"] == "rejected" for r in rows),
        applied=False,
    )
