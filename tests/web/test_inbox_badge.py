"""The header's inbox count on every page: the unread notifications, "99+" from a hundred
(counted up to there only: someone who never reads them has thousands)."""

from __future__ import annotations

import re

from engine import inbox


def _badge(page: str) -> str:
    found = re.search(r'<span class="badge" id="unread"[^>]*>([^<]*)</span>', page)
    assert found, "the header has its inbox count"
    return found.group(1)


def test_the_header_counts_unread_notifications_up_to_99_plus(engine, web_user):
    member = web_user("member_d1_t1_v1")

    def send(n: int) -> None:
        with engine.runtime.command() as session:
            for i in range(n):
                inbox.send(session, "member_d1_t1_v1", "urged", f"第{i}条", engine.now())

    send(3)
    assert _badge(member.get("/queue").text) == "3"
    send(120)
    assert _badge(member.get("/queue").text) == "99+"
    assert engine.unread_count(engine.actor("member_d1_t1_v1")) == 100
    assert engine.notifications(engine.actor("member_d1_t1_v1"))["unread"] == 123
    engine.mark_read(engine.actor("member_d1_t1_v1"))
    assert 'id="unread" hidden' in member.get("/queue").text
