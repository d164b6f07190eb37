"""E-mailed notifications: the outbox drained by the sweep, against a real local SMTP server."""

from __future__ import annotations

import email
import socket
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, select, text

from engine.clock import parse_iso
from engine.mailer import send_pending
from engine.models import Notification, User
from engine.sweeper import sweep
from tests.conftest import PROCESSES
from tests.helpers import to_rectify

YJJ = "yjj@example.org"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(message)
        return "250 OK"

    def to(self) -> list[str]:
        return [m["To"] for m in self.messages]


class SmtpServer:
    """A real SMTP server on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_engine(make_engine, smtp):
    """The demo organisation with processes/ deployed, e-mailing to the test's SMTP server."""
    engine = make_engine(mail_enabled=True, mail_port=smtp.port, mail_timeout_seconds=5.0)
    engine.upgrade()
    engine.load_demo()
    with engine.db.transaction() as session:
        session.get(User, "dept_yjj").email = YJJ
    engine.deploy([PROCESSES])
    return engine


def _emailed(engine) -> dict[str, list[bool]]:
    """username -> whether each of their notifications was e-mailed, oldest first."""
    with engine.db.reading() as session:
        rows = session.execute(
            select(Notification.username, Notification.emailed_at).order_by(Notification.id)
        )
        found: dict[str, list[bool]] = {}
        for username, emailed_at in rows:
            if username == "member_d1_t1_v1":  # the reporter's notices; they have no address
                continue
            found.setdefault(username, []).append(emailed_at is not None)
        return found


def test_assignment_is_emailed_once_and_only_to_users_with_an_address(mail_engine, smtp):
    engine = mail_engine
    with engine.db.transaction() as session:  # dept_yjj2, a colleague, has no address
        session.get(User, "dept_zjj").email = "zjj@example.org"  # hears of nothing
    case = to_rectify(engine)

    assert send_pending(engine) == 1
    assert smtp.inbox.to() == [YJJ]
    message = smtp.inbox.messages[0]
    number = engine.case_number(case)
    assert message["Subject"] == f"[HazardFlow] 交办 {number}"  # the number people quote
    body = message.get_content()
    assert "南门化工仓库" in body and f"案件编号：{number}" in body
    assert f"http://127.0.0.1:5000/cases/{case}" in body  # a link people can open (the id)
    assert _emailed(engine) == {"dept_yjj": [True], "dept_yjj2": [False]}

    assert send_pending(engine) == 0  # no duplicates
    assert sweep(engine) == 0 and len(smtp.inbox.messages) == 1
    assert _emailed(engine) == {"dept_yjj": [True], "dept_yjj2": [False]}


def test_smtp_down_marks_nothing_and_the_next_sweep_sends(mail_engine, smtp):
    engine = mail_engine
    smtp.stop()
    to_rectify(engine)
    assert send_pending(engine) == 0
    assert sweep(engine) == 0  # logged, not raised
    assert _emailed(engine) == {"dept_yjj": [False], "dept_yjj2": [False]}

    smtp.start()
    sweep(engine)
    assert smtp.inbox.to() == [YJJ] and "交办" in smtp.inbox.messages[0]["Subject"]
    assert _emailed(engine) == {"dept_yjj": [True], "dept_yjj2": [False]}


def test_the_sweep_mails_what_its_timers_just_wrote(mail_engine, smtp, clock):
    engine = mail_engine
    case = to_rectify(engine)
    clock.set(min(parse_iso(t["fire_at"]) for t in engine.instance(case)["timers"]))
    assert sweep(engine) == 1  # the reminder fires, then both notifications are mailed
    number = engine.case_number(case)
    assert [m["Subject"] for m in smtp.inbox.messages] == [
        f"[HazardFlow] 交办 {number}",
        f"[HazardFlow] 催办 {number}",
    ]
    assert "催办" in smtp.inbox.messages[1].get_content()


def test_a_refused_address_does_not_block_the_others(mail_engine, smtp):
    engine = mail_engine
    engine.add_user("yjj_second", roles=["department"], department="yjj", email="b@x.org")
    smtp.inbox.refuse.add(YJJ)  # permanently: 550
    to_rectify(engine)
    assert send_pending(engine) == 1
    assert smtp.inbox.to() == ["b@x.org"]
    assert _emailed(engine) == {
        "dept_yjj": [True],
        "dept_yjj2": [False],
        "yjj_second": [True],
    }  # not retried
    assert send_pending(engine) == 0


def test_mail_is_off_by_default(engine, smtp):
    assert engine.config.mail_enabled is False
    engine.config.mail_port = smtp.port  # a server is there, but mail is not enabled
    with engine.db.transaction() as session:
        session.get(User, "dept_yjj").email = YJJ
    to_rectify(engine)
    sweep(engine)
    assert smtp.inbox.messages == []
    assert _emailed(engine) == {"dept_yjj": [False], "dept_yjj2": [False]}


def test_postgresql_workers_skip_notifications_another_one_holds(mail_engine, smtp):
    engine = mail_engine
    if engine.db.is_sqlite:
        pytest.skip("SQLite runs one sweeping process")
    to_rectify(engine)
    other = create_engine(engine.db.url)
    try:
        with other.begin() as conn:  # another worker has claimed the row and is sending it
            conn.execute(text("SELECT id FROM notifications FOR UPDATE"))
            assert send_pending(engine) == 0
        assert send_pending(engine) == 1
    finally:
        other.dispose()
    assert smtp.inbox.to() == [YJJ]
