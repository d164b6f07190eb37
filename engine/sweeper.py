"""The timer sweeper: an APScheduler interval job that fires due timers (and sends mail and
webhooks).

It runs inside `hazardflow worker` (the scale-out process) and, when config.yaml says so,
inside the web process (the embedded SQLite default, so that `make run` alone keeps deadlines).
Any number of sweepers may run against one PostgreSQL: instances are claimed with
FOR UPDATE SKIP LOCKED, so each timer fires once. With `mail.enabled`, the same job then
e-mails the new notifications (engine.mailer), so what the timers just wrote goes out at once,
and sends the due webhook deliveries (engine.webhooks).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from . import mailer, webhooks

if TYPE_CHECKING:
    from .facade import Engine

log = logging.getLogger(__name__)


def sweep(engine: Engine) -> int:
    """Fire what is due now, then mail; what fails is logged and the next sweep tries again.

    Returns the number of timers fired.
    """
    fired = 0
    try:
        fired = engine.fire_due_timers()
    except Exception:  # the scheduler must keep running
        log.exception("timer sweep failed")
    if fired:
        log.info("fired %d timer(s)", fired)
    if engine.config.mail_enabled:
        try:
            mailed = mailer.send_pending(engine)
        except Exception:
            log.exception("mail sweep failed")
        else:
            if mailed:
                log.info("e-mailed %d notification(s)", mailed)
    try:
        delivered = webhooks.send_due(engine)
    except Exception:
        log.exception("webhook sweep failed")
    else:
        if delivered:
            log.info("delivered %d webhook(s)", delivered)
    return fired


def _schedule(scheduler: BackgroundScheduler | BlockingScheduler, engine: Engine) -> None:
    scheduler.add_job(
        sweep,
        "interval",
        args=[engine],
        seconds=engine.config.sweep_interval_seconds,
        id="timer-sweep",
        max_instances=1,  # a long sweep is not overlapped by the next one
        coalesce=True,  # after a pause, one sweep, not one per missed interval
        next_run_time=engine.now(),  # catch up at start, then every interval
    )


def start_background(engine: Engine) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(daemon=True)
    _schedule(scheduler, engine)
    scheduler.start()
    return scheduler


def run_blocking(engine: Engine) -> None:
    scheduler = BlockingScheduler()
    _schedule(scheduler, engine)
    scheduler.start()
