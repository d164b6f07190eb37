"""Grid outlines: the demo grids get generated ones (children inside their parents); an
upload is checked whole, a refusal names the problem and where it is and stores nothing; a
stored upload is on the organisation's audit chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine import OrgRefused
from engine.grid_shapes import MAX_GRID_POSITIONS
from engine.models import AuditEvent

SQUARE = [[112.9, 28.1], [112.95, 28.1], [112.95, 28.15], [112.9, 28.15], [112.9, 28.1]]


def polygon(ring: list[list[Any]] | None = None) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring or SQUARE]}


def feature(geometry: Any, code: str | None = None) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"code": code} if code else {}, "geometry": geometry}


def collection(*features: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def bounds(shape: dict[str, Any]) -> tuple[float, float, float, float]:
    ring = shape["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return min(lons), min(lats), max(lons), max(lats)


def test_the_demo_grids_have_outlines_nested_as_the_tree(engine):
    grids = engine.grids()
    shapes = {g["code"]: engine.grid_shape(g["code"]) for g in grids}
    assert all(shapes.values()), "every demo grid has an outline"
    for g in grids:
        west, south, east, north = bounds(shapes[g["code"]])
        assert 112 < west < east < 114 and 27 < south < north < 29  # around Changsha
        if g["parent"]:
            pw, ps, pe, pn = bounds(shapes[g["parent"]])
            assert pw < west and ps < south and east < pe and north < pn, g["code"]
    siblings: dict[str | None, list[str]] = {}
    for g in grids:
        siblings.setdefault(g["parent"], []).append(g["code"])
    for codes in siblings.values():
        boxes = [bounds(shapes[c]) for c in codes]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    # an organisation loaded before the map gets them for the grids without one, the same
    assert engine.add_demo_shapes() == 0
    engine.remove_grid_shape("ap-d2-t1", "admin")
    assert engine.add_demo_shapes() == 1
    assert engine.grid_shape("ap-d2-t1") == shapes["ap-d2-t1"]


BAD: list[tuple[str, Any, str, str]] = [
    ("not json", "{", "shape_not_json", ""),
    ("empty", "  ", "shape_empty", ""),
    ("a point", {"type": "Point", "coordinates": [112.9, 28.1]}, "shape_wrong_type", "GeoJSON"),
    ("a feature of a line", feature({"type": "LineString", "coordinates": SQUARE}),
     "shape_wrong_type", ".geometry"),
    ("a feature without geometry", feature(None), "shape_not_geometry", ".geometry"),
    ("open ring", polygon(SQUARE[:-1] + [[112.91, 28.1]]), "shape_ring_open", "coordinates[0]"),
    ("short ring", polygon([SQUARE[0], SQUARE[1], SQUARE[0]]), "shape_ring_short",
     "coordinates[0]"),
    ("longitude", polygon([[190, 28.1], *SQUARE[1:-1], [190, 28.1]]), "shape_longitude",
     "coordinates[0][0]"),
    ("latitude", polygon([SQUARE[0], [112.95, -91], *SQUARE[2:]]), "shape_latitude",
     "coordinates[0][1]"),
    ("a string", polygon([SQUARE[0], ["112.95", 28.1], *SQUARE[2:]]), "shape_bad_position",
     "coordinates[0][1][0]"),
    ("one number", polygon([SQUARE[0], [112.95], *SQUARE[2:]]), "shape_bad_position",
     "coordinates[0][1]"),
    ("NaN", '{"type": "Polygon", "coordinates": [[[NaN, 1], [1, 1], [1, 2], [NaN, 1]]]}',
     "shape_not_finite", "NaN"),
    ("huge number", '{"type": "Polygon", "coordinates": [[[1e999, 1], [1, 1], [1, 2], [1, 1]]]}',
     "shape_not_finite", "coordinates[0][0][0]"),
    ("no features", collection(), "shape_no_features", ""),
    ("a feature that is not one", collection(feature(polygon()), {"type": "Polygon"}),
     "shape_not_feature", "features[1]"),
    ("too deep", "[" * 40 + "]" * 40, "shape_too_deep", ""),
    ("too many positions",
     polygon([[112.9 + i * 1e-6, 28.1] for i in range(MAX_GRID_POSITIONS)] + [[112.9, 28.1]]),
     "shape_too_many_positions", "GeoJSON"),
    ("not utf-8", b"\xff\xfe{", "shape_not_utf8", ""),
]  # fmt: skip


@pytest.mark.parametrize(("what", "upload", "code", "where"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_outline_is_refused_naming_the_problem_and_nothing_is_stored(
    engine, what, upload, code, where
):
    before = engine.grid_shape("ap-d1-t1-v1")
    content = upload if isinstance(upload, str | bytes) else json.dumps(upload)
    with pytest.raises(OrgRefused) as refused:
        engine.upload_grid_shapes(content, "admin", grid="ap-d1-t1-v1")
    assert refused.value.field == "geometry"
    assert refused.value.reason.code == code, str(refused.value)
    assert refused.value.reason.params.get("where", "") == where
    assert engine.grid_shape("ap-d1-t1-v1") == before


def test_many_grids_at_once_name_their_grid_and_one_bad_feature_stores_none(engine):
    before = {c: engine.grid_shape(c) for c in ("ap-d1", "ap-d2")}
    with pytest.raises(OrgRefused) as refused:
        engine.upload_grid_shapes(
            json.dumps(collection(feature(polygon(), "ap-d1"), feature(polygon(), "nowhere"))),
            "admin",
        )
    assert refused.value.reason.code == "shape_unknown_grid"
    assert refused.value.reason.params == {"where": "features[1]", "value": "nowhere"}
    with pytest.raises(OrgRefused) as refused:
        engine.upload_grid_shapes(json.dumps(collection(feature(polygon()))), "admin")
    assert refused.value.reason.code == "shape_no_code"
    with pytest.raises(OrgRefused) as refused:
        engine.upload_grid_shapes(json.dumps(polygon()), "admin")
    assert refused.value.reason.code == "shape_not_collection"
    assert {c: engine.grid_shape(c) for c in ("ap-d1", "ap-d2")} == before

    other = [[p[0] + 0.1, p[1], 5.0] for p in SQUARE]  # an altitude is checked, not kept
    codes = engine.upload_grid_shapes(
        json.dumps(
            collection(
                feature(polygon(), "ap-d1"),
                feature(polygon(other), "ap-d1"),
                feature({"type": "MultiPolygon", "coordinates": [[SQUARE]]}, "ap-d2"),
            )
        ).encode(),
        "admin",
    )
    assert codes == ["ap-d1", "ap-d2"]
    assert engine.grid_shape("ap-d1") == {
        "type": "MultiPolygon",
        "coordinates": [[SQUARE], [[p[:2] for p in other]]],
    }
    assert engine.grid_shape("ap-d2") == {"type": "MultiPolygon", "coordinates": [[SQUARE]]}


def test_an_outline_is_stored_audited_and_removed(engine):
    upload = feature(polygon(), "ignored for one grid")
    upload["properties"]["name"] = "<script>"  # other members are not kept
    assert engine.upload_grid_shapes(json.dumps(upload), "admin", grid="ap-d1-t1") == ["ap-d1-t1"]
    assert engine.grid_shape("ap-d1-t1") == polygon()
    with pytest.raises(OrgRefused) as refused:
        engine.upload_grid_shapes(json.dumps(polygon()), "admin", grid="nowhere")
    assert refused.value.reason.code == "org_unknown_grid"
    assert engine.remove_grid_shape("ap-d1-t1", "admin") is True
    assert engine.grid_shape("ap-d1-t1") is None
    assert engine.remove_grid_shape("ap-d1-t1", "admin") is False
    with engine.db.reading() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.chain == "organisation").order_by(AuditEvent.seq)
        ).all()
        assert [(e.action, e.actor) for e in events] == [
            ("set_grid_shape", "admin"),
            ("remove_grid_shape", "admin"),
        ]
        assert events[0].changes["grids"]["ap-d1-t1"]["positions"] == 5
    assert engine.verify_audit().ok
