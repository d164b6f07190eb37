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

from sqlalchemy import delete
from sqlalchemy.orm import Session

from . import org_edit
from .models import Department, Grid, User, UserGrid, UserRole
from .org import add_user

MAX_BYTES = 5 * 1024 * 1024
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


class ImportRow(TypedDict):
    sheet: str  # departments | grids | users
    row: int  # the row number in the file (the header is row 1)
    key: str  # the code or username
    action: str  # added | updated | rejected
    reason: str | None


class ImportReport(TypedDict):
    rows: list[ImportRow]
    added: int
    updated: int
    rejected: int
    applied: bool  # False for a dry run


def read_tables(filename: str, content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    """kind -> [(row number, column -> text)]; ValueError for a file that cannot be read."""
    if len(content) > MAX_BYTES:
        raise ValueError(f"file: larger than {MAX_BYTES // (1024 * 1024)} MB")
    if filename.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    if filename.lower().endswith(".csv"):
        return _read_csv(content)
    raise ValueError("file: an .xlsx workbook or a .csv file is needed")


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
        raise ValueError(f"file: more than {MAX_ROWS} rows")
    return found


def _read_xlsx(content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as packed:
            if sum(info.file_size for info in packed.infolist()) > MAX_UNPACKED:
                raise ValueError("file: the workbook unpacks to more than 50 MB")
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValueError(f"file: not a readable XLSX workbook ({exc})") from None
    tables: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for sheet in book.worksheets:
        kind = SHEETS.get(sheet.title.strip().lower()) or SHEETS.get(sheet.title.strip())
        if kind is None:
            continue
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + 1:
                raise ValueError(f"file: more than {MAX_ROWS} rows")
        tables[kind] = _rows(rows)
    book.close()
    if not tables:
        raise ValueError("file: no sheet named 部门/departments, 网格/grids or 用户/users")
    return tables


def _read_csv(content: bytes) -> dict[str, list[tuple[int, dict[str, str]]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("file: a CSV file must be UTF-8") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValueError("file: the CSV file is empty")
    columns = _columns(rows[0])
    kind = "users" if "username" in columns else "grids" if "parent" in columns else "departments"
    if "code" not in columns and kind != "users":
        raise ValueError("file: the header row needs a code (编码) column")
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
    org_edit.rename_grid(session, code, row.get("name", ""))
    org_edit.move_grid(session, code, parent)
    org_edit.set_level(session, code, level)
    org_edit.set_leader(session, code, leader)
    return "updated"


def _user(session: Session, row: dict[str, str]) -> str:
    username = row.get("username", "")
    org_edit.check_code("username", username)
    roles = _names(row.get("roles"))
    if not roles:
        raise ValueError("roles: at least one role is needed (e.g. grid_member, department)")
    grids = _names(row.get("grids"))
    user = session.get(User, username)
    if user is None:
        add_user(
            session,
            username,
            roles=roles,
            display_name=row.get("display_name") or None,
            department=row.get("department") or None,
            grids=grids,
            email=row.get("email") or None,
        )
        return "added"
    department = row.get("department") or None
    if department and session.get(Department, department) is None:
        raise ValueError(f"department: unknown department '{department}'")
    for code in grids:
        if session.get(Grid, code) is None:
            raise ValueError(f"grids: unknown grid '{code}'")
    user.display_name = row.get("display_name") or user.display_name
    user.department = department
    user.email = row.get("email") or None
    session.execute(delete(UserRole).where(UserRole.username == username))
    session.execute(delete(UserGrid).where(UserGrid.username == username))
    session.add_all(UserRole(username=username, role=r) for r in dict.fromkeys(roles))
    session.add_all(UserGrid(username=username, grid_code=g) for g in dict.fromkeys(grids))
    session.flush()
    return "updated"


IMPORTERS: dict[str, Callable[[Session, dict[str, str]], str]] = {
    "departments": _department,
    "grids": _grid,
    "users": _user,
}


def run(session: Session, tables: dict[str, list[tuple[int, dict[str, str]]]]) -> ImportReport:
    """Import every row that can go in (each in a savepoint), in rounds while rows go in."""
    pending = [(kind, number, row) for kind in KINDS for number, row in tables.get(kind, [])]
    done: dict[tuple[str, int], ImportRow] = {}
    last_error: dict[tuple[str, int], str] = {}
    progress = True
    while pending and progress:
        progress, retry = False, []
        for kind, number, row in pending:
            try:
                with session.begin_nested():
                    action = IMPORTERS[kind](session, row)
            except ValueError as exc:
                last_error[(kind, number)] = str(exc)
                retry.append((kind, number, row))
                continue
            key = row.get("username" if kind == "users" else "code", "")
            done[(kind, number)] = ImportRow(
                sheet=kind, row=number, key=key, action=action, reason=None
            )
            progress = True
        pending = retry
    for kind, number, row in pending:
        key = row.get("username" if kind == "users" else "code", "")
        done[(kind, number)] = ImportRow(
            sheet=kind, row=number, key=key, action="rejected", reason=last_error[(kind, number)]
        )
    rows = [done[key] for key in sorted(done, key=lambda k: (KINDS.index(k[0]), k[1]))]
    return ImportReport(
        rows=rows,
        added=sum(r["action"] == "added" for r in rows),
        updated=sum(r["action"] == "updated" for r in rows),
        rejected=sum(r["action"] == "rejected" for r in rows),
        applied=False,
    )
