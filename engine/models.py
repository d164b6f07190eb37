"""The tables. Every queue and filter has an index; workflow state is one JSON text column."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite keeps no offset, so we store UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


# --- definitions -----------------------------------------------------------------------------


class Deployment(Base):
    """An immutable set of process files, deployed at one time, with the hash of their
    content."""

    __tablename__ = "deployments"
    id: Mapped[int] = mapped_column(primary_key=True)
    # files deployed again (a roll back) are a deployment of their own, with the same hash
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    deployed_at: Mapped[datetime]
    deployed_by: Mapped[str | None] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(Text)  # why, as the deployer said


class DeploymentFile(Base):
    __tablename__ = "deployment_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # bpmn | dmn | form | calendar | translations
    content: Mapped[str] = mapped_column(Text)


class ProcessVersion(Base):
    """One executable process of a deployment. Instances are pinned to a version."""

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int]
    name: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64))
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    start_form: Mapped[str | None] = mapped_column(String(255))


# --- runtime ---------------------------------------------------------------------------------


class Instance(Base):
    __tablename__ = "instances"
    __table_args__ = (
        Index("ix_instances_process_status", "process_id", "status"),
        # a period's reports per grid (engine/stats.py) without reading the rows
        Index("ix_instances_process_created", "process_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # The number people know a case by (YH-2026-000123: config `cases.number_prefix`, the
    # China-time year it was reported, the id). Set by the step that starts the case, in the
    # same transaction as the row (which is inserted first, to have its id).
    number: Mapped[str | None] = mapped_column(String(40), unique=True, index=True)
    process_id: Mapped[str] = mapped_column(String(255))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[str] = mapped_column(String(16))  # running | completed | error
    end_event: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow state without the spec
    data: Mapped[dict[str, Any]]  # the case data, for display and lists
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    audit_seq: Mapped[int]  # head of this instance's audit chain, kept on the row itself
    audit_head: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(index=True)  # the list's "recently changed"
    completed_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}


class CaseSearch(Base):
    """A case's search document: its number and the fields its start form names in
    `x-search`, as terms separated by spaces (engine/search_text.py), written with the step
    that changed them. The index over it is per database and not a model: an FTS5 table kept
    by triggers on SQLite, a GIN index of the terms as a tsvector on PostgreSQL (revision
    0003; `engine/case_index.py` queries both)."""

    __tablename__ = "case_search"
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text)


class InstanceField(Base):
    """Case values that queues filter on (config `case_filter_fields`), indexed, so that a
    filter never reads workflow state or the case JSON."""

    __tablename__ = "instance_fields"
    __table_args__ = (Index("ix_instance_fields_name_value", "name", "value"),)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class SavedView(Base):
    """A person's named queue filter (the query string of the queue page)."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("username", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(Text)


class OpenTask(Base):
    """The projection of every READY human task: what queues are built from."""

    __tablename__ = "open_tasks"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task id
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    process_id: Mapped[str] = mapped_column(String(255), index=True)
    task_name: Mapped[str] = mapped_column(String(255), index=True)  # the BPMN element id
    title: Mapped[str | None] = mapped_column(String(255))
    # The queue tab the task is listed under: the `queue` property, else the title.
    queue: Mapped[str] = mapped_column(String(255), index=True, default="")
    lane: Mapped[str | None] = mapped_column(String(80))
    form_key: Mapped[str | None] = mapped_column(String(255))
    assignee: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    due_at: Mapped[datetime | None] = mapped_column(index=True)


