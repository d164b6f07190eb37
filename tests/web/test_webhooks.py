"""Webhooks: an administrator registers an address; a step's events go to the outbox in the
step's transaction; the sweep POSTs them signed, retrying with backoff. The receiver here is
a real HTTP server on 127.0.0.1 that fails twice (500) and then accepts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine import FormInvalid
from engine.webhooks import SIGNATURE_HEADER, verify
from tests.helpers import accept, dispatch_as_proposed, report


class Receiver:
    """Answers 500 to the first `failures` POSTs, then 200; keeps every request."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests: list[tuple[Any, bytes]] = []  # headers (any case), body
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.headers, body))
                failed = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failed else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/hooks/hazards"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver(failures=2)
    yield found
    found.http.shutdown()
    found.http.server_close()


def test_a_receiver_that_fails_twice_gets_the_event_on_the_third_try_signed(
    engine, app, receiver, clock
):
    admin = engine.actor("admin")
    created = engine.add_webhook(receiver.url, ["dispatched", "archived"], admin)
    secret = created["secret"]
    case = report(engine)
    accept(engine, case)
    assert engine.webhook_deliveries() == []  # neither started nor classified is subscribed
    dispatch_as_proposed(engine, case)
    [pending] = engine.webhook_deliveries()
    assert (pending["event"], pending["status"], pending["attempts"]) == (
        "dispatched",
        "pending",
        0,
    )

    assert engine.send_webhooks() == 0  # 500
    first = engine.webhook_deliveries()[0]
    assert (first["status"], first["attempts"], first["last_error"]) == ("pending", 1, "HTTP 500")
    assert engine.send_webhooks() == 0  # not due yet: the backoff's first wait (30 s)
    assert len(receiver.requests) == 1
    clock.advance(seconds=30)
    assert engine.send_webhooks() == 0  # 500 again; the next wait doubles
    clock.advance(seconds=59)
    assert engine.send_webhooks() == 0 and len(receiver.requests) == 2
    clock.advance(seconds=1)
    assert engine.send_webhooks() == 1  # the third try
    assert len(receiver.requests) == 3
    done = engine.webhook_deliveries()[0]
    assert (done["status"], done["attempts"], done["delivered_at"]) == (
        "delivered",
        3,
        clock.now().isoformat(),
    )
    assert engine.send_webhooks() == 0 and len(receiver.requests) == 3  # once delivered, done

    headers, body = receiver.requests[-1]
    assert verify(secret, body, headers[SIGNATURE_HEADER])
    assert not verify("another secret", body, headers[SIGNATURE_HEADER])
    assert not verify(secret, body + b" ", headers[SIGNATURE_HEADER])
    sent = json.loads(body)
    assert headers["X-HazardFlow-Event"] == "dispatched"
    assert headers["X-HazardFlow-Delivery"] == str(sent["id"]) == str(done["id"])
    assert sent["event"] == "dispatched" and sent["case"]["id"] == case
    assert sent["case"]["fields"]["responsible_department"] == "yjj"
    # the same attempts and status as the administrators' API lists them
    token = engine.new_token("admin")
    listed = app.test_client().get(
        "/api/v1/webhooks/deliveries", headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200
    assert [(d["status"], d["attempts"]) for d in listed.get_json()] == [("delivered", 3)]


def test_a_delivery_gives_up_after_the_most_attempts(make_engine, receiver, clock):
    engine = make_engine(webhook_max_attempts=2)
    engine.upgrade()
    engine.load_demo()
    from tests.conftest import PROCESSES

    engine.deploy([PROCESSES])
    engine.add_webhook(receiver.url, ["started"], engine.actor("admin"))
    report(engine)
    engine.send_webhooks()
    clock.advance(minutes=1)
    engine.send_webhooks()
    [failed] = engine.webhook_deliveries()
    assert (failed["status"], failed["attempts"], failed["next_attempt_at"]) == ("failed", 2, None)
    clock.advance(days=1)
    assert engine.send_webhooks() == 0 and len(receiver.requests) == 2


def test_the_outbox_row_is_written_with_the_step_or_not_at_all(engine, receiver):
    engine.add_webhook(receiver.url, ["started"], engine.actor("admin"))
    with pytest.raises(FormInvalid):
        engine.start("hazard_handling", {"grid": "ap-d1-t1-v1"}, engine.actor("member_d1_t1_v1"))
    assert engine.webhook_deliveries() == []
    report(engine)
    assert [d["event"] for d in engine.webhook_deliveries()] == ["started"]


def test_a_stopped_webhook_is_not_sent_and_new_events_skip_it(engine, receiver, clock):
    created = engine.add_webhook(receiver.url, ["started"], engine.actor("admin"))
    report(engine)
    engine.deactivate_webhook(created["id"], engine.actor("admin"))
    report(engine)
    assert engine.send_webhooks() == 0 and receiver.requests == []
    assert len(engine.webhook_deliveries()) == 1  # listed, never sent
    assert engine.webhooks()[0]["active"] is False


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "http://user:secret@127.0.0.1/x",
        "http://token@127.0.0.1/x",
        "javascript:alert(1)",
        "http:///nohost",
    ],
)
def test_only_http_addresses_without_credentials(engine, url):
    with pytest.raises(FormInvalid) as refused:
        engine.add_webhook(url, ["started"], engine.actor("admin"))
    assert list(refused.value.fields) == ["url"]


def test_only_administrators_register_and_events_must_be_known(engine):
    from engine import Forbidden

    with pytest.raises(Forbidden):
        engine.add_webhook("http://127.0.0.1/x", ["started"], engine.actor("dispatcher"))
    with pytest.raises(FormInvalid) as refused:
        engine.add_webhook("http://127.0.0.1/x", ["exploded"], engine.actor("admin"))
    assert list(refused.value.fields) == ["events"]


def test_overdue_and_escalated_come_from_the_declared_rules(engine, receiver, clock):
    engine.add_webhook(receiver.url, ["overdue", "escalated"], engine.actor("admin"))
    case = report(engine)
    accept(engine, case)
    dispatch_as_proposed(engine, case)
    deadline = engine.instance(case)["data"]["deadline"]
    from engine import parse_iso

    engine.fire_due_timers(parse_iso(deadline) + timedelta(minutes=1))
    events = sorted(d["event"] for d in engine.webhook_deliveries())
    assert events == ["escalated", "overdue"]
