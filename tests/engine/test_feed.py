"""The change feed: every step of a case once, in commit order, while steps commit at once.

Writers complete steps on many cases from several threads (each its own Engine, as server
processes would be) while a reader follows the feed with its cursor. At the end the reader
must have seen each step exactly once: the steps are counted from the audit events, which
are written in the same transactions.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from engine import FormInvalid
from tests.conftest import PROCESSES
from tests.helpers import REPORT, accept, act, report

CLASSIFY = {"outcome": "accept", "grade": "general", "category": REPORT["category"]}


def _follow(engine, actor, cursor, seen, limit=7):
    while True:
        page = engine.hazard_feed(actor, cursor, limit)
        seen.extend(
            (i["record"]["id"], i["at"], tuple(map(tuple, i["actions"]))) for i in page["items"]
        )
        cursor = page["next"]
        if not page["more"]:
            return cursor


def test_the_feed_misses_and_repeats_nothing_under_concurrent_writes(make_engine):
    main = make_engine()
    main.upgrade()
    main.load_demo()
    main.deploy([PROCESSES])
    dispatcher = main.actor("dispatcher")
    cursor = _follow(main, dispatcher, None, [])  # nothing yet
    writers = [make_engine() for _ in range(4)]
    cases_per_writer = 5
    done = threading.Event()
    errors: list[BaseException] = []
    started: list[int] = []

    def write(engine) -> None:
        try:
            for _ in range(cases_per_writer):
                case = report(engine)
                started.append(case)
                accept(engine, case)
                data = engine.instance(case)["data"]
                act(
                    engine,
                    "dispatcher",
                    case,
                    "dispatch",
                    {"department": data["department"], "deadline_days": data["deadline_days"]},
                )
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    seen: list[tuple] = []
    reader_errors: list[BaseException] = []

    def read() -> None:
        nonlocal cursor
        try:
            while not done.is_set():
                cursor = _follow(main, dispatcher, cursor, seen)
            cursor = _follow(main, dispatcher, cursor, seen)  # what committed last
        except BaseException as exc:
            reader_errors.append(exc)

    threads = [threading.Thread(target=write, args=(e,)) for e in writers]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join()
    assert not errors and not reader_errors, (errors, reader_errors)
    assert len(started) == 4 * cases_per_writer
    # every step (start, classify, dispatch) of every case once: counted by the audit
    steps = Counter(r[0] for r in seen)
    assert steps == Counter({case: 3 for case in started}), steps
    assert len(set(seen)) == len(seen)  # and none twice
    kinds = Counter(a[0][0] for _c, _at, a in seen)
    assert kinds == Counter({"start": 20, "complete": 40})
    # asking again from the last cursor gives nothing; from the start, all 60 once more
    assert main.hazard_feed(dispatcher, cursor, 100)["items"] == []
    again: list[tuple] = []
    _follow(main, dispatcher, None, again, limit=500)
    assert sorted(again) == sorted(seen)


def test_the_feed_shows_only_what_the_reader_may_see(engine):
    first = report(engine)
    other = report(engine, grid="ap-d2-t1-v1")
    member = engine.actor("member_d1_t1_v1")
    page = engine.hazard_feed(member, None, 100)
    assert {i["record"]["id"] for i in page["items"]} == {first}
    # the cursor passed the other case's change: the next read starts after both
    assert engine.hazard_feed(member, page["next"], 100)["items"] == []
    accept(engine, other)
    assert engine.hazard_feed(member, page["next"], 100)["items"] == []
    all_seen = engine.hazard_feed(engine.actor("dispatcher"), page["next"], 100)["items"]
    assert [(i["record"]["id"], i["actions"]) for i in all_seen] == [
        (other, [["complete", "classify"]])
    ]


def test_a_made_up_cursor_is_refused_naming_since(engine):
    with pytest.raises(FormInvalid) as refused:
        engine.hazard_feed(engine.actor("dispatcher"), "not-a-cursor", 10)
    assert list(refused.value.fields) == ["since"]
