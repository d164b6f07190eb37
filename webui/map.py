"""The map of open hazards by grid (隐患地图): for who oversees every case (all grids) and for
supervising leaders (the grids they lead and below). The page lists every grid with its open
and overdue cases (readable without scripts); `static/map.js` draws the grids' outlines and
the reported locations with the vendored Leaflet, without any tile server, from
`/map/data.json` (a GeoJSON FeatureCollection). A grid's numbers link to the case list of
that grid (which includes the grids below it), so the number on the map is the number of
rows the click shows."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required

from engine import LEVELS, MapData

from .context import current_actor, current_engine
from .roles import grid_rows, level_label

map_blueprint = Blueprint("map", __name__, url_prefix="/map")
# the legend's classes of open cases (lowest, highest or None); their colours are in
# static/map.css (.bin-0 ...), which map.js reads from the legend
BINS: tuple[tuple[int, int | None], ...] = ((0, 0), (1, 2), (3, 5), (6, 10), (11, None))


def _data() -> MapData:
    engine, actor = current_engine(), current_actor()
    if not engine.may_see_map(actor):
        abort(403)
    return engine.map_data(actor)


def grid_links(code: str) -> dict[str, str]:
    """Where a grid's numbers lead: its open cases, and those overdue, in the case list."""
    return {
        "open_url": url_for("cases.index", status="open", grid=code),
        "overdue_url": url_for("cases.index", status="open", grid=code, overdue="1"),
    }


@map_blueprint.get("")
@login_required
def page() -> ResponseReturnValue:
    found = _data()
    rows = grid_rows(found["grids"])
    return render_template(
        "map/map.html",
        found=found,
        rows=rows,
        links={g["code"]: grid_links(g["code"]) for g, _depth in rows},
        bins=BINS,
        outlined=sum(1 for g in found["grids"] if g["geometry"]),
        level_labels={level: level_label(level) for level in LEVELS},
    )


@map_blueprint.get("/data.json")
@login_required
def data() -> ResponseReturnValue:
    """The map as GeoJSON: a Feature per grid (its outline, or none) and per reported
    location, their `properties` saying what they are, their numbers and their links."""
    found = _data()
    features: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": grid["geometry"],
            "properties": {
                "kind": "grid",
                "code": grid["code"],
                "name": grid["name"],
                "parent": grid["parent"],
                "level": grid["level"],
                "open": grid["open"],
                "overdue": grid["overdue"],
                **grid_links(grid["code"]),
            },
        }
        for grid in found["grids"]
    ]
    features += [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [point["lng"], point["lat"]]},
            "properties": {
                "kind": "case",
                "id": point["id"],
                "number": point["number"],
                "grid": point["grid"],
                "overdue": point["overdue"],
                "url": url_for("cases.case", instance_id=point["id"]),
            },
        }
        for point in found["points"]
    ]
    return jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "open": found["open"],
            "overdue": found["overdue"],
            "points_left_out": found["points_left_out"],
        }
    )
