"""Webhooks: the addresses administrators register, and the sender that drains the outbox.

A step writes its deliveries in its own transaction (engine/exchange.py); nothing is sent
there. The timer sweep (web process or `hazardflow worker`) calls `send_due`: each due
delivery is POSTed as JSON with a short timeout, signed with the subscription's secret:

    X-HazardFlow-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

A 2xx answer marks it delivered; anything else (an error status, a refused connection, a
timeout, a redirect: not followed) counts an attempt and waits `backoff_seconds` × 2^(n-1)
before the next, until `max_attempts`, when it is marked failed. As the mailer does, on
PostgreSQL the due rows are claimed FOR UPDATE SKIP LOCKED in the transaction that marks
them, so several sweepers never send one row twice; on SQLite (one process) they are read,
sent, then marked, so that SQLite's one write lock is not held while waiting on a receiver.
Delivery is at least once (a crash between the answer and the commit sends again): receivers
drop repeats by `X-HazardFlow-Delivery`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from .errors import FieldError, FormInvalid, NotFound
from .models import Instance, WebhookDelivery, WebhookSubscription
from .records import DeliveryRecord, WebhookRecord

if TYPE_CHECKING:
    from .facade import Engine

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-HazardFlow-Signature"
MAX_URL = 2000


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header's value for a body sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(
    secret: str, body: bytes, header: str, tolerance: float = 300, now: float | None = None
) -> bool:
    """What a receiver does: the header's HMAC matches the body, and it is recent."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(
        sign(secret, body, timestamp), f"t={timestamp},v1={parts.get('v1', '')}"
    )


def _refused(field: str, code: str, text: str) -> FormInvalid:
    return FormInvalid(text, {field: FieldError(code, text, {"title": field})})


def checked_url(url: str) -> str:
    """An http(s) address with a host and no user name or password in it."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise _refused("url", "webhook_url", "地址须是 http:// 或 https:// 网址") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        raise _refused("url", "webhook_url", "地址须是 http:// 或 https:// 网址")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refused("url", "webhook_credentials", "地址中不能含用户名或密码")
    return url


def add(
    session: Session, url: str, events: Iterable[str], known: Sequence[str], by: str, now: datetime
) -> tuple[int, str]:
    """Register an address for events (each one of `known`): its id and its new secret."""
    url = checked_url(url)
    wanted = set(events)
    chosen = [e for e in known if e in wanted]  # in the order config.yaml declares them
    if not chosen or wanted - set(chosen):
        text = f"请选择事件：{', '.join(known)}"
        raise _refused("events", "webhook_events", text)
    secret = secrets.token_urlsafe(32)
    row = WebhookSubscription(
        url=url, events=chosen, secret=secret, active=True, created_by=by, created_at=now
    )
    session.add(row)
    session.flush()
    return row.id, secret


def deactivate(session: Session, subscription_id: int) -> str:
    """Stop sending to a subscription (its pending deliveries stay listed, unsent): its URL."""
    row = session.get(WebhookSubscription, subscription_id, with_for_update=True)
    if row is None:
        raise NotFound(f"webhook {subscription_id} not found")
    row.active = False
    return row.url


def subscriptions(session: Session) -> list[WebhookRecord]:
    rows = session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id.desc()))
    return [
        {
            "id": r.id,
            "url": r.url,
            "events": list(r.events),
            "active": r.active,
            "created_by": r.created_by,
            "created_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def deliveries(
    session: Session, subscription_id: int | None = None, limit: int = 100
) -> list[DeliveryRecord]:
    """The newest deliveries with their status, attempts and last error."""
    stmt = (
        select(WebhookDelivery, WebhookSubscription.url, Instance.number)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .outerjoin(Instance, Instance.id == WebhookDelivery.instance_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if subscription_id is not None:
        stmt = stmt.where(WebhookDelivery.subscription_id == subscription_id)
    return [
        {
            "id": d.id,
            "subscription_id": d.subscription_id,
            "url": url,
            "event": d.event,
            "instance_id": d.instance_id,
            "case_number": number,
            "status": d.status,
            "attempts": d.attempts,
            "next_attempt_at": _iso(d.next_attempt_at),
            "last_error": d.last_error,
            "created_at": d.created_at.isoformat(),
            "delivered_at": _iso(d.delivered_at),
        }
        for d, url, number in session.execute(stmt)
    ]


# --- the sender ---------------------------------------------------------------------------------

# delivery id, event, payload, attempts, url, secret
Due = Row[int, str, dict[str, Any], int, str, str]


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an answer like any other non-2xx: not followed


_OPENER = urllib.request.build_opener(_NoRedirects)


def body_of(delivery_id: int, payload: dict[str, Any]) -> bytes:
    return json.dumps({"id": delivery_id, **payload}, ensure_ascii=False, sort_keys=True).encode()


def post(url: str, secret: str, delivery_id: int, event: str, body: bytes, timeout: float) -> None:
    """One attempt; raises OSError (urllib's errors are OSErrors) unless the answer is 2xx."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "HazardFlow-Webhook/1",
            "X-HazardFlow-Event": event,
            "X-HazardFlow-Delivery": str(delivery_id),
            SIGNATURE_HEADER: sign(secret, body, int(time.time())),
        },
    )
    with _OPENER.open(request, timeout=timeout) as answer:
        if not 200 <= answer.status < 300:
            raise urllib.error.HTTPError(url, answer.status, answer.reason, answer.headers, None)


