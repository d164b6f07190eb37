"""The command pipeline: one command, one transaction, one version bump.

lock the case row -> restore (or reuse) the live workflow -> run the step -> run the engine
steps -> write state + case data + projection + filter fields + notifications + audit event
-> commit; the live workflow goes back to the cache only if the commit succeeded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import CursorResult, event, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from . import audit, case_parts, deployments, inbox, migration, org, queue_filters, timers
from .attachments import PhotoBatch, photos_in_use
from .calendar import WorkingCalendar
from .case_index import CaseIndex
from .case_list import earlier_case_fields
from .case_parts import CompletedStep
from .clock import Clock
from .definitions import CompiledProcess
from .deployments import CompiledProcesses
from .errors import (
    Conflict,
    EngineError,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    TaskClaimed,
    WorkflowFailed,
)
from .exchange import ExchangeWriter
from .forms import validate_submission
from .live import LiveWorkflows
from .migration import MigrationPlan
from .models import Instance, OpenTask, ProcessVersion
from .notify import Notifier, members
from .org import Actor
from .projection import ProjectionWriter, Snapshot, snapshot
from .records import StepResult, TaskRecord
from .sandbox import Sandbox, SandboxEnvironment
from .serialization import dump_state
from .stats_rules import StatsRules
from .stats_totals import Totals, china_day
from .store import Database
from .tasks import authorized_task, candidate_groups, open_task, task_view
from .workflow import (
    EngineScriptEngine,
    case_data,
    deliver_message,
    ending,
    failure_text,
    fire_timers,
    new_workflow,
    ready_task,
    restore,
    run_engine_steps,
    run_user_task,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# The session of the command being run, for helper functions such as leader_of().
current_session: ContextVar[Session | None] = ContextVar("current_session", default=None)
# Who reported the case the running command works on (its starter), for reporter().
current_reporter: ContextVar[str | None] = ContextVar("current_reporter", default=None)
# Set while firing timers "as of" a given time, in this thread only.
_now_override: ContextVar[datetime | None] = ContextVar("now_override", default=None)


def reporter() -> list[str]:
    """For process expressions: the group key of the person who reported (started) the case
    the running command works on, `["user:<username>"]`; `[]` outside a case command."""
    username = current_reporter.get()
    return [f"user:{username}"] if username else []


@dataclass
class LiveCase:
    """A case checked out for one command: its row, process, live workflow and projection."""

    instance: Instance
    compiled: CompiledProcess
    workflow: Any
    before: Snapshot
    after: Snapshot | None = None
    completed: CompletedStep | None = None  # the human task this step completed


@contextmanager
def conflicts_as_409(instance_id: int) -> Iterator[None]:
    try:
        yield
    except StaleDataError as exc:
        raise Conflict(
            f"case {instance_id} was changed by someone else at the same time; reload and retry"
        ) from exc
    except IntegrityError as exc:
        raise Conflict(f"case {instance_id} was changed at the same time: {exc.orig}") from exc


def _name(actor: Actor | None) -> str | None:
    return actor.username if actor else None


class Runtime:
    """Runs the commands on cases, with the caches that make them cheap: compiled processes
    per deployment and live workflows per case (checked by the row's version)."""

    exchange: ExchangeWriter | None = None  # the feed and webhook outbox (set by the facade)
    report_grid_field = "grid"  # the case field whose grid a report counts for (config)

    def __init__(
        self,
        db: Database,
        compiled: CompiledProcesses,
        clock: Clock,
        sandbox: Sandbox,
        filter_fields: Sequence[str],
        case_index: CaseIndex,
        stats: Mapping[str, StatsRules],
        calendar: Callable[[], WorkingCalendar],
    ) -> None:
        self.db = db
        self.compiled = compiled
        self.clock = clock
        self.sandbox = sandbox
        self.filter_fields = filter_fields
        self.case_index = case_index
        self.stats = stats
        self.calendar = calendar
        self.live = LiveWorkflows()
        self.script_engine = EngineScriptEngine(SandboxEnvironment(sandbox=sandbox), self.now)

    def now(self) -> datetime:
        """The engine clock; while timers fire, the time they are fired for."""
        return _now_override.get() or self.clock.now()

    @contextmanager
    def command(self) -> Iterator[Session]:
        """One writing transaction, visible to the functions scripts call (leader_of)."""
        with self.db.transaction() as session:
            token = current_session.set(session)
            reporter = current_reporter.set(None)
            try:
                yield session
            finally:
                current_reporter.reset(reporter)
                current_session.reset(token)

    def photos_in_use(self, ids: list[str]) -> set[str]:
        with self.db.reading() as session:
            return photos_in_use(session, ids)

    def in_session(self, read: Callable[[Session], T]) -> T:
        """For functions scripts call: the running command's session, else a reading one."""
        session = current_session.get()
        if session is not None:
            return read(session)
        with self.db.reading() as reading:
            return read(reading)

    # --- commands on a case ---------------------------------------------------------------

    def start(
        self, process_id: str, data: dict[str, Any], actor: Actor, photos: PhotoBatch | None = None
    ) -> int:
        photos = photos if photos is not None else PhotoBatch(Path(), ())
        with photos.kept_if_committed(self.photos_in_use), self.command() as session:
            version = deployments.latest_version(session, process_id)
            compiled = self.compiled.of_version(session, version)
            schema = compiled.form(compiled.start_form)
            accepted = validate_submission(schema, {}, data or {}, self.sandbox.evaluate)
            photos.check_named(session, schema, accepted, actor)
            now = self.now()
            current_reporter.set(actor.username)
            workflow = new_workflow(compiled, self.script_engine, accepted)
            before = snapshot(workflow)
            notifier = self._notifier(compiled)
            run_engine_steps(workflow, notifier)
            instance = Instance(
                process_id=process_id,
                process_version_id=version.id,
                status="running",
                state="{}",
                data={},
                audit_seq=0,
                audit_head=audit.GENESIS,
                created_by=actor.username,
                created_at=now,
                updated_at=now,
            )
            session.add(instance)
            session.flush()
            photos.store(session, actor.username, now, instance.id)
            changes = {k: [None, v] for k, v in accepted.items()}
            audit.record(
                session,
                instance,
                actor.username,
                now,
                "start",
                title=compiled.name,
                changes=changes,
            )
            case = LiveCase(instance, compiled, workflow, before)
            self._save(session, case, actor, now, notifier)
            self._keep_after_commit(session, case)
            return instance.id

    def complete(
        self,
        task_id: str,
        actor: Actor,
        data: dict[str, Any],
        comment: str | None,
        photos: PhotoBatch | None = None,
    ) -> StepResult:
        photos = photos if photos is not None else PhotoBatch(Path(), ())
        with photos.kept_if_committed(self.photos_in_use), self.command() as session:
            # the case locked first (as locked_task does), then the task as the command
            # before ours left it: claimed by someone else, or done
            case = self._checkout(session, authorized_task(session, task_id, actor).instance_id)
            row = authorized_task(session, task_id, actor, fresh=True)
            task = ready_task(case.workflow, task_id)
            form = case.compiled.form(row.form_key)
            accepted = validate_submission(
                form, task.data, data, self.sandbox.evaluate, case.instance.data
            )
            accepted = earlier_case_fields(session, form, accepted, case.instance, self.case_index)
            photos.check_named(session, form, accepted, actor)
            # What the step did: every submitted field (a proposal confirmed as it stood is
            # recorded too: the first dispatch's department) and what the scripts that ran
            # with it derived (the deadline it set).
            changes: dict[str, Any] = {k: [task.data.get(k), v] for k, v in accepted.items()}
            before = case.instance.data or {}
            now = self.now()
            notifier = self._notifier(case.compiled)
            run_user_task(task, accepted, row.title or row.task_name)
            case.completed = CompletedStep(row.task_name, task.data, accepted)
            run_engine_steps(case.workflow, notifier)
            case.after = snapshot(case.workflow)
            derived = case_data(case.workflow, case.after.waiting())
            submitted = list(accepted.values())
            for name, value in derived.items():
                if name in changes or before.get(name) == value:
                    continue
                if name not in before and not value:
                    continue  # a counter or flag a script starts (0, no) is not news
                if value in submitted:
                    continue  # a copy of what was submitted (the return reason) says it twice
                changes[name] = [before.get(name), value]
            audit.record(
                session,
                case.instance,
                actor.username,
                now,
                "complete",
                task_id=task_id,
                task_name=row.task_name,
                title=row.title,
                changes=changes,
                comment=comment or None,
            )
            photos.store(session, actor.username, now, case.instance.id)
            self._save(session, case, actor, now, notifier)
            return {"instance_id": case.instance.id, "status": case.instance.status}

    def send_message(
        self,
        name: str,
        payload: Any,
        actor: Actor | None,
        instance_id: int,
        correlations: dict[str, Any],
    ) -> StepResult:
        with self.command() as session:
            case = self._checkout(session, instance_id)
            if case.instance.status != "running":
                raise Conflict(f"case {instance_id} is {case.instance.status}")
            now = self.now()
            notifier = self._notifier(case.compiled)
            if not deliver_message(case.workflow, name, payload, correlations):
                raise Conflict(f"case {instance_id} is not waiting for message '{name}'")
            run_engine_steps(case.workflow, notifier)
            changes = payload if isinstance(payload, dict) else {"payload": payload}
            audit.record(
                session,
                case.instance,
                _name(actor),
                now,
                "message",
                task_name=name,
                title=name,
                changes={k: [None, v] for k, v in changes.items()},
            )
            self._save(session, case, actor, now, notifier)
            return {"instance_id": instance_id, "status": case.instance.status}

    # --- who works a task -----------------------------------------------------------------

    def locked_task(self, session: Session, task_id: str, actor: Actor) -> OpenTask:
        """The open task the actor may work, read again once its case row is locked.

        Every command on a task locks its case first and the task's rows after, as a
        completion does (its projection deletes the task): two commands on one case then
        queue instead of each holding what the other waits for (a deadlock on PostgreSQL),
        and the second judges the task as the first left it (claimed, or done)."""
        instance_id = authorized_task(session, task_id, actor).instance_id
        self._lock_case(session, instance_id)
        return authorized_task(session, task_id, actor, fresh=True)

    def _lock_case(self, session: Session, instance_id: int) -> Instance:
        instance = session.get(Instance, instance_id, with_for_update=True, populate_existing=True)
        if instance is None:
            raise NotFound(f"case {instance_id} not found")
        return instance

    def claim(self, task_id: str, actor: Actor) -> TaskRecord:
        """Take a task: a compare-and-set on its claimant, so of two people claiming it at the
        same moment exactly one wins and the other is told who has it."""
        with self.command() as session:
            row = self.locked_task(session, task_id, actor)
            self._set_assignee(session, row, expected=(None, actor.username), to=actor.username)
            self._record_on_task(session, row, actor, "claim")
            return task_view(row, self.now())

    def _set_assignee(
        self, session: Session, row: OpenTask, expected: tuple[str | None, ...], to: str | None
    ) -> None:
        """Set the task's claimant only if it is still one of `expected` (one UPDATE; on
        PostgreSQL a concurrent one waits and then finds the claimant changed)."""
        still: list[Any] = [OpenTask.assignee.is_(None)] if None in expected else []
        still += [OpenTask.assignee == name for name in expected if name is not None]
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(OpenTask)
            .where(OpenTask.id == row.id, or_(*still))
            .values(assignee=to)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            holder = session.scalar(select(OpenTask.assignee).where(OpenTask.id == row.id))
            message = f"task '{row.title}' is claimed by {holder}"
            raise TaskClaimed(message, holder or "", row.instance_id)
        set_committed_value(row, "assignee", to)

    def release(self, task_id: str, actor: Actor) -> TaskRecord:
        with self.command() as session:
            row = self.locked_task(session, task_id, actor)
            if row.assignee != actor.username:
                raise Forbidden("only the person who claimed the task can release it")
            self._set_assignee(session, row, expected=(actor.username,), to=None)
            self._record_on_task(session, row, actor, "release")
            return task_view(row, self.now())

    def give_back_claims(
        self, session: Session, username: str, by: Actor, keep: frozenset[str] = frozenset()
    ) -> int:
        """Every task `username` has claimed goes back to its groups (someone leaving), but
        those one of the groups `keep` may still work (someone moving): a release by `by` on
        each case's timeline. How many."""
        cases = session.scalars(
            select(OpenTask.instance_id).where(OpenTask.assignee == username).distinct()
        ).all()
        for instance_id in sorted(cases):
            self._lock_case(session, instance_id)  # the case first, as every command
        rows = session.scalars(
            select(OpenTask)
            .where(OpenTask.assignee == username)
            .execution_options(populate_existing=True)
        ).all()
        rows = [row for row in rows if not (keep and candidate_groups(session, row.id) & keep)]
        for row in rows:
            self._set_assignee(session, row, expected=(username,), to=None)
            changes = {"assignee": [username, None]}
            self._record_on_task(session, row, by, "release", changes=changes)
        return len(rows)

    def hand_over(self, task_id: str, actor: Actor, to_username: str, comment: str | None) -> None:
        with self.command() as session:
            row = self.locked_task(session, task_id, actor)
            target = org.load_actor(session, to_username)
            if not (candidate_groups(session, task_id) & target.groups):
                reason = FieldError("not_a_colleague", "该同事不在此任务的办理组内")
                raise FormInvalid("not a colleague for this task", {"to": reason})
            before = row.assignee
            self._set_assignee(session, row, expected=(before,), to=to_username)
            changes = {"assignee": [before, to_username]}
            self._record_on_task(session, row, actor, "handover", changes=changes, comment=comment)
            text = f"转办：{row.title}（来自 {actor.username}）"
            inbox.send(
                session, to_username, "assignment", text, self.now(), row.instance_id, task_id
            )

    def urge(self, task_id: str, actor: Actor, comment: str | None) -> int:
        """催办: remind whoever works an open task that it waits; recorded on the case and
        sent to its claimant, or to everyone who may claim it. Returns how many were told."""
        with self.command() as session:
            row = open_task(session, task_id)
            people = (
                {row.assignee}
                if row.assignee
                else members(session, candidate_groups(session, task_id))
            )
            self._record_on_task(session, row, actor, "urge", comment=comment)
            text = f"催办：{row.title}（{actor.name}）" + (f"：{comment}" if comment else "")
            for username in sorted(people - {actor.username}):
                inbox.send(
                    session, username, "reminder", text, self.now(), row.instance_id, task_id
                )
            return len(people - {actor.username})

    def _record_on_task(
        self, session: Session, row: OpenTask, actor: Actor, action: str, **fields: Any
    ) -> None:
        """An event on the task's case that leaves the workflow as it is: the case row's
        version still moves, so the cached live workflow moves with it."""
        instance = self._lock_case(session, row.instance_id)
        old_version = instance.version
        audit.record(
            session,
            instance,
            actor.username,
            self.now(),
            action,
            task_id=row.id,
            task_name=row.task_name,
            title=row.title,
            **fields,
        )
        with conflicts_as_409(instance.id):
            session.flush()
        cached = self.live.checkout(instance.id, old_version)
        if cached is not None:
            self.live.put(instance.id, instance.version, cached)

    # --- timers -----------------------------------------------------------------------------

    def fire_due_timers(self, now: datetime | None, limit: int) -> int:
        now = now or self.now()
        fired = 0
        cursor: tuple[datetime, int] | None = None
        while True:  # batch after batch, so that a backlog clears in one sweep
            with self.db.reading() as session:
                due = timers.due_cases(session, now, limit, cursor)
            for instance_id, first_at in due:
                try:
                    fired += self._fire_case_timers(instance_id, now)
                except EngineError as exc:
                    # One broken case must not stop the others' deadlines.
                    log.error("timers of case %s failed: %s", instance_id, exc)
                cursor = (first_at, instance_id)
            if len(due) < limit:
                return fired

    def _fire_case_timers(self, instance_id: int, now: datetime) -> int:
        with self.command() as session:
            case = self._lock_and_restore(session, instance_id, skip_locked=True, due_at=now)
            if case is None:
                return 0  # another worker holds the case, or has just fired its timers
            due = {tid: t for tid, t in case.before.timers.items() if t[0] <= now}
            if not due:
                return 0
            token = _now_override.set(now)
            notifier = self._notifier(case.compiled)
            try:
                fire_timers(case.workflow, notifier)
            finally:
                _now_override.reset(token)
            for tid, (at, task) in sorted(due.items(), key=lambda item: item[1][0]):
                audit.record(
                    session,
                    case.instance,
                    None,
                    now,
                    "timer",
                    task_id=tid,
                    task_name=task.task_spec.bpmn_id or task.task_spec.name,
                    title=task.task_spec.bpmn_name,
                    changes={"fire_at": [None, at.isoformat()]},
                )
            self._save(session, case, None, now, notifier)
            return len(due)

    def migrate(
        self,
        instance_id: int,
        version_id: int,
        actor: Actor | None,
        comment: str | None,
        dry_run: bool,
    ) -> MigrationPlan:
        """Move a running case to another version of its process where that is safe (see
        engine/migration.py); with `dry_run`, or when it is not safe, only the plan."""
        with self.command() as session:
            case = self._checkout(session, instance_id)
            target = session.get(ProcessVersion, version_id)
            if target is None:
                raise NotFound(f"process version {version_id} not found")
            current = session.get(ProcessVersion, case.instance.process_version_id)
            new = self.compiled.by_id(session, version_id)
            found = migration.plan(
                case.workflow,
                case.instance,
                case.compiled,
                new,
                current.version if current else 0,
                target.version,
            )
            if case.instance.status != "running":
                found.refusals.insert(0, FieldError("migration_closed", "the case is closed"))
            if version_id == case.instance.process_version_id:
                text = f"the case is on version {target.version} already"
                params = {"version": target.version}
                found.refusals.insert(0, FieldError("migration_same_version", text, params))
            if dry_run or not found.safe:
                return found
            now = self.now()
            migration.apply(case.workflow, new, found)
            case.instance.process_version_id = version_id
            case.compiled = new
            audit.record(
                session,
                case.instance,
                _name(actor),
                now,
                "migrate",
                changes={"process_version": [found.from_version, found.to_version]},
                comment=comment or None,
            )
            case.after = snapshot(case.workflow)
            self._save(session, case, actor, now, None)
            writer = ProjectionWriter(session, case.instance, new, self._evaluate_on_task, now)
            migration.rewrite_projection(session, writer, case.instance, case.workflow)
            return found

    # --- the steps every command shares -----------------------------------------------------

    def _checkout(self, session: Session, instance_id: int) -> LiveCase:
        case = self._lock_and_restore(session, instance_id)
        if case is None:  # only when skipping locked rows or due timers
            raise Conflict(f"case {instance_id} is busy")
        return case

    def _lock_and_restore(
        self,
        session: Session,
        instance_id: int,
        skip_locked: bool = False,
        due_at: datetime | None = None,
    ) -> LiveCase | None:
        """The case row (locked), its compiled process, its live workflow and what the
        projection holds for it (kept from the last command, so the tree is not walked again).

        On PostgreSQL the row is locked FOR UPDATE, so commands on one case queue instead of
        failing on the version check; with `skip_locked` a locked case returns None, and with
        `due_at` a case whose timers another worker fired meanwhile does too. SQLite needs no
        row lock: BEGIN IMMEDIATE already serializes writers.
        """
        lock: Any = {"skip_locked": True} if skip_locked else True
        instance = session.get(Instance, instance_id, with_for_update=lock, populate_existing=True)
        if instance is None:
            if skip_locked and session.get(Instance, instance_id) is not None:
                return None
            raise NotFound(f"case {instance_id} not found")
        if due_at is not None and not timers.has_due(session, instance_id, due_at):
            return None  # fired by another worker between our list and our lock: no restore
        current_reporter.set(instance.created_by)
        compiled = self.compiled.by_id(session, instance.process_version_id)
        live = self.live.checkout(instance_id, instance.version)
        if live is None:
            workflow = restore(instance, compiled, self.script_engine)
            live = (workflow, snapshot(workflow))
        case = LiveCase(instance, compiled, *live)
        self._keep_after_commit(session, case)
        return case

    def _keep_after_commit(self, session: Session, case: LiveCase) -> None:
        """The live workflow goes back to the cache only if the command commits; after a
        rollback (any error) it is dropped, so a half-run workflow is never reused."""

        @event.listens_for(session, "after_commit", once=True)
        def _put_back(_session: Session) -> None:
            self.live.put(
                case.instance.id, case.instance.version, (case.workflow, case.after or case.before)
            )

    def _save(
        self,
        session: Session,
        case: LiveCase,
        actor: Actor | None,
        now: datetime,
        notifier: Notifier | None,
    ) -> None:
        """Write the step; a race with another writer becomes the API's 409."""
        with conflicts_as_409(case.instance.id):
            self._write_step(session, case, actor, now, notifier)

    def _write_step(
        self,
        session: Session,
        case: LiveCase,
        actor: Actor | None,
        now: datetime,
        notifier: Notifier | None,
    ) -> None:
        """State, case data, status, projection, filter fields, notifications."""
        instance, workflow = case.instance, case.workflow
        after = case.after if case.after is not None else snapshot(workflow)
        try:
            instance.state = dump_state(workflow)
        except (TypeError, ValueError, RecursionError) as exc:  # e.g. a DMN output of map(...)
            raise WorkflowFailed(f"the process left data that is not plain JSON: {exc}") from None
        old_data, instance.data = instance.data or {}, case_data(workflow, after.waiting())
        instance.updated_at = now
        self._close_if_ended(session, instance, workflow, actor, now)
        self.case_index.write(session, instance, case.compiled, old_data)
        session.flush()  # the version check happens here, before the projection is touched
        writer = ProjectionWriter(
            session, instance, case.compiled, self._evaluate_on_task, now, notifier
        )
        writer.write(case.before, after)
        queue_filters.write_filter_fields(
            session, instance.id, self.filter_fields, old_data, instance.data
        )
        rules = self.stats.get(instance.process_id)
        if rules is not None:
            completed, waiting = case.completed, after.waiting()
            totals = Totals()
            self._count_report(totals, instance, old_data)
            case_parts.write(
                session, instance, rules, self.calendar, completed, waiting, now, totals
            )
            totals.write(session)
        if notifier is not None and notifier.pending:
            notifier.write(session, instance.id, now)
        case.after = after
        if self.exchange is not None:  # last: it takes the feed's number, held to the commit
            self.exchange.write(session, instance, old_data, case.before, after, _name(actor), now)

    def _count_report(self, totals: Totals, instance: Instance, old_data: dict[str, Any]) -> None:
        """The case's report in its grid's totals (moved when a step changes the grid)."""
        field = self.report_grid_field
        old, new = old_data.get(field), (instance.data or {}).get(field)
        if old == new:
            return
        day = china_day(instance.created_at)
        if isinstance(old, str) and old:
            totals.report(instance.process_id, old, day, sign=-1)
        if isinstance(new, str) and new:
            totals.report(instance.process_id, new, day)

    def _close_if_ended(
        self,
        session: Session,
        instance: Instance,
        workflow: Any,
        actor: Actor | None,
        now: datetime,
    ) -> None:
        """Close a running case that this step ended, with an audit event."""
        ended = ending(workflow) if instance.status == "running" else None
        if ended is None:
            return
        status, end_event, text = ended
        instance.status, instance.completed_at = status, now
        if status == "completed":
            instance.end_event = end_event
            audit.record(
                session, instance, _name(actor), now, "end", task_name=end_event, title=text
            )
        else:
            instance.error = text
            audit.record(session, instance, _name(actor), now, "end", comment=text)

    def _notifier(self, compiled: CompiledProcess) -> Notifier | None:
        return Notifier(compiled.notify, self._evaluate_on_task) if compiled.notify else None

    def _evaluate_on_task(self, task: Any, expression: str) -> Any:
        try:
            return self.script_engine.evaluate(task, expression)
        except Exception as exc:  # process code: any failure stops the step, nothing is saved
            spec = task.task_spec
            raise WorkflowFailed(f"{spec.bpmn_id}: {failure_text(exc)}") from exc