class CasePart(Base):
    """One department's part of a case, for the 考核 figures (engine/stats.py): when it was
    dispatched, the deadline in force, when the department reported it rectified and whether
    that was by the deadline, and what happened on the way. Written with the step that changed
    it (engine/case_parts.py, by the rules of config `stats`), so the figures are sums over
    indexed rows: no workflow state, no case JSON, no Python per case."""

    __tablename__ = "case_parts"
    __table_args__ = (
        # a period's figures read the parts with one of these in it, and the open ones
        Index("ix_case_parts_dispatched", "dispatched_at"),
        Index("ix_case_parts_due", "due_at"),
        Index("ix_case_parts_rectified", "rectified_at"),
        Index("ix_case_parts_received", "received_at"),
        Index("ix_case_parts_open", "open"),
    )
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="lead")  # lead | cooperate
    grid: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    major: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime]  # the case's report
    dispatched_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]  # the deadline in force (extensions move it)
    rectified_at: Mapped[datetime | None]  # the department's last report of rectification
    on_time: Mapped[bool | None]  # rectified_at <= due_at, as it stood then
    working_days: Mapped[int | None]  # dispatch to rectification, in the working calendar
    returned_at: Mapped[datetime | None]  # handed back (退回) and not dispatched to it again
    returns: Mapped[int] = mapped_column(Integer, default=0)
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    level: Mapped[int | None] = mapped_column(Integer)  # the highest supervision level reached
    open: Mapped[bool] = mapped_column(Boolean, default=True)  # the case is still running


class PartEscalation(Base):
    """A department's part reaching a supervision level (0: its grid's supervising leader,
    1: the leader above, ...), and when: the 考核 figures' escalations by level."""

    __tablename__ = "part_escalations"
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), primary_key=True
    )
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    process_id: Mapped[str] = mapped_column(String(255))
    grid: Mapped[str | None] = mapped_column(String(64))  # the part's grid at the time


