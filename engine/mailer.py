"""E-mail copies of inbox notifications: a durable outbox that the timer sweep drains.

A notification is written in the transaction of the step that caused it; nothing is sent
there. Later, `send_pending` picks the notifications not yet e-mailed whose user has an
address, sends them over SMTP and sets `emailed_at`. On PostgreSQL the rows are claimed with
FOR UPDATE SKIP LOCKED in the transaction that marks them, so several workers never send one
twice. On SQLite (one process) the rows are read, sent, then marked, so that SQLite's single
write lock is not held while talking to the mail server. A failure (SMTP down) leaves the rest
unmarked for the next sweep; delivery is at least once (a crash after sending, before the
commit, sends again).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from .config import Config
from .models import Instance, Notification, User

if TYPE_CHECKING:
    from .facade import Engine

log = logging.getLogger(__name__)

SUBJECTS = {"assignment": "交办", "reminder": "催办", "supervision": "督办", "return": "退回"}


def send_pending(engine: Engine, now: datetime | None = None) -> int:
    """E-mail up to `mail_batch` pending notifications, oldest first; returns how many sent."""
    now = now or engine.now()
    pending = (
        select(
            Notification.id,
            Notification.kind,
            Notification.text,
            Notification.instance_id,
            User.email,
            Instance.number,
        )
        .join(User, User.username == Notification.username)
        .outerjoin(Instance, Instance.id == Notification.instance_id)
        .where(Notification.emailed_at.is_(None), User.email.is_not(None), User.email != "")
        .order_by(Notification.id)
        .limit(engine.config.mail_batch)
    )
    if engine.db.is_sqlite:
        with engine.db.reading() as session:
            rows = session.execute(pending).all()
        done, sent = _send(engine.config, rows, now)
        if done:
            with engine.db.transaction() as session:
                _mark(session, done, now)
    else:
        with engine.db.transaction() as session:
            claimed = pending.with_for_update(of=Notification, skip_locked=True)
            done, sent = _send(engine.config, session.execute(claimed).all(), now)
            _mark(session, done, now)
    return sent


def _mark(session: Session, ids: list[int], now: datetime) -> None:
    if ids:
        session.execute(update(Notification).where(Notification.id.in_(ids)).values(emailed_at=now))


# id, kind, text, instance id, e-mail address, case number
PendingMail = Row[int, str, str, int | None, str | None, str | None]


def _send(config: Config, rows: Sequence[PendingMail], now: datetime) -> tuple[list[int], int]:
    """Send over one SMTP connection, stopping at a failure: the ids done with, how many sent."""
    done: list[int] = []
    sent = 0
    if not rows:
        return done, sent
    try:
        with smtplib.SMTP(
            config.mail_host, config.mail_port, timeout=config.mail_timeout_seconds
        ) as smtp:
            if config.mail_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.mail_username:
                smtp.login(config.mail_username, config.mail_password or "")
            for row in rows:
                try:
                    smtp.send_message(message(config, row, now))
                except smtplib.SMTPRecipientsRefused as exc:
                    # This address only: skip it; a permanent refusal (5xx) is not retried.
                    log.error("e-mail of notification %s refused: %s", row.id, exc.recipients)
                    if all(code >= 500 for code, _ in exc.recipients.values()):
                        done.append(row.id)
                    continue
                done.append(row.id)
                sent += 1
    except OSError as exc:  # smtplib.SMTPException included; the next sweep retries the rest
        log.error(
            "e-mail to %s:%s failed after %d of %d: %s",
            config.mail_host,
            config.mail_port,
            sent,
            len(rows),
            exc,
        )
    return done, sent


def message(config: Config, row: PendingMail, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    subject = f"[HazardFlow] {SUBJECTS.get(row.kind, row.kind)}"
    msg["Subject"] = f"{subject} {row.number}" if row.number else subject
    msg["From"] = config.mail_sender
    msg["To"] = row.email
    msg["Date"] = format_datetime(now)
    body = [row.text]
    if row.instance_id is not None:
        link = f"{config.mail_base_url.rstrip('/')}/cases/{row.instance_id}"
        body += ["", f"案件编号：{row.number or row.instance_id}", f"查看：{link}"]
    msg.set_content("\n".join(body) + "\n")
    return msg