def send_due(engine: Engine, now: datetime | None = None) -> int:
    """Send up to `webhook_batch` due deliveries, oldest first; how many were delivered."""
    now = now or engine.now()
    config = engine.config
    due = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.event,
            WebhookDelivery.payload,
            WebhookDelivery.attempts,
            WebhookSubscription.url,
            WebhookSubscription.secret,
        )
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(
            WebhookDelivery.status == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookSubscription.active.is_(True),
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(config.webhook_batch)
    )
    if engine.db.is_sqlite:
        with engine.db.reading() as session:
            rows = session.execute(due).all()
        outcomes = [_attempt(engine, row, now) for row in rows]
        if outcomes:
            with engine.db.transaction() as session:
                _mark(session, outcomes)
    else:
        with engine.db.transaction() as session:
            claimed = due.with_for_update(of=WebhookDelivery, skip_locked=True)
            outcomes = [_attempt(engine, row, now) for row in session.execute(claimed).all()]
            _mark(session, outcomes)
    return sum(1 for o in outcomes if o["status"] == "delivered")


def _attempt(engine: Engine, row: Due, now: datetime) -> dict[str, Any]:
    config = engine.config
    attempts = row.attempts + 1
    try:
        body = body_of(row.id, row.payload)
        post(row.url, row.secret, row.id, row.event, body, config.webhook_timeout_seconds)
    except (OSError, ValueError) as exc:  # HTTPError, URLError, timeouts, a bad address
        error = f"HTTP {exc.code}" if isinstance(exc, urllib.error.HTTPError) else str(exc)
        log.warning(
            "webhook delivery %s to %s failed (try %d): %s", row.id, row.url, attempts, error
        )
        if attempts >= config.webhook_max_attempts:
            return {
                "id": row.id,
                "status": "failed",
                "attempts": attempts,
                "next_attempt_at": None,
                "last_error": error[:500],
            }
        wait = timedelta(seconds=config.webhook_backoff_seconds * 2 ** (attempts - 1))
        return {
            "id": row.id,
            "status": "pending",
            "attempts": attempts,
            "next_attempt_at": now + wait,
            "last_error": error[:500],
        }
    return {
        "id": row.id,
        "status": "delivered",
        "attempts": attempts,
        "next_attempt_at": None,
        "delivered_at": now,
    }


def _mark(session: Session, outcomes: list[dict[str, Any]]) -> None:
    for outcome in outcomes:
        values = {k: v for k, v in outcome.items() if k != "id"}
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == outcome["id"]).values(**values)
        )