class StatsTotal(Base):
    """The 考核 figures that count by a date, summed per day and per month for each process,
    department ("" for a case's report, counted by grid) and grid: written with the step that
    changes a part, as deltas (engine/stats_totals.py), so a period's figures read a few
    rows per day or month instead of every part the period touched."""

    __tablename__ = "stats_totals"
    span: Mapped[str] = mapped_column(String(8), primary_key=True)  # day | month
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the day, or the month's 1st
    process_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    department: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid: Mapped[str] = mapped_column(String(64), primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    rectified: Mapped[int] = mapped_column(Integer, default=0)
    due: Mapped[int] = mapped_column(Integer, default=0)
    on_time: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    wd_sum: Mapped[int] = mapped_column(Integer, default=0)
    wd_n: Mapped[int] = mapped_column(Integer, default=0)
    # the open parts as they stand: not rectified by their deadline's day (overdue once it
    # has passed); major, by the supervision level reached (none yet, 0 the grid's leader,
    # 1 the one above ...; 4 and higher together), at the report's day
    pending: Mapped[int] = mapped_column(Integer, default=0)
    major_open: Mapped[int] = mapped_column(Integer, default=0)
    level_none: Mapped[int] = mapped_column(Integer, default=0)
    level_0: Mapped[int] = mapped_column(Integer, default=0)
    level_1: Mapped[int] = mapped_column(Integer, default=0)
    level_2: Mapped[int] = mapped_column(Integer, default=0)
    level_3: Mapped[int] = mapped_column(Integer, default=0)
    level_4: Mapped[int] = mapped_column(Integer, default=0)
    # escalations on the day: parts reaching supervision level 0, 1, ... (4 and higher together)
    escalated_0: Mapped[int] = mapped_column(Integer, default=0)
    escalated_1: Mapped[int] = mapped_column(Integer, default=0)
    escalated_2: Mapped[int] = mapped_column(Integer, default=0)
    escalated_3: Mapped[int] = mapped_column(Integer, default=0)
    escalated_4: Mapped[int] = mapped_column(Integer, default=0)


class TaskCandidate(Base):
    __tablename__ = "task_candidates"
    task_id: Mapped[str] = mapped_column(
        ForeignKey("open_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    group_key: Mapped[str] = mapped_column(String(160), primary_key=True, index=True)


class Draft(Base):
    """A half-filled task form, kept per person until the task is done."""

    __tablename__ = "drafts"
    task_id: Mapped[str] = mapped_column(
        ForeignKey("open_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    data: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]


class Timer(Base):
    """A waiting timer, written in the same transaction as the state that created it."""

    __tablename__ = "timers"
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    fire_at: Mapped[datetime] = mapped_column(index=True)


class AuditEvent(Base):
    """Append-only and hash-chained: each event's hash covers the previous one's."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    # "instance:<id>", "user:<username>" (80 characters at most) or "system"
    chain: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int]
    instance_id: Mapped[int | None] = mapped_column(index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[str | None] = mapped_column(String(36))
    task_name: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    changes: Mapped[dict[str, Any] | None]
    comment: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("chain", "seq"),)


class AuditHead(Base):
    """The newest hash of each non-instance chain, so that deleting the last event shows."""

    __tablename__ = "audit_heads"
    chain: Mapped[str] = mapped_column(String(100), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """An inbox entry: reminders, supervision, returns, assignments."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "username", "read_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]  # set by engine.mailer: sent (or refused for good)


class Attachment(Base):
    """An uploaded photo, stored under the data folder by its content hash."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the content
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    uploaded_by: Mapped[str] = mapped_column(String(80))
    uploaded_at: Mapped[datetime]
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="SET NULL"), index=True
    )


# --- organisation ----------------------------------------------------------------------------


class Grid(Base):
    __tablename__ = "grids"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("grids.code"), index=True)
    level: Mapped[str | None] = mapped_column(String(32))  # 市 | 区县 | 镇街 | 村社区 | 单位
    leader: Mapped[str | None] = mapped_column(ForeignKey("users.username"), index=True)


class GridShape(Base):
    """A grid's outline for the map: a GeoJSON Polygon or MultiPolygon (lon/lat) as checked
    and normalised by engine/grid_shapes.py. Its own table, so that reading the grid tree
    never loads outlines."""

    __tablename__ = "grid_shapes"
    grid_code: Mapped[str] = mapped_column(
        ForeignKey("grids.code", ondelete="CASCADE"), primary_key=True
    )
    geometry: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(80))


class Department(Base):
    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class User(Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"), index=True)
    email: Mapped[str | None] = mapped_column(String(255))  # optional: notifications by e-mail
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class UserRole(Base):
    __tablename__ = "user_roles"
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(80), primary_key=True)


class UserGrid(Base):
    """The grids a user works in (a grid member's own grids)."""

    __tablename__ = "user_grids"
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), primary_key=True
    )
    grid_code: Mapped[str] = mapped_column(ForeignKey("grids.code"), primary_key=True)


class ApiToken(Base):
    """A program's key to the API, for one user: only its SHA-256 is kept. It works until
    `expires_at` (config `security.api_token_days` unless given); revoking deletes the row."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    label: Mapped[str | None] = mapped_column(String(80))  # what it is for, for its owner


class WebSession(Base):
    """A signed-in browser. Its cookie carries a random token (Flask-Login's user id); the
    table keeps only the token's SHA-256, so a copy of the database opens no session. A row
    gone is a session ended: sign-out, a password change (the user's other sessions),
    deactivation, the idle timeout and the absolute lifetime (config `security`)."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(
        ForeignKey("users.username", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]  # renewed at most once a minute (web_sessions.TOUCH_EVERY)


# --- data exchange: the change feed and webhooks -----------------------------------------------


class FeedCounter(Base):
    """One row: the last change number given. A step takes the next number by updating this
    row, so the row lock orders the steps' commits and numbers become visible in order
    (engine/exchange.py says why)."""

    __tablename__ = "feed_counter"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class CaseChange(Base):
    """One step of a case (start, a completed task, timers fired, a message, a move), in the
    order the steps committed: what `GET /api/v1/hazards/feed` reads."""

    __tablename__ = "case_changes"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("instances.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(80))
    actions: Mapped[list[Any]] = mapped_column(JSON)  # [action, task or end event name] pairs
    events: Mapped[list[Any]] = mapped_column(JSON)  # the webhook events the step raised
    status: Mapped[str] = mapped_column(String(16))  # the case's status after the step


class WebhookSubscription(Base):
    """An address an administrator registered to be told of case events, signed with its
    secret (HMAC-SHA256)."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[Any]] = mapped_column(JSON)  # event names, e.g. ["dispatched"]
    secret: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """The outbox: one event for one subscription, written in the transaction of the step
    that raised it and sent later by the sweep (engine/webhooks.py)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event: Mapped[str] = mapped_column(String(40))
    instance_id: Mapped[int | None] = mapped_column(
        ForeignKey("instances.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
