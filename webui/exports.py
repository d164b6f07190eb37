"""Tables as files for meetings: XLSX (openpyxl, write-only) and CSV (UTF-8 with a BOM, so
that Excel reads the Chinese), each starting with header lines that say what the table is of
(its title, period, filters), then the column titles, then the rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Response

Cell = str | int | float | None
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Sheet:
    """One table: a sheet of a workbook, or the whole of a CSV file."""

    title: str  # the sheet's name (at most 31 characters in XLSX)
    header: list[tuple[str, str]]  # (what, value) lines above the table: period, filters
    columns: Sequence[str]
    rows: Iterable[Sequence[Cell]] = field(default_factory=list)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(cell: Cell) -> Cell:
    """Text that a spreadsheet would run as a formula (a unit named "=HYPERLINK(...)") is
    written as text."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def xlsx(sheets: Sequence[Sheet], filename: str) -> Response:
    from openpyxl import Workbook  # only exports need it loaded

    book = Workbook(write_only=True)
    for sheet in sheets:
        out = book.create_sheet(sheet.title[:31])
        for what, value in sheet.header:
            out.append([_safe(what), _safe(value)])
        out.append([])
        out.append([_safe(c) for c in sheet.columns])
        for row in sheet.rows:
            out.append([_safe(cell) for cell in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        mimetype=XLSX,
        headers={"Content-Disposition": _disposition(filename)},
    )


def csv_file(sheet: Sheet, filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for what, value in sheet.header:
        writer.writerow([_safe(what), _safe(value)])
    writer.writerow([])
    writer.writerow([_safe(c) for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(["" if cell is None else _safe(cell) for cell in row])
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": _disposition(filename)},
    )
