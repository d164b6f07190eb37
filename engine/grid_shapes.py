"""Grid shapes: each grid's outline as a GeoJSON Polygon or MultiPolygon (lon/lat, WGS 84),
drawn by the map. An administrator uploads them: one grid's shape (a geometry, a Feature, or
a FeatureCollection whose polygons together are the grid), or many grids' at once (a
FeatureCollection whose features name their grid in `properties.code`).

An upload is checked whole before anything is stored, and a refusal names the problem and
where it is (`features[2].geometry.coordinates[0][5]`): well-formed JSON of bounded size and
depth, the right GeoJSON types, closed rings of at least four positions, finite longitudes
and latitudes in range, and a bounded number of positions per grid and per upload (every
shape goes to every map reader's browser). What is stored is the plain geometry (type and
coordinates, positions as [lon, lat]), never the upload's other members."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import Grid, GridShape
from .org_edit import OrgRefused

MAX_BYTES = 8 * 1024 * 1024  # one upload's text
MAX_DEPTH = 32  # brackets nested; a shape needs 8, the rest is for properties
MAX_GRID_POSITIONS = 20_000  # one grid's outline
MAX_UPLOAD_POSITIONS = 200_000  # one upload, all grids
MAX_FEATURES = 5_000
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
FIELD = "geometry"  # the form field a refusal names


@dataclass(frozen=True)
class Shape:
    """A checked outline: the geometry to store and how many positions it has."""

    geometry: dict[str, Any]
    positions: int

    @property
    def text(self) -> str:
        return json.dumps(self.geometry, separators=(",", ":"))

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def _refuse(code: str, text: str, **params: Any) -> OrgRefused:
    if "where" in params and not params["where"]:
        params["where"] = "GeoJSON"  # the document itself
    return OrgRefused(FIELD, code, text, **params)


def _no_constant(name: str) -> Any:
    raise _refuse("shape_not_finite", f"{name} is not a number", where=name)


def parse(text: str | bytes) -> Any:
    """The upload's JSON, refused when too large, too deep, not UTF-8 or not JSON."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise _refuse("shape_too_large", "the file is too large", limit=MAX_BYTES // 2**20)
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _refuse("shape_not_utf8", "the file is not UTF-8 text") from None
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise _refuse("shape_too_large", "the file is too large", limit=MAX_BYTES // 2**20)
    if not text.strip():
        raise _refuse("shape_empty", "no GeoJSON given")
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise _refuse("shape_too_deep", "nested too deep", limit=MAX_DEPTH)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        text = f"not JSON ({exc.msg}, line {exc.lineno}, column {exc.colno})"
        raise _refuse("shape_not_json", text, line=exc.lineno, column=exc.colno) from None
    except RecursionError:
        raise _refuse("shape_too_deep", "nested too deep", limit=MAX_DEPTH) from None


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse("shape_bad_position", f"{where}: not a number", where=where)
    number = float(value)
    if not math.isfinite(number):
        raise _refuse("shape_not_finite", f"{where}: not a finite number", where=where)
    return number


def _position(value: Any, where: str) -> list[float]:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        text = f"{where}: a position is [longitude, latitude]"
        raise _refuse("shape_bad_position", text, where=where)
    lon, lat = _number(value[0], f"{where}[0]"), _number(value[1], f"{where}[1]")
    if len(value) == 3:
        _number(value[2], f"{where}[2]")  # an altitude: checked, not kept
    if not -180 <= lon <= 180:
        text = f"{where}: longitude {lon} is not within -180..180"
        raise _refuse("shape_longitude", text, where=where, value=lon)
    if not -90 <= lat <= 90:
        text = f"{where}: latitude {lat} is not within -90..90"
        raise _refuse("shape_latitude", text, where=where, value=lat)
    return [lon, lat]


def _list(value: Any, where: str, what: str) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise _refuse("shape_bad_coordinates", f"{where}: {what} expected", where=where)
    return value


def _polygon(value: Any, where: str) -> list[list[list[float]]]:
    rings = []
    for r, ring in enumerate(_list(value, where, "a list of rings")):
        at = f"{where}[{r}]"
        positions = [_position(p, f"{at}[{i}]") for i, p in enumerate(_list(ring, at, "a ring"))]
        if len(positions) < 4:
            text = f"{at}: a ring needs at least 4 positions"
            raise _refuse("shape_ring_short", text, where=at)
        if positions[0] != positions[-1]:
            text = f"{at}: the ring is not closed (its first and last positions differ)"
            raise _refuse("shape_ring_open", text, where=at)
        rings.append(positions)
    return rings


def geometry(value: Any, where: str) -> Shape:
    """A Polygon or MultiPolygon geometry, checked; OrgRefused naming what is wrong."""
    if not isinstance(value, dict):
        raise _refuse("shape_not_geometry", f"{where}: not a GeoJSON geometry", where=where)
    kind = value.get("type")
    coordinates = value.get("coordinates")
    at = f"{where}.coordinates" if where else "coordinates"
    if kind == "Polygon":
        polygons = [_polygon(coordinates, at)]
        found: dict[str, Any] = {"type": "Polygon", "coordinates": polygons[0]}
    elif kind == "MultiPolygon":
        polygons = [
            _polygon(p, f"{at}[{i}]")
            for i, p in enumerate(_list(coordinates, at, "a list of polygons"))
        ]
        found = {"type": "MultiPolygon", "coordinates": polygons}
    else:
        text = f"{where or 'the geometry'}: a {kind!r} is not a Polygon or MultiPolygon"
        raise _refuse("shape_wrong_type", text, where=where, value=str(kind)[:40])
    count = sum(len(ring) for polygon in polygons for ring in polygon)
    if count > MAX_GRID_POSITIONS:
        text = f"{where or 'the shape'}: more than {MAX_GRID_POSITIONS} positions"
        raise _refuse("shape_too_many_positions", text, where=where, limit=MAX_GRID_POSITIONS)
    return Shape(found, count)


def _features(doc: dict[str, Any]) -> list[Any]:
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise _refuse("shape_no_features", "the FeatureCollection has no features")
    if len(features) > MAX_FEATURES:
        raise _refuse("shape_too_many_features", "too many features", limit=MAX_FEATURES)
    return features


def _feature(value: Any, where: str) -> Shape:
    if not isinstance(value, dict) or value.get("type") != "Feature":
        raise _refuse("shape_not_feature", f"{where}: not a GeoJSON Feature", where=where)
    return geometry(value.get("geometry"), f"{where}.geometry")


def _merged(shapes: list[Shape], where: str) -> Shape:
    """Several outlines of one grid as one MultiPolygon (one as itself)."""
    if len(shapes) == 1:
        return shapes[0]
    polygons: list[Any] = []
    for shape in shapes:
        coords = shape.geometry["coordinates"]
        polygons.extend([coords] if shape.geometry["type"] == "Polygon" else coords)
    count = sum(s.positions for s in shapes)
    if count > MAX_GRID_POSITIONS:
        text = f"{where or 'the shape'}: more than {MAX_GRID_POSITIONS} positions"
        raise _refuse("shape_too_many_positions", text, where=where, limit=MAX_GRID_POSITIONS)
    return Shape({"type": "MultiPolygon", "coordinates": polygons}, count)


def one_shape(doc: Any) -> Shape:
    """One grid's outline from a geometry, a Feature or a FeatureCollection (its polygons
    together)."""
    kind = doc.get("type") if isinstance(doc, dict) else None
    if kind == "FeatureCollection":
        features = _features(doc)
        return _merged([_feature(f, f"features[{i}]") for i, f in enumerate(features)], "")
    if kind == "Feature":
        return _feature(doc, "")
    if kind in ("Polygon", "MultiPolygon"):
        return geometry(doc, "")
    text = "not a GeoJSON Feature, FeatureCollection, Polygon or MultiPolygon"
    raise _refuse("shape_wrong_type", text, where="", value=str(kind)[:40])


def shapes_by_code(doc: Any, known: set[str]) -> dict[str, Shape]:
    """Many grids' outlines: a FeatureCollection whose features carry their grid's code in
    `properties.code` (features of one code together are that grid's outline)."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        text = "many grids at once need a FeatureCollection (features with properties.code)"
        raise _refuse("shape_not_collection", text)
    grouped: dict[str, list[Shape]] = {}
    for i, feature in enumerate(_features(doc)):
        where = f"features[{i}]"
        shape = _feature(feature, where)
        code = (feature.get("properties") or {}).get("code")
        if not isinstance(code, str) or not code.strip():
            text = f"{where}: properties.code (the grid's code) is missing"
            raise _refuse("shape_no_code", text, where=where)
        code = code.strip()
        if code not in known:
            text = f"{where}: there is no grid '{code}'"
            raise _refuse("shape_unknown_grid", text, where=where, value=code[:64])
        grouped.setdefault(code, []).append(shape)
    return {code: _merged(shapes, code) for code, shapes in grouped.items()}


def check_total(shapes: dict[str, Shape]) -> None:
    total = sum(s.positions for s in shapes.values())
    if total > MAX_UPLOAD_POSITIONS:
        text = f"more than {MAX_UPLOAD_POSITIONS} positions in one upload"
        raise _refuse("shape_upload_too_many_positions", text, limit=MAX_UPLOAD_POSITIONS)


def store(session: Session, shapes: dict[str, Shape], by: str, at: datetime) -> None:
    """Replace the outlines of the grids named (only of grids that exist)."""
    for code, shape in shapes.items():
        if session.get(Grid, code) is None:
            raise OrgRefused("code", "org_unknown_grid", f"unknown grid '{code}'", value=code)
        row = session.get(GridShape, code)
        if row is None:
            session.add(
                GridShape(grid_code=code, geometry=shape.text, updated_at=at, updated_by=by)
            )
        else:
            row.geometry, row.updated_at, row.updated_by = shape.text, at, by
    session.flush()


def remove(session: Session, code: str) -> bool:
    """Forget a grid's outline; whether it had one."""
    result = session.execute(delete(GridShape).where(GridShape.grid_code == code))
    return bool(getattr(result, "rowcount", 0))


def stored(session: Session, codes: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """grid code -> its geometry (all grids with one, or those of `codes`)."""
    stmt = select(GridShape.grid_code, GridShape.geometry)
    if codes is not None:
        stmt = stmt.where(GridShape.grid_code.in_(codes))
    return {code: json.loads(text) for code, text in session.execute(stmt)}


def known_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Grid.code)))
