"""Outlines for the demo grids, made by code: the top grids share a rectangle around a real
city (Changsha's lon/lat, so the map's scale is plausible), and each grid's children split
their parent's rectangle, inset a little, into a grid of cells. Children so lie inside their
parents and siblings do not overlap, at any depth. Deterministic: the same tree gives the
same shapes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

# lon/lat of the whole demo area: west, south, east, north
AREA = (112.70, 28.05, 113.20, 28.35)
INSET = 0.06  # of a parent's width and height, left free around its children
GAP = 0.04  # of a cell, left free between siblings


Box = tuple[float, float, float, float]


def _cells(box: Box, count: int) -> list[Box]:
    """`count` boxes splitting `box`, in rows from the north-west, with margins."""
    if count == 0:
        return []
    west, south, east, north = box
    width, height = east - west, north - south
    west, east = west + width * INSET, east - width * INSET
    south, north = south + height * INSET, north - height * INSET
    width, height = east - west, north - south
    # as square as the box allows: more columns when it is wider than tall
    columns = max(1, round(math.sqrt(count * width / height))) if height else count
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    cell_w, cell_h = width / columns, height / rows
    cells = []
    for i in range(count):
        row, column = divmod(i, columns)
        x0, y1 = west + column * cell_w, north - row * cell_h
        x1, y0 = x0 + cell_w, y1 - cell_h
        gap_w, gap_h = cell_w * GAP, cell_h * GAP
        cells.append((x0 + gap_w, y0 + gap_h, x1 - gap_w, y1 - gap_h))
    return cells


def _polygon(box: Box) -> dict[str, Any]:
    west, south, east, north = (round(v, 6) for v in box)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def demo_shapes(grids: Iterable[tuple[str, str | None]]) -> dict[str, dict[str, Any]]:
    """grid code -> a Polygon, for every grid of the tree given as (code, parent) pairs."""
    children: dict[str | None, list[str]] = {}
    pairs = list(grids)
    codes = {code for code, _parent in pairs}
    for code, parent in pairs:
        children.setdefault(parent if parent in codes else None, []).append(code)
    shapes: dict[str, dict[str, Any]] = {}
    todo: list[tuple[str | None, Box]] = [(None, AREA)]
    while todo:
        parent, box = todo.pop()
        below = sorted(children.get(parent, []))
        for code, cell in zip(below, _cells(box, len(below)), strict=True):
            shapes[code] = _polygon(cell)
            todo.append((code, cell))
    return shapes
