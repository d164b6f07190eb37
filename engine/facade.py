"""The one public entry point: `Engine`. The web UI, the CLI, the API and the tests use it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import (
    attachments,
    audit,
    cases,
    demo,
    deployments,
    drafts,
    inbox,
    org,
    queue_filters,
    sandbox,
    timers,
)
from .calendar import WorkingCalendar, parse_calendar
from .clock import Clock
from .config import Config, load_config
from .definitions import CompiledProcess, DefinitionCache, compile_sources, read_sources
from .deployments import DeployResult
from .errors import (
    Conflict,
    EngineError,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    Problem,
    WorkflowFailed,
)
from .forms import validate_submission
from .live import LiveWorkflows
from .models import Instance, OpenTask, ProcessVersion
from .newest_files import NewestDeployedFile
from .notify import Notifier, members
from .org import Actor
from .passwords import Passwords
from .records import DemoLoadRecord, GridRecord, UserRecord
from .runtime import (
    EngineScriptEngine,
    LiveCase,
    ProjectionWriter,
    case_data,
    close_if_ended,
    conflicts_as_409,
    current_session,
    deliver_message,
    find_task,
    new_workflow,
    record,
    restore,
    run_engine_steps,
    snapshot,
)
from .serialization import dump_state
from .store import Database
from .tasks import (
    TaskQuery,
    authorized_task,
    candidate_groups,
    escalated_to,
    task_counts,
    task_view,
    tasks_for,
)
from .texts import TRANSLATIONS_DIR, parse_translations

log = logging.getLogger(__name__)
T = TypeVar("T")

# Set while firing timers "as of" a given time, in this thread only.
_now_override: ContextVar[datetime | None] = ContextVar("now_override", default=None)


class Engine:
    """Deploys process files and runs their instances, persisted in one database."""

    def __init__(self, config: Config | None = None, clock: Clock | None = None) -> None:
        self.config = config or load_config()
        self.db = Database(self.config.database_url)
        self.clock = clock or Clock()
        self.passwords = Passwords(
            self.config.password_time_cost,
            self.config.password_memory_cost,
            self.config.password_parallelism,
        )
        self.calendar = self._newest_file(parse_calendar, WorkingCalendar, "calendar")
        self._translations: dict[str, NewestDeployedFile[dict[str, str]]] = {}
        self.definitions = DefinitionCache()
        self.live = LiveWorkflows()
        self._version_keys: dict[int, tuple[int, str]] = {}
        self.sandbox = sandbox.Sandbox(
            functions={
                "now": self.now,
                "add_working_days": self._add_working_days,
                "leader_of": self._leader_of,
                "iso": _iso,
            },
            time_limit=self.config.sandbox_time_limit,
        )
        self.script_engine = EngineScriptEngine(
            sandbox.SandboxEnvironment(sandbox=self.sandbox), self.now
        )

    # --- basics ------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The engine clock; while timers fire, the time they are fired for."""
        return _now_override.get() or self.clock.now()

    def upgrade(self) -> None:
        self.db.upgrade()

    def close(self) -> None:
        self.db.dispose()

    @contextmanager
    def _command(self) -> Iterator[Session]:
        with self.db.transaction() as session:
            token = current_session.set(session)
            try:
                yield session
            finally:
                current_session.reset(token)

    def _add_working_days(self, start: datetime | str, days: int) -> datetime:
        return self.working_calendar().add_working_days(start, days)

    def working_calendar(self) -> WorkingCalendar:
        """The calendar.yaml of the newest deployment that has one (re-read every minute)."""
        return self.calendar.get()

    def process_texts(self, locale: str) -> dict[str, str]:
        """The process files' texts in `locale` (translations/<locale>.yaml of the newest
        deployment that has it): text as written -> translation; empty without one."""
        texts = self._translations.get(locale)
        if texts is None:
            name = f"{TRANSLATIONS_DIR}/{locale}.yaml"
            texts = self._newest_file(parse_translations, dict, "translations", name)
            self._translations[locale] = texts
        return texts.get()

    def _newest_file(
        self, parse: Callable[[str], T], empty: Callable[[], T], kind: str, name: str | None = None
    ) -> NewestDeployedFile[T]:
        def read() -> str | None:
            return self._in_session(lambda session: deployments.newest_file(session, kind, name))

        return NewestDeployedFile(read, parse, empty)

    def _leader_of(self, grid: str, up: int = 0) -> str:
        return self._in_session(lambda session: org.leader_of(session, grid, up))

    def _in_session(self, read: Callable[[Session], T]) -> T:
        """For functions scripts call: the running command's session, else a reading one."""
        session = current_session.get()
        if session is not None:
            return read(session)
        with self.db.reading() as reading:
            return read(reading)

    # --- definitions ------------------------------------------------------------------------

    def validate(
        self, paths: Iterable[str | Path], warnings: list[Problem] | None = None
    ) -> dict[str, CompiledProcess]:
        """Compile without storing anything; raises DeployRefused naming file and element."""
        return compile_sources(read_sources(paths), warnings)

    def deploy(
        self, paths: Iterable[str | Path] | None = None, *, actor: Actor | None = None
    ) -> DeployResult:
        """Store the files as a new immutable deployment, unless identical files exist."""
        sources = read_sources(paths or [self.config.processes_dir])
        compiled = compile_sources(sources)  # raises before anything is written
        with self._command() as session:
            deployed_by = actor.username if actor else None
            result = deployments.store(session, sources, compiled, deployed_by, self.now())
        if result.created:
            self.definitions.put(result.deployment_id, compiled)
            # the deployment may bring a new calendar or new translations
            for file in (self.calendar, *self._translations.values()):
                file.expire()
        return result

    def _compiled(self, session: Session, version: ProcessVersion) -> CompiledProcess:
        cached = self.definitions.get(version.deployment_id)
        if cached is None:
            cached = compile_sources(deployments.files(session, version.deployment_id))
            self.definitions.put(version.deployment_id, cached)
        return cached[version.process_id]

    def _compiled_by_id(self, session: Session, process_version_id: int) -> CompiledProcess:
        """Versions are immutable, so which deployment a version belongs to is cached too."""
        key = self._version_keys.get(process_version_id)
        if key is None:
            version = session.get(ProcessVersion, process_version_id)
            key = self._version_keys[process_version_id] = (
                version.deployment_id,
                version.process_id,
            )
        cached = self.definitions.get(key[0])
        if cached is None:
            return self._compiled(session, session.get(ProcessVersion, process_version_id))
        return cached[key[1]]

    def processes(self) -> list[dict[str, Any]]:
        """The latest version of every deployed process, with its start form."""
        with self.db.reading() as session:
            return deployments.processes(session, self._compiled_by_id)

    # --- commands ---------------------------------------------------------------------------

    def start(self, process_id: str, data: dict[str, Any], actor: Actor) -> int:
        """Start an instance of the latest version with the start form's data."""
        with self._command() as session:
            version = deployments.latest_version(session, process_id)
            compiled = self._compiled(session, version)
            schema = compiled.form(compiled.start_form)
            accepted = validate_submission(schema, {}, data or {}, self.sandbox.evaluate)
            now = self.now()
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
            record(
                session,
                instance,
                actor,
                now,
                "start",
                title=compiled.name,
                changes={k: [None, v] for k, v in accepted.items()},
            )
            case = LiveCase(instance, compiled, workflow, before)
            self._save(session, case, actor, now, notifier)
            self._keep_after_commit(session, case)
            return instance.id

    def complete(
        self,
        task_id: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> dict[str, Any]:
        """Complete a READY task the actor may work, with its form data."""
        with self._command() as session:
            row = authorized_task(session, task_id, actor)
            case = self._checkout(session, row.instance_id)
            task = find_task(case.workflow, task_id)
            if task is None or task.state != TaskState.READY:
                raise Conflict(f"task {task_id} is no longer ready")
            accepted = validate_submission(
                case.compiled.form(row.form_key), task.data, data or {}, self.sandbox.evaluate
            )
            changes = {
                k: [task.data.get(k), v] for k, v in accepted.items() if task.data.get(k) != v
            }
            now = self.now()
            task.data.update(accepted)
            notifier = self._notifier(case.compiled)
            try:
                task.run()
            except Exception as exc:  # noqa: BLE001 - postscripts are process code
                raise WorkflowFailed(f"{row.title}: {exc}") from exc
            run_engine_steps(case.workflow, notifier)
            record(
                session,
                case.instance,
                actor,
                now,
                "complete",
                task_id=task_id,
                task_name=row.task_name,
                title=row.title,
                changes=changes,
                comment=comment or None,
            )
            self._save(session, case, actor, now, notifier)
            return {"instance_id": case.instance.id, "status": case.instance.status}

    def send_message(
        self,
        name: str,
        payload: Any,
        actor: Actor | None,
        *,
        instance_id: int,
        correlations: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Deliver message `name` to a case waiting for it (receive task, message catch or
        boundary event, event gateway). With a `messageVariable` the payload lands in that
        variable; `correlations` (key -> {property: value}) must match the case's own."""
        with self._command() as session:
            case = self._checkout(session, instance_id)
            if case.instance.status != "running":
                raise Conflict(f"case {instance_id} is {case.instance.status}")
            now = self.now()
            notifier = self._notifier(case.compiled)
            if not deliver_message(case.workflow, name, payload, correlations or {}):
                raise Conflict(f"case {instance_id} is not waiting for message '{name}'")
            run_engine_steps(case.workflow, notifier)
            changes = payload if isinstance(payload, dict) else {"payload": payload}
            record(
                session,
                case.instance,
                actor,
                now,
                "message",
                task_name=name,
                title=name,
                changes={k: [None, v] for k, v in changes.items()},
            )
            self._save(session, case, actor, now, notifier)
            return {"instance_id": instance_id, "status": case.instance.status}

    def claim(self, task_id: str, actor: Actor) -> None:
        with self._command() as session:
            row = authorized_task(session, task_id, actor)
            if row.assignee and row.assignee != actor.username:
                raise Conflict(f"task already claimed by {row.assignee}")
            row.assignee = actor.username
            self._record_on_instance(session, row, actor, "claim")

    def release(self, task_id: str, actor: Actor) -> None:
        with self._command() as session:
            row = authorized_task(session, task_id, actor)
            if row.assignee != actor.username:
                raise Forbidden("only the person who claimed the task can release it")
            row.assignee = None
            self._record_on_instance(session, row, actor, "release")

    def hand_over(
        self, task_id: str, actor: Actor, to_username: str, comment: str | None = None
    ) -> None:
        """转办: give a task to a colleague who may work it too; recorded and notified."""
        with self._command() as session:
            row = authorized_task(session, task_id, actor)
            target = org.load_actor(session, to_username)
            if not (candidate_groups(session, task_id) & target.groups):
                reason = FieldError("not_a_colleague", "该同事不在此任务的办理组内")
                raise FormInvalid("not a colleague for this task", {"to": reason})
            before, row.assignee = row.assignee, to_username
            self._record_on_instance(
                session,
                row,
                actor,
                "handover",
                changes={"assignee": [before, to_username]},
                comment=comment,
            )
            text = f"转办：{row.title}（来自 {actor.username}）"
            inbox.send(
                session, to_username, "assignment", text, self.now(), row.instance_id, task_id
            )

    def colleagues(self, task_id: str, actor: Actor) -> list[str]:
        """Who else may work the task: the people a hand-over can go to."""
        with self.db.reading() as session:
            authorized_task(session, task_id, actor)
            people = members(session, candidate_groups(session, task_id))
        return sorted(people - {actor.username})

    def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """username -> display name, for pages that list people."""
        with self.db.reading() as session:
            return org.display_names(session, usernames)

    def save_draft(self, task_id: str, actor: Actor, data: dict[str, Any]) -> None:
        """Keep a half-filled form for this person until the task is done."""
        with self._command() as session:
            authorized_task(session, task_id, actor)
            drafts.save(session, task_id, actor.username, data, self.now())

    def draft(self, task_id: str, actor: Actor) -> dict[str, Any] | None:
        with self.db.reading() as session:
            return drafts.get(session, task_id, actor.username)

    def _record_on_instance(
        self, session: Session, row: OpenTask, actor: Actor, action: str, **fields: Any
    ) -> None:
        instance = session.get(
            Instance, row.instance_id, with_for_update=True, populate_existing=True
        )
        old_version = instance.version
        record(
            session,
            instance,
            actor,
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

    def fire_due_timers(self, now: datetime | None = None, limit: int = 1000) -> int:
        """Fire every timer due at `now` (default: the clock), oldest first; returns the count.

        Each instance's due timers fire in one transaction of their own. On PostgreSQL the
        instance row is claimed with FOR UPDATE SKIP LOCKED, so any number of workers share the
        work and a timer fires exactly once; a case someone else holds is left to them.
        """
        now = now or self.now()
        fired = 0
        cursor: tuple[datetime, int] | None = None
        while True:  # batch after batch, so that a backlog clears in one sweep
            with self.db.reading() as session:
                due = timers.due_cases(session, now, limit, cursor)
            for instance_id, first_at in due:
                try:
                    fired += self._fire_instance_timers(instance_id, now)
                except EngineError as exc:
                    # One broken case must not stop the others' deadlines.
                    log.error("timers of case %s failed: %s", instance_id, exc)
                cursor = (first_at, instance_id)
            if len(due) < limit:
                return fired

    def _fire_instance_timers(self, instance_id: int, now: datetime) -> int:
        with self._command() as session:
            case = self._checkout(session, instance_id, skip_locked=True, due_at=now)
            if case is None:
                return 0  # another worker holds the case, or has just fired its timers
            due = {tid: t for tid, t in case.before.timers.items() if t[0] <= now}
            if not due:
                return 0
            token = _now_override.set(now)
            notifier = self._notifier(case.compiled)
            try:
                case.workflow.refresh_timers()
                run_engine_steps(case.workflow, notifier)
            finally:
                _now_override.reset(token)
            for tid, (at, task) in sorted(due.items(), key=lambda item: item[1][0]):
                record(
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

    # --- shared command steps ---------------------------------------------------------------

    def _checkout(
        self,
        session: Session,
        instance_id: int,
        skip_locked: bool = False,
        due_at: datetime | None = None,
    ) -> LiveCase | None:
        """The instance row (locked), its compiled process, its live workflow and what the
        projection holds for it (kept from the last command, so the tree is not walked again).

        On PostgreSQL the row is locked FOR UPDATE, so commands on one case queue instead of
        failing on the version check; with `skip_locked` a locked case returns None. SQLite
        needs no row lock: BEGIN IMMEDIATE already serializes writers.
        """
        lock = {"skip_locked": True} if skip_locked else True
        instance = session.get(Instance, instance_id, with_for_update=lock, populate_existing=True)
        if instance is None:
            if skip_locked and session.get(Instance, instance_id) is not None:
                return None
            raise NotFound(f"case {instance_id} not found")
        if due_at is not None and not timers.has_due(session, instance_id, due_at):
            return None  # fired by another worker between our list and our lock: no restore
        compiled = self._compiled_by_id(session, instance.process_version_id)
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
        notifier: Notifier | None = None,
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
        instance, workflow, compiled = case.instance, case.workflow, case.compiled
        before = case.before
        after = snapshot(workflow)
        instance.state = dump_state(workflow)
        old_data, instance.data = instance.data or {}, case_data(workflow, after)
        instance.updated_at = now
        close_if_ended(session, instance, workflow, actor, now)
        session.flush()  # the version check happens here, before the projection is touched
        writer = ProjectionWriter(
            session, instance, compiled, self._evaluate_on_task, now, notifier
        )
        writer.write(before, after)
        fields = self.config.case_filter_fields
        queue_filters.write_filter_fields(session, instance.id, fields, old_data, instance.data)
        if notifier is not None and notifier.pending:
            notifier.write(session, instance.id, now)
        case.after = after

    def _notifier(self, compiled: CompiledProcess) -> Notifier | None:
        return Notifier(compiled.notify, self._evaluate_on_task) if compiled.notify else None

    def _evaluate_on_task(self, task: Any, expression: str) -> Any:
        try:
            return self.script_engine.evaluate(task, expression)
        except Exception as exc:  # noqa: BLE001
            raise WorkflowFailed(f"{task.task_spec.bpmn_id}: '{expression}': {exc}") from exc

    # --- queries ----------------------------------------------------------------------------

    def actor(self, username: str) -> Actor:
        with self.db.reading() as session:
            return org.load_actor(session, username)

    def user_for_token(self, token: str) -> str | None:
        with self.db.reading() as session:
            return org.user_for_token(session, token)

    def tasks_for(self, actor: Actor, query: TaskQuery | None = None) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return tasks_for(session, actor, query or TaskQuery(), self.now())

    def escalated_to(self, actor: Actor) -> list[dict[str, Any]]:
        """What reached this person as a grid's supervising leader, oldest first."""
        with self.db.reading() as session:
            return escalated_to(session, actor, self.now())

    def task_counts(self, actor: Actor, query: TaskQuery | None = None) -> dict[str, Any]:
        """Tab counts; the queue tabs in the order their tasks stand in the processes."""
        with self.db.reading() as session:
            order = {
                name: position
                for version in deployments.newest_versions(session)
                for position, name in enumerate(self._compiled(session, version).human_tasks)
            }
            return task_counts(session, actor, self.now(), query, order)

    def filter_fields(self) -> list[dict[str, Any]]:
        """The queue filters: each configured case field with the title and choices its forms
        give it (grids come from the organisation)."""
        with self.db.reading() as session:
            return queue_filters.filter_fields(
                session, self.config.case_filter_fields, self._compiled_by_id
            )

    def grid_and_below(self, code: str) -> list[str]:
        """A grid's code and its descendants' (a town's filter includes its villages)."""
        with self.db.reading() as session:
            return org.grid_and_below(session, code)

    def saved_views(self, actor: Actor) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return queue_filters.saved_views(session, actor.username)

    def save_view(self, actor: Actor, name: str, query: str) -> None:
        """Save (or replace) a named queue filter for this person."""
        with self._command() as session:
            queue_filters.save_view(session, actor.username, name, query)

    def task(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """One open task with its form schema and the case data, if the actor may see it."""
        with self.db.reading() as session:
            row = authorized_task(session, task_id, actor)
            instance = session.get(Instance, row.instance_id)
            version = session.get(ProcessVersion, instance.process_version_id)
            compiled = self._compiled(session, version)
            view = task_view(row, self.now())
            view["form"] = compiled.form(row.form_key)
            view["data"] = instance.data
            return view

    # --- photos -------------------------------------------------------------------------------

    @property
    def photo_folder(self) -> Path:
        return Path(self.config.data_dir) / "photos"

    def store_photo(self, content: bytes, actor: Actor, field: str = "photos") -> str:
        """Store an uploaded image; returns its id (the content hash)."""
        with self._command() as session:
            return attachments.store_photo(
                session,
                self.photo_folder,
                content,
                actor.username,
                self.now(),
                self.config.photo_max_bytes,
                field,
            )

    def attach_photos(self, data: dict[str, Any], instance_id: int, actor: Actor) -> None:
        """Link the photos a form named to its case (only photos the actor uploaded)."""
        with self._command() as session:
            attachments.attach_photos(session, data, instance_id, actor.username)

    def photo(self, photo_id: str, actor: Actor) -> tuple[Path, str]:
        """A photo's file and content type, if the actor may see it."""
        with self.db.reading() as session:
            return attachments.photo(
                session, self.photo_folder, photo_id, actor, self.config.case_viewer_roles
            )

    # --- cases ------------------------------------------------------------------------------

    def can_view(self, actor: Actor, instance_id: int) -> bool:
        """Whether the actor may see the case (the rule is `cases.can_view`)."""
        with self.db.reading() as session:
            return cases.can_view(session, actor, instance_id, self.config.case_viewer_roles)

    def instance(self, instance_id: int) -> dict[str, Any]:
        with self.db.reading() as session:
            return cases.instance(session, instance_id, self.now())

    def history(self, instance_id: int) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return cases.history(session, instance_id)

    def instances(
        self,
        process_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
        created_by: str | None = None,
    ) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return cases.instances(session, process_id, status, limit, offset, created_by)

    def instance_summaries(self, instance_ids: list[int]) -> dict[int, dict[str, Any]]:
        """Summaries of many cases by id, for a page that lists them."""
        with self.db.reading() as session:
            return cases.summaries(session, instance_ids)

    def instance_summary(self, instance_id: int) -> dict[str, Any]:
        with self.db.reading() as session:
            return cases.with_stages(session, [cases.summary(cases.get(session, instance_id))])[0]

    def diagram(self, instance_id: int) -> dict[str, Any]:
        """The case's BPMN with what it has completed and where it is now."""
        with self.db.reading() as session:
            return cases.diagram(session, instance_id, self._compiled_by_id)

    def case_schema(self, instance_id: int) -> dict[str, Any]:
        """Every field the case's forms define, for showing its data with their titles."""
        with self.db.reading() as session:
            return cases.case_schema(session, instance_id, self._compiled_by_id)

    # --- organisation, timers, inbox, audit -------------------------------------------------

    def grids(self) -> list[GridRecord]:
        with self.db.reading() as session:
            return org.grids(session)

    def timers(self) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            return timers.waiting(session)

    def notifications(
        self, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """The actor's inbox, newest first, with the unread count."""
        with self.db.reading() as session:
            return inbox.notifications(session, actor.username, unread_only, limit, offset)

    def mark_read(self, actor: Actor, ids: list[int] | None = None) -> int:
        """Mark the actor's notifications read (all of them when `ids` is None)."""
        with self._command() as session:
            return inbox.mark_read(session, actor.username, ids, self.now())

    def verify_audit(self) -> audit.VerifyResult:
        with self.db.reading() as session:
            return audit.verify(session)

    # --- people: sign-in, users, API tokens, the demo organisation, the database -------------

    def sign_in(self, username: str, password: str) -> Actor | None:
        """The actor whose password this is; None for a wrong password or an unknown or
        inactive user. A hash from an older release or with other costs is replaced by a
        current Argon2id one; hashing runs outside any transaction, so no lock waits on it."""
        with self.db.reading() as session:
            stored = org.stored_password_hash(session, username)
        if stored is None or not self.passwords.verify(stored, password):
            return None
        if self.passwords.needs_rehash(stored):
            renewed = self.passwords.hash(password)
            with self._command() as session:
                org.replace_password_hash(session, username, stored, renewed)
        try:
            return self.actor(username)
        except NotFound:  # deactivated since the check
            return None

    def password_is(self, username: str, password: str) -> bool:
        """Whether the user's password is this one, changing nothing (the sign-in page asks
        whether the demo password still works)."""
        with self.db.reading() as session:
            stored = org.stored_password_hash(session, username)
        return stored is not None and self.passwords.verify(stored, password)

    def add_user(
        self,
        username: str,
        *,
        roles: list[str],
        password: str | None = None,
        display_name: str | None = None,
        department: str | None = None,
        grids: list[str] | None = None,
        email: str | None = None,
    ) -> None:
        """Add a user with roles (any a process lane names); without a password they cannot
        sign in (API tokens still work). ValueError names what is wrong."""
        password_hash = self.passwords.hash(password) if password else None
        with self._command() as session:
            org.add_user(
                session,
                username,
                roles=roles,
                password_hash=password_hash,
                display_name=display_name,
                department=department,
                grids=grids,
                email=email,
            )

    def users(self) -> list[UserRecord]:
        """Every user with roles, department, grids and address, by username."""
        with self.db.reading() as session:
            return org.users(session)

    def has_users(self) -> bool:
        """Whether the organisation has anyone yet (setup loads the demo only if not)."""
        with self.db.reading() as session:
            return org.has_users(session)

    def new_token(self, username: str) -> str:
        """A new API token for the user; only its hash is stored. NotFound for no such user."""
        with self._command() as session:
            return org.new_token(session, username)

    def load_demo(self, path: Path | None = None) -> DemoLoadRecord:
        """Load the demo organisation (default: config.yaml `demo_file`) into an empty one;
        ValueError if anyone exists already."""
        with self._command() as session:
            return demo.load_demo(session, self.passwords, path or self.config.demo_file)

    @property
    def is_sqlite(self) -> bool:
        return self.db.is_sqlite

    def database_label(self) -> str:
        """The database URL with its password hidden, for printing."""
        return self.db.sa.url.render_as_string(hide_password=True)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    return str(value)


__all__ = ["Engine", "EngineError", "DeployResult"]
