"""The map of open hazards (`/map`, `/map/data.json`): open and overdue cases counted per grid
with the grids below it, under the one visibility rule; each grid's numbers are the rows the
case list shows for its links; a leader sees their area only, a grid member no map; reported
locations are points; an administrator's outline upload is refused with the reason, in the
reader's language (Flask's in-process client)."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from engine.models import InstanceField
from tests.helpers import MEMBER, accept, close_invalid, dispatch_as_proposed, report
from tests.web.test_case_list import listed
from tests.web.test_pages import csrf, signed_in

DISPATCHED_OVERDUE = ("ap-d1-t1-v1", "ap-d1-t1-v2")
LOCATION = {"lat": 28.24, "lng": 113.01, "address": "西山县某路 1 号"}


def cases_in_grids(engine, clock) -> dict[str, int]:
    """Two dispatched cases past their deadline, three open ones within it, one closed."""
    made = {}
    for grid in DISPATCHED_OVERDUE:
        case = report(engine, grid=grid)
        accept(engine, case)
        dispatch_as_proposed(engine, case)
        made[f"late {grid}"] = case
    clock.advance(days=90)  # past every deadline the dispatch table gives
    made["fresh v1"] = report(engine, grid="ap-d1-t1-v1")
    made["located d2"] = report(engine, grid="ap-d2-t1-v1", location=LOCATION)
    dispatched = report(engine, grid="ap-d2-t1-v2")
    accept(engine, dispatched)
    dispatch_as_proposed(engine, dispatched)  # within its deadline
    made["closed"] = report(engine, grid="ap-d2-t2-v1")
    close_invalid(engine, made["closed"])
    return made


def grid_numbers(browser) -> dict[str, tuple[int, int]]:
    found = browser.get("/map/data.json")
    assert found.status_code == 200 and found.is_json
    return {
        f["properties"]["code"]: (f["properties"]["open"], f["properties"]["overdue"])
        for f in found.json["features"]
        if f["properties"]["kind"] == "grid"
    }


def rows_of(browser, url: str) -> int:
    page = browser.get(url + "&per_page=100")
    assert page.status_code == 200
    return len(listed(page.text))


def test_open_and_overdue_cases_by_grid_are_what_the_case_list_shows(app, engine, clock):
    made = cases_in_grids(engine, clock)
    dispatcher = signed_in(app, "dispatcher")
    numbers = grid_numbers(dispatcher)
    assert numbers["ap-d1-t1-v1"] == (2, 1)
    assert numbers["ap-d1-t1-v2"] == (1, 1)
    assert numbers["ap-d1-t1"] == numbers["ap-d1"] == (3, 2)
    assert numbers["ap-d2-t1"] == numbers["ap-d2"] == (2, 0)
    assert numbers["ap-d2-t2-v1"] == (0, 0)  # its case is closed
    assert numbers["ap"] == (5, 2)
    assert len(numbers) == len(engine.grids())  # a dispatcher sees every grid

    data = dispatcher.get("/map/data.json").json
    assert (data["open"], data["overdue"]) == (5, 2)
    by_code = {
        f["properties"]["code"]: f for f in data["features"] if f["properties"]["kind"] == "grid"
    }
    for code, (open_, overdue) in numbers.items():
        props = by_code[code]["properties"]
        assert rows_of(dispatcher, props["open_url"]) == open_, code
        assert rows_of(dispatcher, props["overdue_url"]) == overdue, code
        assert by_code[code]["geometry"]["type"] == "Polygon"  # the demo outlines
    points = [f for f in data["features"] if f["properties"]["kind"] == "case"]
    assert [(p["properties"]["id"], p["geometry"]["coordinates"]) for p in points] == [
        (made["located d2"], [LOCATION["lng"], LOCATION["lat"]])
    ]
    assert points[0]["properties"]["url"] == f"/cases/{made['located d2']}"

    page = dispatcher.get("/map")
    assert page.status_code == 200 and "隐患地图" in page.text
    assert 'data-open="5" data-overdue="2"' in page.text
    row = re.search(r'<tr data-grid="ap-d1-t1".*?</tr>', page.text, re.S).group(0)
    assert ">3</a>" in row and ">2</a>" in row
    assert 'href="/map"' in page.text  # the menu's link
    assert "vendor/leaflet/leaflet.js" in page.text and "map.js" in page.text


def test_a_leader_sees_their_area_and_a_grid_member_no_map(app, engine, clock):
    cases_in_grids(engine, clock)
    leader = signed_in(app, "leader_ap_d1_t1")
    numbers = grid_numbers(leader)
    assert numbers == {"ap-d1-t1": (3, 2), "ap-d1-t1-v1": (2, 1), "ap-d1-t1-v2": (1, 1)}
    data = leader.get("/map/data.json").json
    assert (data["open"], data["overdue"]) == (3, 2)
    assert [f for f in data["features"] if f["properties"]["kind"] == "case"] == []  # in ap-d2
    town = next(f for f in data["features"] if f["properties"]["code"] == "ap-d1-t1")
    assert town["properties"]["parent"] is None  # the top of what they see
    assert rows_of(leader, town["properties"]["open_url"]) == 3
    assert rows_of(leader, town["properties"]["overdue_url"]) == 2
    # the other district is not theirs: neither on the map nor in the list
    assert rows_of(leader, "/cases?status=open&grid=ap-d2") == 0
    assert "ap-d2" not in leader.get("/map").text

    district = signed_in(app, "leader_ap_d2")
    assert set(grid_numbers(district)) == {
        g["code"] for g in engine.grids() if g["code"].startswith("ap-d2")
    }
    assert grid_numbers(district)["ap-d2"] == (2, 0)

    member = signed_in(app, MEMBER)
    assert member.get("/map").status_code == 403
    assert member.get("/map/data.json").status_code == 403
    assert 'href="/map"' not in member.get("/my-reports").text


def test_reported_coordinates_are_kept_indexed(engine):
    case = report(engine, grid="ap-d2-t1-v1", location=LOCATION)
    with engine.db.reading() as session:
        found = session.execute(
            select(InstanceField.name, InstanceField.value).where(InstanceField.instance_id == case)
        )
        rows = {name: value for name, value in found}
    assert rows["location.lat"] == "28.24" and rows["location.lng"] == "113.01"
    assert "location.address" not in rows


def _upload(browser, url: str, content: bytes, page):
    return browser.post(
        url,
        data={"csrf_token": csrf(page.text), "file": (io.BytesIO(content), "grids.geojson")},
        content_type="multipart/form-data",
    )


def test_an_administrator_uploads_outlines_and_a_bad_one_says_why(app, engine):
    admin = signed_in(app, "admin")
    page = admin.get("/admin/organisation/grids/ap-d1-t1")
    assert page.status_code == 200 and 'id="shape"' in page.text and "删除边界" in page.text
    before = engine.grid_shape("ap-d1-t1")
    open_ring = {"type": "Polygon", "coordinates": [[[112.9, 28.1], [113, 28.1], [113, 28.2],
                                                     [112.9, 28.2]]]}  # fmt: skip
    refused = _upload(admin, "/admin/organisation/grids/ap-d1-t1/shape",
                      json.dumps(open_ring).encode(), page)  # fmt: skip
    assert refused.status_code == 422
    assert "coordinates[0]：环未闭合（首尾坐标点不同）" in refused.text
    assert 'value="城关街道"' in refused.text  # the grid's own form keeps its values
    assert engine.grid_shape("ap-d1-t1") == before

    english = signed_in(app, "admin", language="en")
    own = english.get("/admin/organisation/grids/ap-d1-t1")
    refused = _upload(english, "/admin/organisation/grids/ap-d1-t1/shape", b"{oops", own)
    assert refused.status_code == 422 and "This is not JSON (line 1, column 2)" in refused.text

    open_ring["coordinates"][0].append([112.9, 28.1])
    saved = _upload(admin, "/admin/organisation/grids/ap-d1-t1/shape",
                    json.dumps(open_ring).encode(), page)  # fmt: skip
    assert saved.status_code == 302
    assert engine.grid_shape("ap-d1-t1") == open_ring

    org = admin.get("/admin/organisation")
    many = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "ap-d2"}, "geometry": open_ring},
        {"type": "Feature", "properties": {"code": "ap-x"}, "geometry": open_ring},
    ]}  # fmt: skip
    refused = _upload(admin, "/admin/organisation/shapes", json.dumps(many).encode(), org)
    assert refused.status_code == 422 and "features[1]：没有网格 ap-x" in refused.text
    assert engine.grid_shape("ap-d2") != open_ring
    many["features"].pop()
    done = admin.post(
        "/admin/organisation/shapes",
        data={"csrf_token": csrf(org.text), "geometry": json.dumps(many)},
        follow_redirects=True,
    )
    assert "已保存 1 个网格的边界" in done.text
    assert engine.grid_shape("ap-d2") == open_ring

    removed = admin.post(
        "/admin/organisation/grids/ap-d2/shape/remove",
        data={"csrf_token": csrf(page.text)},
        follow_redirects=True,
    )
    assert "网格边界已删除" in removed.text and engine.grid_shape("ap-d2") is None
    nothing = admin.post(
        "/admin/organisation/grids/ap-d2/shape", data={"csrf_token": csrf(page.text)}
    )
    assert nothing.status_code == 422 and "请选择 GeoJSON 文件" in nothing.text
    # the map lists a grid without an outline, undrawn
    grid = next(
        f for f in admin.get("/map/data.json").json["features"]
        if f["properties"].get("code") == "ap-d2"
    )  # fmt: skip
    assert grid["geometry"] is None
