"""Hazards as records through the API: the fields config.yaml's `records` maps, from the case
data, the photos, the case row and its history; only the cases the caller may see."""

from __future__ import annotations

from sqlalchemy import event

from tests.helpers import MEMBER, RECTIFY_REPORT, REPORT, accept, act, report, to_rectify


def _archived(engine) -> int:
    case = to_rectify(engine)
    act(engine, "dept_yjj", case, "rectify", RECTIFY_REPORT)
    act(engine, "dispatcher", case, "verify", {"passed": True, "verify_opinion": "整改到位"})
    return case


def test_an_archived_case_as_a_record_with_its_photos(engine, client, clock):
    case = _archived(engine)
    response = client("dispatcher").get(f"/hazards/{case}")
    assert response.status_code == 200, response.text
    record = response.json()
    fields = record["fields"]
    data = engine.instance(case)["data"]
    assert record["number"] == engine.instance(case)["number"]
    assert record["status"] == "completed"
    assert fields["enterprise"] == REPORT["unit"]
    assert fields["reporting_grid"] == REPORT["grid"]
    assert fields["industry"] == fields["hazard_category"] == REPORT["category"]
    assert fields["hazard_grade"] == "general"
    assert fields["inspector"] == fields["reported_by"] == MEMBER
    assert fields["responsible_department"] == data["department"] == "yjj"
    assert fields["measures"] == RECTIFY_REPORT["measures"]
    assert fields["funds"] == RECTIFY_REPORT["funds"]
    assert fields["planned_completion"] == data["deadline"]
    assert fields["reviewer"] == "dispatcher"
    assert fields["reviewed_at"] == clock.now().isoformat()
    assert fields["review_opinion"] == "整改到位"
    assert fields["closed_at"] == clock.now().isoformat()
    [photo] = fields["rectification_photos"]
    assert photo == {"id": data["rectify_photos"][0], "url": f"/api/v1/photos/{photo['id']}"}
    image = client("dispatcher").session.get(client("dispatcher").base + photo["url"][7:])
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png"
    # a member of another grid may see neither the record nor the photo
    assert client("member_d2_t1_v1").get(f"/hazards/{case}").status_code == 404
    stranger = client("member_d2_t1_v1")
    assert stranger.session.get(stranger.base + photo["url"][7:]).status_code == 403


def test_the_list_answers_only_what_its_reader_may_see(engine, client, clock):
    mine = report(engine)
    elsewhere = report(engine, grid="ap-d2-t1-v1")
    clock.advance(minutes=1)
    accept(engine, mine)
    listed = client(MEMBER).get("/hazards").json()
    assert [r["id"] for r in listed["items"]] == [mine] and listed["total"] == 1
    everything = client("dispatcher").get("/hazards").json()
    # least recently changed first: the other case has not changed since its report
    assert [r["id"] for r in everything["items"]] == [elsewhere, mine]
    since = clock.now().isoformat()
    clock.advance(minutes=5)
    accept(engine, elsewhere)
    changed = client("dispatcher").get("/hazards", updated_since=since).json()
    assert [r["id"] for r in changed["items"]] == [mine, elsewhere]  # at or after
    later = client("dispatcher").get("/hazards", updated_since=clock.now().isoformat()).json()
    assert [r["id"] for r in later["items"]] == [elsewhere]
    closed = client("dispatcher").get("/hazards", status="closed").json()
    assert closed["items"] == [] and closed["total"] == 0
    naive = client("dispatcher").get("/hazards", updated_since="2026-03-02T09:00:00")
    assert naive.status_code == 422 and "updated_since" in naive.json()["fields"]


def test_the_feed_through_the_api(engine, client):
    case = report(engine)
    page = client("dispatcher").get("/hazards/feed", limit=10).json()
    assert [(i["record"]["id"], i["actions"], i["events"]) for i in page["items"]] == [
        (case, [["start", None]], ["started"])
    ]
    accept(engine, case)
    after = client("dispatcher").get("/hazards/feed", since=page["next"]).json()
    assert [i["actions"] for i in after["items"]] == [[["complete", "classify"]]]
    bad = client("dispatcher").get("/hazards/feed", since="bm9wZQ")
    assert bad.status_code == 422 and "since" in bad.json()["fields"]


def test_a_page_of_records_costs_the_same_queries_for_1_and_for_12_cases(engine):
    dispatcher = engine.actor("dispatcher")
    counts = []
    for more in (1, 11):
        for _ in range(more):
            accept(engine, report(engine))
        statements: list[str] = []

        def count(*args, statements=statements) -> None:
            statements.append(args[2])

        event.listen(engine.db.sa, "before_cursor_execute", count)
        try:
            page = engine.hazards(dispatcher, limit=100)
        finally:
            event.remove(engine.db.sa, "before_cursor_execute", count)
        assert all("state" not in s.split("FROM")[0] for s in statements if "instances" in s)
        counts.append((len(page["items"]), len(statements)))
    assert [n for n, _ in counts] == [1, 12]
    assert counts[0][1] == counts[1][1], counts
