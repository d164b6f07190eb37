"""The one public entry point: `Engine`. The web UI, the CLI, the API and the tests use it.

It reads as the list of what the engine offers: commands go to `runtime` (the pipeline that
runs a step), reads open a session and call one module of the read side. No SpiffWorkflow here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from . import (
    accounts,
    attachments,
    audit,
    backup,
    case_list,
    cases,
    demo,
    deployments,
    drafts,
    feed,
    grid_map,
    grid_shapes,
    inbox,
    org,
    org_checks,
    org_edit,
    org_import,
    process_files,
    public_status,
    queue_filters,
    sandbox,
    stats,
    stats_totals,
    supervision,
    sweeper,
    tasks,
    timers,
    web_sessions,
    webhooks,
)
from .attachments import PhotoUpload
from .calendar import WorkingCalendar, parse_calendar
from .case_index import CaseIndex
from .case_list import CaseQuery
from .clock import Clock, FrozenClock
from .config import Config, load_config
from .definitions import (
    CompiledProcess,
    SourceFile,
    compile_sources,
    form_of,
    read_sources,
    readable_diagram,
)
from .deployments import CompiledProcesses, DeployResult
from .errors import (
    Conflict,
    DeployRefused,
    EngineError,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    Problem,
)
from .exchange import EVENTS, ExchangeWriter
from .form_options import OrganisationOptions
from .form_options import fill as fill_options
from .hazard_records import Records
from .newest_files import NewestDeployedFile
from .org import PUBLIC, Actor
from .org_edit import OrgRefused
from .org_import import ImportReport
from .passwords import Passwords
from .records import (
    BackupRecord,
    CaseDetail,
    CasePage,
    CaseSection,
    CaseSummary,
    DeliveryRecord,
    DemoAccounts,
    DemoLoadRecord,
    DepartmentRecord,
    DeploymentRecord,
    Diagram,
    DraftRecord,
    EscalatedTask,
    FeedPage,
    FilterField,
    GridRecord,
    HazardPage,
    HazardRecord,
    HistoryEvent,
    Inbox,
    MapData,
    MigrationRecord,
    ProblemRecord,
    ProcessRecord,
    PublicStatus,
    RestoreRecord,
    SavedFilter,
    StepResult,
    TaskCounts,
    TaskDetail,
    TaskRecord,
    TokenRecord,
    UserAccount,
    UserRecord,
    WaitingTimer,
    WebhookCreated,
    WebhookRecord,
)
from .runtime import Runtime, reporter
from .store import Database, new_revision
from .tasks import TaskQuery
from .texts import TRANSLATIONS_DIR, parse_translations
from .version_diff import FileDiff, diff_files
from .visibility import Visibility

T = TypeVar("T")
ORG_CHANGES: dict[str, Callable[..., Any]] = {
    name: getattr(org_edit, name)
    for name in (
        "add_department",
        "rename_department",
        "add_grid",
        "rename_grid",
        "move_grid",
        "set_leader",
        "set_level",
        "update_grid",
    )
}


class Engine:
    """Deploys process files and runs their instances, persisted in one database."""

    def __init__(self, config: Config | None = None, clock: Clock | None = None) -> None:
        self.config = config or load_config()
        self.db = Database(self.config.database_url)
        self.form_options = OrganisationOptions(self._organisation_choices)
        self.compiled = CompiledProcesses(self.form_options)
        self.passwords = Passwords(
            self.config.password_time_cost,
            self.config.password_memory_cost,
            self.config.password_parallelism,
        )
        self.sandbox = sandbox.Sandbox(
            functions={
                "now": self.now,
                "add_working_days": self._add_working_days,
                "leader_of": self._leader_of,
                "reporter": reporter,
                "iso": _iso,
            },
            time_limit=self.config.sandbox_time_limit,
            max_size=self.config.sandbox_max_size,
        )
        # the grid and leader fields are kept indexed like the filter fields: leaders see by them
        settings = self.config
        named = (
            settings.case_grid_field,
            settings.case_leader_field,
            *self.location_names,
            settings.case_informed_field,
        )
        indexed = tuple(dict.fromkeys((*settings.case_filter_fields, *named)))
        self.case_index = CaseIndex(settings.case_number_prefix)
        self.runtime = Runtime(
            self.db,
            self.compiled,
            clock or Clock(),
            self.sandbox,
            indexed,
            self.case_index,
            settings.stats,
            self.working_calendar,
        )
        self.live = self.runtime.live  # tests empty it to restore workflows from the database
        self.visibility = Visibility(
            frozenset(self.config.case_viewer_roles),
            self.config.case_grid_field,
            self.config.case_informed_field,
        )
        self.records = Records(self.config.records)
        self.record_reader = feed.RecordReader(self.records, self.visibility, self.case_index)
        self.runtime.report_grid_field = self.config.case_grid_field
        self.runtime.exchange = ExchangeWriter(
            self.config.webhook_events, lambda session, case: self.records.of(session, [case])[0]
        )
        self.calendar = self._newest_file(parse_calendar, WorkingCalendar, "calendar")
        self._translations: dict[str, NewestDeployedFile[dict[str, str]]] = {}
        self._diagrams: dict[tuple[str, str | None, int], tuple[dict[str, str], str]] = {}

    # --- basics ------------------------------------------------------------------------------

    @property
    def location_names(self) -> tuple[str, str]:
        """The indexed names of a case's reported latitude and longitude (`location.lat`)."""
        field = self.config.case_location_field
        return f"{field}.lat", f"{field}.lng"

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def now(self) -> datetime:
        """The engine clock; while timers fire, the time they are fired for."""
        return self.runtime.now()

    def upgrade(self) -> None:
        """Create or migrate the schema to the newest revision; index what config.yaml newly
        asks to be indexed; give every case its number and search document if it has none
        yet (cases of a database from before revision 0003: their documents need the compiled
        processes, which the migration does not have), batch after batch, each its own
        transaction."""
        self.db.upgrade(number_prefix=self.config.case_number_prefix)
        with self.runtime.command() as session:
            queue_filters.index_missing(session, self.runtime.filter_fields)
        with self.db.reading() as session:
            rebuild = stats_totals.needs_rebuild(session)  # parts from before revision 0012
        if rebuild:
            self.rebuild_stats_totals()
        while True:
            with self.runtime.command() as session:
                if self.case_index.index_missing(session, self.compiled.by_id) == 0:
                    return

    def rebuild_stats_totals(self) -> int:
        """The per-day totals of the 考核 figures again from every case's parts (a database
        from before revision 0012, or cases written without steps: the generated demo)."""
        processes, grid_field = list(self.config.stats), self.config.case_grid_field
        with self.runtime.command() as session:
            return stats_totals.rebuild(session, processes, grid_field)

    @staticmethod
    def new_migration(message: str) -> Path:
        """For developers: a new Alembic revision of what engine/models.py changed."""
        return new_revision(message)

    def close(self) -> None:
        self.db.dispose()

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
            return self.runtime.in_session(
                lambda session: deployments.newest_file(session, kind, name)
            )

        return NewestDeployedFile(read, parse, empty)

    def _leader_of(self, grid: str, up: int = 0) -> str:
        return self.runtime.in_session(lambda session: org.leader_of(session, grid, up))

    # --- definitions ------------------------------------------------------------------------

    def validate(
        self, paths: Iterable[str | Path], warnings: list[Problem] | None = None
    ) -> dict[str, CompiledProcess]:
        """Compile without storing anything; raises DeployRefused naming file and element."""
        return compile_sources(read_sources(paths), warnings)

    def deploy(
        self,
        paths: Iterable[str | Path] | None = None,
        *,
        actor: Actor | None = None,
        comment: str | None = None,
    ) -> DeployResult:
        """Store the files as a new immutable deployment, unless they are what is deployed
        now; files of an earlier deployment are deployed again (a roll back)."""
        return self._deploy(read_sources(paths or [self.config.processes_dir]), actor, comment)

    def _deploy(
        self, sources: list[SourceFile], actor: Actor | None, comment: str | None
    ) -> DeployResult:
        compiled = compile_sources(sources)  # raises before anything is written
        with self.runtime.command() as session:
            deployed_by = actor.username if actor else None
            result = deployments.store(
                session, sources, compiled, deployed_by, self.now(), (comment or "").strip()
            )
        if result.created:
            self.compiled.put(result.deployment_id, compiled)
            # the deployment may bring a new calendar or new translations
            self.calendar.expire()
            for texts in self._translations.values():
                texts.expire()
        return result

    def migrate_cases(
        self,
        process_id: str,
        actor: Actor | None,
        *,
        to_version: int | None = None,
        instance_ids: Iterable[int] | None = None,
        comment: str | None = None,
        dry_run: bool = True,
        limit: int | None = None,
    ) -> list[MigrationRecord]:
        """Move running cases (the given ones, else every running case on another version)
        to a version of their process (the newest without one): each case on its own, moved
        where the spec diff says it is safe, refused with the step named where not; with
        `dry_run` (the default) only what each would change. Moving needs the actor, who is
        recorded in each case's timeline. `limit`: at most this many cases (the oldest)."""
        if actor is None and not dry_run:
            raise Forbidden("moving cases needs the administrator who moves them")
        with self.db.reading() as session:
            target = deployments.version_of(session, process_id, to_version)
            ids = (
                list(instance_ids)
                if instance_ids is not None
                else deployments.running_elsewhere(session, target)
            )[:limit]
        records: list[MigrationRecord] = []
        for instance_id in ids:
            plan = self.runtime.migrate(instance_id, target.id, actor, comment, dry_run)
            records.append(
                {
                    "instance_id": instance_id,
                    "number": plan.number,
                    "from_version": plan.from_version,
                    "to_version": plan.to_version,
                    "safe": plan.safe,
                    "migrated": plan.safe and not dry_run,
                    "refusals": [str(r) for r in plan.refusals],
                    "changes": [str(c) for c in plan.changes],
                    "refusal_codes": [{"code": r.code, **r.params} for r in plan.refusals],
                    "change_codes": [{"code": c.code, **c.params} for c in plan.changes],
                }
            )
        return records

    def draft_diff(
        self, paths: Iterable[str | Path], deployment_id: int | None = None
    ) -> list[FileDiff]:
        """What the files at `paths` change against a deployment (the newest without one):
        BPMN elements and DMN rules by id, form fields by path, other files by lines."""
        return self._diff(read_sources(paths), deployment_id)

    def upload_diff(
        self, uploads: Iterable[tuple[str, bytes]], base: int | None = None
    ) -> list[FileDiff]:
        """What uploaded files (on top of deployment `base`'s) change against the newest
        deployment, as `draft_diff`."""
        return self._diff(self._uploaded(uploads, base), None)

    def _diff(self, draft: list[SourceFile], deployment_id: int | None) -> list[FileDiff]:
        with self.db.reading() as session:
            try:
                found = deployment_id or deployments.newest_deployment(session)
            except NotFound:
                return diff_files([], draft)  # nothing deployed yet: every file is new
            deployed = deployments.files(session, found)
        return diff_files(deployed, draft)

    def _uploaded(
        self,
        uploads: Iterable[tuple[str, bytes]],
        base: int | None,
        left_out: list[Problem] | None = None,
    ) -> list[SourceFile]:
        sources = process_files.uploaded_sources(uploads, left_out)
        if base is None:
            return sources
        with self.db.reading() as session:
            return process_files.overlaid(deployments.files(session, base), sources)

    def check_files(
        self, uploads: Iterable[tuple[str, bytes]], base: int | None = None
    ) -> list[ProblemRecord]:
        """Validate uploaded files (name, content; a zip is unpacked), on top of deployment
        `base`'s files if given, storing nothing: every error and warning, by file and
        element; none means they would deploy."""
        warnings: list[Problem] = []
        try:
            sources = self._uploaded(uploads, base, warnings)
            compiled = compile_sources(sources, warnings)
        except DeployRefused as refused:
            return [p.record() for p in refused.problems]
        roles = {role for user in self.users() if user["active"] for role in user["roles"]}
        departments = {d["code"] for d in self.departments()}
        warnings += org_checks.lane_warnings(compiled, roles)
        warnings += org_checks.department_warnings(sources, compiled, departments)
        return [p.record() for p in warnings]

    def deploy_files(
        self,
        uploads: Iterable[tuple[str, bytes]],
        actor: Actor,
        comment: str | None = None,
        base: int | None = None,
    ) -> DeployResult:
        """Deploy uploaded files (on top of deployment `base`'s), all or nothing, recorded in
        the audit log with the comment; DeployRefused names every problem."""
        return self._deploy(self._uploaded(uploads, base), actor, comment)

    def redeploy(
        self, deployment_id: int, actor: Actor, comment: str | None = None
    ) -> DeployResult:
        """Deploy an earlier deployment's files again (a roll back): new versions of its
        processes, on which new cases start; running cases stay on theirs."""
        with self.db.reading() as session:
            sources = deployments.files(session, deployment_id)
        return self._deploy(sources, actor, comment)

    def deployment_zip(self, deployment_id: int) -> bytes:
        """A deployment's files as a zip, named as deployed (uploading it deploys them)."""
        with self.db.reading() as session:
            return process_files.zip_of(deployments.files(session, deployment_id))

    def deployed_file(self, deployment_id: int, name: str) -> str:
        """One file of a deployment, as deployed; NotFound when it has no file of that name."""
        with self.db.reading() as session:
            found = [s for s in deployments.files(session, deployment_id) if s.name == name]
        if not found:
            raise NotFound(f"deployment {deployment_id} has no file '{name}'")
        return found[0].content

    def draft_form(
        self, name: str, content: str, base: int | None = None
    ) -> tuple[dict[str, Any] | None, list[ProblemRecord]]:
        """A draft of the form file `name` as the task pages would render it: its `$ref`s
        inlined from deployment `base`'s other forms (`forms/_defs.json`), with the problems
        of the draft (None for the schema when it does not load). Nothing is stored."""
        draft = SourceFile(name, "form", content)
        if base is None:
            sources = [draft]
        else:
            with self.db.reading() as session:
                sources = process_files.overlaid(deployments.files(session, base), [draft])
        schema, problems = form_of(sources, name)
        if schema is not None:  # with the organisation's choices, as a task page shows it
            schema = fill_options(schema, self.form_options.current()[1])
        return schema, [p.record() for p in problems if p.file == name]

    def deployment_of(self, process_id: str, version: int) -> int:
        """The deployment a process version came with."""
        with self.db.reading() as session:
            return deployments.deployment_of(session, process_id, version)

    def export(self, folder: Path, deployment_id: int | None = None) -> tuple[int, list[str]]:
        """Write a deployment's files (default: the newest) into a folder, as deployed:
        (the deployment, process files in the folder that are not among them)."""
        with self.db.reading() as session:
            if deployment_id is None:
                deployment_id = deployments.newest_deployment(session)
            sources = deployments.files(session, deployment_id)
        return deployment_id, process_files.write_folder(sources, folder)

    def deployments(self) -> list[DeploymentRecord]:
        """Every deployment, newest first: files, versions and the cases on each."""
        with self.db.reading() as session:
            return deployments.deployment_list(session)

    def processes(self) -> list[ProcessRecord]:
        """The latest version of every deployed process, with its start form."""
        with self.db.reading() as session:
            return deployments.processes(session, self.compiled.by_id)

    # --- commands ---------------------------------------------------------------------------

    def start(
        self,
        process_id: str,
        data: dict[str, Any],
        actor: Actor,
        photos: Iterable[PhotoUpload] = (),
    ) -> int:
        """Start an instance of the latest version with the start form's data. Someone with
        grids of their own (a grid member) reports only within them. `photos` (checked by
        `check_photo`) are stored and linked to the case with it, or not at all."""
        grid = (data or {}).get(self.config.case_grid_field)
        if actor.grids and grid is not None and grid not in self.own_grids(actor):
            reason = FieldError("own_grid", "只能上报本人负责网格内的隐患")
            raise FormInvalid(
                "not one of the reporter's grids", {self.config.case_grid_field: reason}
            )
        return self.runtime.start(process_id, data, actor, self._photos(photos))

    def own_grids(self, actor: Actor) -> list[str]:
        """The grids someone is responsible for and every grid below them (none: not bound)."""
        with self.db.reading() as session:
            found: dict[str, None] = {}
            for code in actor.grids:
                found.update(dict.fromkeys(org.grid_and_below(session, code)))
            return list(found)

    def complete(
        self,
        task_id: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
        comment: str | None = None,
        photos: Iterable[PhotoUpload] = (),
    ) -> StepResult:
        """Complete a READY task the actor may work, with its form data (and its new photos,
        stored only if the step commits)."""
        photos_ = self._photos(photos)
        return self.runtime.complete(task_id, actor, data or {}, comment, photos_)

    def send_message(
        self,
        name: str,
        payload: Any,
        actor: Actor | None,
        *,
        instance_id: int,
        correlations: dict[str, Any] | None = None,
    ) -> StepResult:
        """Deliver message `name` to a case waiting for it (receive task, message catch or
        boundary event, event gateway). With a `messageVariable` the payload lands in that
        variable; `correlations` (key -> {property: value}) must match the case's own."""
        return self.runtime.send_message(name, payload, actor, instance_id, correlations or {})

    def claim(self, task_id: str, actor: Actor) -> TaskRecord:
        """Take a task so that no one else of its groups works it; the task as it is now."""
        return self.runtime.claim(task_id, actor)

    def release(self, task_id: str, actor: Actor) -> TaskRecord:
        """Give a claimed task back to its groups; the task as it is now."""
        return self.runtime.release(task_id, actor)

    def hand_over(
        self, task_id: str, actor: Actor, to_username: str, comment: str | None = None
    ) -> None:
        """转办: give a task to a colleague who may work it too; recorded and notified."""
        self.runtime.hand_over(task_id, actor, to_username, comment)

    def urge(self, task_id: str, actor: Actor, comment: str | None = None) -> int:
        """催办: remind who works an open task of a case the actor oversees (a role that sees
        every case); recorded on the case's timeline. Returns how many people were told."""
        with self.db.reading() as session:
            row = tasks.open_task(session, task_id)
            if not self.visibility.sees_all(actor):
                raise Forbidden(f"{actor.username} may not urge task '{row.title}'")
        return self.runtime.urge(task_id, actor, comment)

    def fire_due_timers(self, now: datetime | None = None, limit: int = 1000) -> int:
        """Fire every timer due at `now` (default: the clock), oldest first; returns the count.

        Each instance's due timers fire in one transaction of their own. On PostgreSQL the
        instance row is claimed with FOR UPDATE SKIP LOCKED, so any number of workers share the
        work and a timer fires exactly once; a case someone else holds is left to them.
        """
        return self.runtime.fire_due_timers(now, limit)

    def save_draft(
        self,
        task_id: str,
        actor: Actor,
        data: dict[str, Any],
        photos: Iterable[PhotoUpload] = (),
    ) -> None:
        """Keep a half-filled form (and its new photos) for this person until the task is done."""
        batch = self._photos(photos)
        with batch.kept_if_committed(self.runtime.photos_in_use), self.runtime.command() as session:
            self.runtime.locked_task(session, task_id, actor)
            drafts.save(session, task_id, actor.username, data, self.now())
            batch.store(session, actor.username, self.now(), None)

    def draft(self, task_id: str, actor: Actor) -> DraftRecord | None:
        """This person's saved draft of the task's form, if any."""
        with self.db.reading() as session:
            return drafts.get(session, task_id, actor.username)

    def colleagues(self, task_id: str, actor: Actor) -> list[str]:
        """Who else may work the task: the people a hand-over can go to."""
        with self.db.reading() as session:
            return tasks.colleagues(session, task_id, actor)

    def group_colleagues(self, actor: Actor) -> list[str]:
        """The people of the actor's department (or roles) to hand several tasks over to."""
        with self.db.reading() as session:
            return tasks.group_colleagues(session, actor)

    def display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        """username -> display name, for pages that list people."""
        with self.db.reading() as session:
            return org.display_names(session, usernames)

    # --- queries ----------------------------------------------------------------------------

    def actor(self, username: str) -> Actor:
        with self.db.reading() as session:
            return org.load_actor(session, username)

    def user_for_token(self, token: str) -> str | None:
        with self.db.reading() as session:
            return org.user_for_token(session, token)

    def tasks_for(self, actor: Actor, query: TaskQuery | None = None) -> list[TaskRecord]:
        with self.db.reading() as session:
            return tasks.tasks_for(session, actor, query or TaskQuery(), self.now())

    def escalated_to(self, actor: Actor) -> list[EscalatedTask]:
        """What reached this person as a grid's supervising leader, oldest first."""
        with self.db.reading() as session:
            return tasks.escalated_to(session, actor, self.now())

    def supervised_cases(self, actor: Actor) -> list[CaseSummary]:
        """The open cases the actor is named to supervise (挂牌督办), oldest first."""
        with self.db.reading() as session:
            ids = supervision.supervised_case_ids(session, actor, self.config.case_leader_field)
            found = cases.summaries(session, ids, self.compiled.by_id)
            return cases.with_stages(session, [found[i] for i in ids])

    def task_counts(self, actor: Actor, query: TaskQuery | None = None) -> TaskCounts:
        """Tab counts; the queue tabs in the order their tasks stand in the processes."""
        with self.db.reading() as session:
            order = {
                name: position
                for version in deployments.newest_versions(session)
                for position, name in enumerate(
                    self.compiled.of_version(session, version).human_tasks
                )
            }
            return tasks.task_counts(session, actor, self.now(), query, order)

    def filter_fields(self, actor: Actor) -> list[FilterField]:
        """The queue filters: each configured case field with the title and choices its forms
        give it (grids and leaders from the organisation), as far as the actor sees."""
        sees_all = self.visibility.sees_all(actor)
        with self.db.reading() as session:
            return queue_filters.filter_fields(
                session, self.config.case_filter_fields, self.compiled.by_id, actor, sees_all
            )

    def grid_and_below(self, code: str) -> list[str]:
        """A grid's code and its descendants' (a town's filter includes its villages)."""
        with self.db.reading() as session:
            return org.grid_and_below(session, code)

    def saved_views(self, actor: Actor) -> list[SavedFilter]:
        with self.db.reading() as session:
            return queue_filters.saved_views(session, actor.username)

    def save_view(self, actor: Actor, name: str, query: str) -> None:
        """Save (or replace) a named queue filter for this person."""
        with self.runtime.command() as session:
            queue_filters.save_view(session, actor.username, name, query)

    def task(self, task_id: str, actor: Actor) -> TaskDetail:
        """One open task with its form schema and the case data, if the actor may see it."""
        with self.db.reading() as session:
            return tasks.task_detail(session, task_id, actor, self.now(), self.compiled.by_id)

    # --- photos -------------------------------------------------------------------------------

    @property
    def photo_folder(self) -> Path:
        return Path(self.config.data_dir) / "photos"

    def check_photo(self, content: bytes, field: str = "photos", title: str = "") -> PhotoUpload:
        """An uploaded image checked (bytes, pixels from its header, structure) and kept in
        memory; FormInvalid naming the field. Nothing is written: the photo is stored by the
        command that takes it (`start`, `complete`, `save_draft`), only if that commits."""
        settings = self.config
        return attachments.check_photo(
            content, settings.photo_max_bytes, settings.photo_max_pixels, field, title
        )

    def _photos(self, uploads: Iterable[PhotoUpload]) -> attachments.PhotoBatch:
        return attachments.PhotoBatch(self.photo_folder, uploads, self.visibility)

    def store_photo(self, content: bytes, actor: Actor, field: str = "file") -> str:
        """Check and store an uploaded photo on its own (the API's upload), not yet of any
        case: a form then names it by the id returned, and the step links it to its case.
        FormInvalid naming `field` for what `check_photo` refuses."""
        upload = self.check_photo(content, field)
        batch = self._photos([upload])
        with batch.kept_if_committed(self.runtime.photos_in_use), self.runtime.command() as session:
            batch.store(session, actor.username, self.now(), None)
        return upload.id

    def attach_photos(self, data: dict[str, Any], instance_id: int, actor: Actor) -> None:
        """Link the photos a form named to its case (only photos the actor uploaded)."""
        with self.runtime.command() as session:
            attachments.attach_photos(session, data, instance_id, actor.username)

    def photo(self, photo_id: str, actor: Actor) -> tuple[Path, str]:
        """A photo's file and content type, if the actor may see it."""
        with self.db.reading() as session:
            return attachments.photo(session, self.photo_folder, photo_id, actor, self.visibility)

    # --- data exchange: records, the change feed, webhooks ---------------------------------

    def hazards(
        self,
        actor: Actor,
        *,
        status: str = "all",
        updated_since: datetime | None = None,
        process_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> HazardPage:
        """The records (config.yaml `records`) of the cases the actor may see, least recently
        changed first: by status, changed since, process; paged."""
        with self.db.reading() as session:
            return self.record_reader.page(
                session,
                actor,
                status=status,
                updated_since=updated_since,
                process_id=process_id,
                limit=limit,
                offset=offset,
            )

    def hazard(self, actor: Actor, instance_id: int) -> HazardRecord:
        """One case's record; NotFound alike for no case and one the actor may not see."""
        with self.db.reading() as session:
            return self.record_reader.one(session, actor, instance_id)

    def hazard_feed(self, actor: Actor, since: str | None, limit: int = 100) -> FeedPage:
        """The steps of the cases the actor may see after the cursor `since`, in the order
        they committed (engine/exchange.py), with the cursor to ask with next."""
        with self.db.reading() as session:
            return self.record_reader.feed(session, actor, since, limit)

    @property
    def webhook_events(self) -> list[str]:
        """The events webhooks may subscribe to: those config.yaml declares, else the five."""
        rules = self.runtime.exchange.rules if self.runtime.exchange else {}
        declared = dict.fromkeys(event for by_event in rules.values() for event in by_event)
        return list(declared) if declared else list(EVENTS)

    def add_webhook(self, url: str, events: Iterable[str], actor: Actor) -> WebhookCreated:
        """Register an http(s) address for events (administrators); its secret is in the
        answer only. Recorded on the system's audit chain."""
        if not actor.is_admin:
            raise Forbidden("only administrators register webhooks")
        with self.runtime.command() as session:
            now = self.now()
            found, secret = webhooks.add(
                session, url, events, self.webhook_events, actor.username, now
            )
            changes = {"webhook": [None, found], "url": [None, url.strip()]}
            self._audit_event(session, "system", "webhook_add", actor.username, changes=changes)
        record = next(w for w in self.webhooks() if w["id"] == found)
        return {**record, "secret": secret}

    def deactivate_webhook(self, subscription_id: int, actor: Actor) -> None:
        """Stop a webhook (administrators); recorded on the system's audit chain."""
        if not actor.is_admin:
            raise Forbidden("only administrators manage webhooks")
        with self.runtime.command() as session:
            url = webhooks.deactivate(session, subscription_id)
            changes = {"webhook": [subscription_id, None], "url": [url, None]}
            self._audit_event(session, "system", "webhook_stop", actor.username, changes=changes)

    def webhooks(self) -> list[WebhookRecord]:
        with self.db.reading() as session:
            return webhooks.subscriptions(session)

    def webhook_deliveries(
        self, subscription_id: int | None = None, limit: int = 100
    ) -> list[DeliveryRecord]:
        """The newest deliveries (of one subscription, or all) with status and attempts."""
        with self.db.reading() as session:
            return webhooks.deliveries(session, subscription_id, limit)

    def send_webhooks(self, now: datetime | None = None) -> int:
        """Send the due webhook deliveries (the sweep does this); how many were delivered."""
        return webhooks.send_due(self, now)

    # --- the public: a case's status and photos through its lookup code ----------------------

    def public_status(self, instance_id: int) -> PublicStatus:
        """What the reporter of a public report may see of the case (`x-public-status`, the
        report's public photos); the caller checks the lookup code. NotFound for no case."""
        with self.db.reading() as session:
            return public_status.status(session, instance_id, self.compiled.by_id)

    def public_photo(self, instance_id: int, photo_id: str) -> tuple[Path, str]:
        """A photo the case's public status shows; NotFound for any other."""
        shown = self.public_status(instance_id)["photos"]
        with self.db.reading() as session:
            return attachments.case_photo(session, self.photo_folder, photo_id, instance_id, shown)

    def pending_public_photo(self, photo_id: str) -> tuple[Path, str]:
        """A photo the public uploaded with a report not yet sent (the form shown again after
        an error shows it); NotFound once it belongs to a case, or if someone else's."""
        with self.db.reading() as session:
            return attachments.pending_photo(session, self.photo_folder, photo_id, PUBLIC.username)

    # --- cases ------------------------------------------------------------------------------

    def sees_all_cases(self, actor: Actor) -> bool:
        """Whether the actor's role oversees every case (config `cases.viewer_roles`)."""
        return self.visibility.sees_all(actor)

    def can_view(self, actor: Actor, instance_id: int) -> bool:
        """Whether the actor may see the case (the rule is `cases.can_view`)."""
        with self.db.reading() as session:
            return cases.can_view(session, actor, instance_id, self.visibility)

    def instance(self, instance_id: int) -> CaseDetail:
        with self.db.reading() as session:
            return cases.instance(session, instance_id, self.now())

    def task_holders(self, instance_id: int) -> dict[str, str]:
        """Open task id -> whom it waits on by name (a department, a supervising leader)."""
        with self.db.reading() as session:
            return cases.task_holders(session, instance_id)

    def history(self, instance_id: int) -> list[HistoryEvent]:
        with self.db.reading() as session:
            return cases.history(session, instance_id)

    def cases(self, actor: Actor, query: CaseQuery | None = None) -> CasePage:
        """A page of the cases the actor may see (the rule of the case page), by status,
        with the queue's filters, a search (`q`: a case number or id, or words of the
        number, the fields the start form names in `x-search`), sorted and paged, with the
        counts by status of everything that matches."""
        with self.db.reading() as session:
            return case_list.case_page(
                session,
                actor,
                query or CaseQuery(),
                self.visibility,
                self.case_index,
                self.compiled.by_id,
            )

    # --- 考核 figures ---------------------------------------------------------------------------

    def stats_scope(self, actor: Actor) -> stats.Scope | None:
        """What the actor's figures cover (engine/stats.py `scope_of`); None: no figures."""
        with self.db.reading() as session:
            return stats.scope_of(session, actor, self.visibility.sees_all(actor))

    def stats_report(self, actor: Actor, by: str, period: stats.Period) -> stats.StatsReport:
        """The figures per department or grid over the period, with the total and the trend
        per month, as far as the actor's scope goes (Forbidden: they have none)."""
        with self.db.reading() as session:
            scope = stats.scope_of(session, actor, self.visibility.sees_all(actor))
            if scope is None:
                raise Forbidden(f"{actor.username} has no figures to see")
            now, processes = self.now(), list(self.config.stats)
            grid_field = self.config.case_grid_field
            rows, total = stats.figures(session, by, period, now, scope, processes, grid_field)
            trend = stats.monthly(session, period, now, scope, processes, total)
            return stats.StatsReport(by, period, rows, total, trend)

    def find_case(self, actor: Actor, typed: str) -> int | None:
        """The case a typed case number (YH-2026-000123, also without prefix or dashes) or
        id names, if the actor may see it; None when the text is not a case number (search
        it instead); NotFound when it is one but no such case is theirs to see."""
        with self.db.reading() as session:
            is_number, found = case_list.find(
                session, actor, typed, self.visibility, self.case_index
            )
        if is_number and found is None:
            raise NotFound(f"no case {typed.strip()} that {actor.username} may see")
        return found

    def case_named(self, typed: str) -> int | None:
        """The case a typed number (or id) names, whoever asks: for the public lookup, which
        then checks the case's lookup code. None when there is no such case."""
        with self.db.reading() as session:
            return case_list.named(session, typed, self.case_index)

    def case_number(self, instance_id: int) -> str:
        """The number people know the case by (YH-2026-000123)."""
        with self.db.reading() as session:
            return cases.get(session, instance_id).number or ""

    def instances(
        self,
        process_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
        created_by: str | None = None,
    ) -> list[CaseSummary]:
        with self.db.reading() as session:
            return cases.instances(
                session, process_id, status, limit, offset, created_by, self.compiled.by_id
            )

    def instance_summaries(self, instance_ids: list[int]) -> dict[int, CaseSummary]:
        """Summaries of many cases by id, for a page that lists them."""
        with self.db.reading() as session:
            return cases.summaries(session, instance_ids, self.compiled.by_id)

    def instance_summary(self, instance_id: int) -> CaseSummary:
        with self.db.reading() as session:
            return cases.one_summary(session, instance_id, self.compiled.by_id)

    def diagram(self, instance_id: int, language: str | None = None) -> Diagram:
        """The case's BPMN with what it has completed and where it is now, its lanes by the
        names people use; with `language`, every name as the process's translations give it."""
        with self.db.reading() as session:
            found = cases.diagram(session, instance_id, self.compiled.by_id)
        if found["xml"]:
            found["xml"] = self._readable_diagram(found["xml"], language)
        return found

    def _readable_diagram(self, xml: str, language: str | None) -> str:
        """`readable_diagram`, parsed once per process version, language and translation file
        (a case page asks for its diagram on every view)."""
        table = self.process_texts(language) if language else {}
        key = (hashlib.sha256(xml.encode()).hexdigest(), language, id(table))
        kept = self._diagrams.get(key)
        if kept is None or kept[0] is not table:  # the table is kept so its id is not reused
            if len(self._diagrams) >= 64:
                self._diagrams.clear()
            kept = self._diagrams[key] = (table, readable_diagram(xml, table))
        return kept[1]

    def case_sections(self, instance_id: int) -> list[CaseSection]:
        """The case's fields grouped by the step that fills them in, in process order."""
        with self.db.reading() as session:
            return cases.case_sections(session, instance_id, self.compiled.by_id)

    def case_schema(self, instance_id: int) -> dict[str, Any]:
        """Every field the case's forms define, for showing its data with their titles."""
        with self.db.reading() as session:
            return cases.case_schema(session, instance_id, self.compiled.by_id)

    # --- organisation, timers, inbox, audit -------------------------------------------------

    def import_organisation(
        self, filename: str, content: bytes, *, confirm: bool = False
    ) -> ImportReport:
        """Departments, grids and users from an XLSX or CSV file (engine/org_import.py): every
        row added, updated or rejected with its reason; without `confirm` nothing is kept.
        ValueError names what makes the file unreadable."""
        tables = org_import.read_tables(filename, content)
        with self.runtime.command() as session:
            report = org_import.run(session, tables)
            if not confirm:
                session.rollback()  # a dry run: what it lists is what the import would do
                return report
        report["applied"] = True
        self.form_options.changed()
        return report

    def change_organisation(
        self, change: str, *args: Any, by: str = "system", **kwargs: Any
    ) -> None:
        """One change of engine/org_edit.py (add_department, rename_department, add_grid,
        rename_grid, move_grid, set_leader, set_level, update_grid), recorded on the
        organisation's audit chain; OrgRefused (a ValueError) names the wrong field."""
        edit = ORG_CHANGES.get(change)
        if edit is None:
            raise ValueError(f"unknown change '{change}'")
        with self.runtime.command() as session:
            edit(session, *args, **kwargs)
            self._audit_event(
                session, "organisation", change, by, changes={"args": list(args), **kwargs}
            )
        self.form_options.changed()

    def save_user(
        self,
        username: str,
        by: str,
        *,
        roles: list[str],
        display_name: str | None = None,
        department: str | None = None,
        grids: list[str] | None = None,
        email: str | None = None,
    ) -> str:
        """Add a user (without a password: an administrator sets one) or change one's name,
        roles, department, grids and e-mail; the tasks they had claimed and may no longer
        work go back to their groups. Recorded on the user's audit chain. "added" or
        "updated"; OrgRefused names the wrong field."""
        with self.runtime.command() as session:
            action = org_edit.save_user(
                session,
                username,
                roles=roles,
                display_name=display_name,
                department=department,
                grids=grids,
                email=email,
            )
            actor = org.load_actor(session, username)
            by_actor = Actor(by, frozenset({f"user:{by}"}), frozenset())
            self.runtime.give_back_claims(session, username, by_actor, keep=actor.groups)
            changes = {"roles": roles, "department": department, "grids": grids or []}
            self._audit_event(session, f"user:{username}", action, by, changes=changes)
            return action

    def _organisation_choices(self) -> dict[str, list[dict[str, str]]]:
        """What forms with `x-options` offer (engine/form_options.py)."""
        departments = [{"const": d["code"], "title": d["name"]} for d in self.departments()]
        return {"departments": departments}

    def departments(self) -> list[DepartmentRecord]:
        with self.db.reading() as session:
            return org.departments(session)

    def grids(self) -> list[GridRecord]:
        with self.db.reading() as session:
            return org.grids(session)

    # --- the map: grid outlines and the open hazards by grid ---------------------------------

    def may_see_map(self, actor: Actor) -> bool:
        """Who oversees every case, and supervising leaders (their area)."""
        return self.visibility.sees_all(actor) or any(
            group.startswith("leader:") for group in actor.groups
        )

    def map_data(self, actor: Actor) -> MapData:
        """The grids the actor sees (all, or the ones they lead and below) with their open and
        overdue cases, rolled up the tree, their outlines and the reported locations;
        Forbidden for a reader who is neither a case viewer nor a leader."""
        if not self.may_see_map(actor):
            raise Forbidden(f"{actor.username} may not see the map")
        with self.db.reading() as session:
            return grid_map.map_data(
                session, actor, self.visibility, self.now(), self.location_names
            )

    def grid_shape(self, code: str) -> dict[str, Any] | None:
        """A grid's stored outline (GeoJSON geometry), None if it has none."""
        with self.db.reading() as session:
            return grid_shapes.stored(session, [code]).get(code)

    def upload_grid_shapes(
        self, content: str | bytes, by: str, grid: str | None = None
    ) -> list[str]:
        """Store outlines from GeoJSON: with `grid`, that grid's (a geometry, a Feature or a
        FeatureCollection of its parts); without, a FeatureCollection whose features name their
        grid in `properties.code`. Checked whole first: OrgRefused names the problem and where,
        and nothing is stored. Recorded on the organisation's audit chain (the grids, the
        positions and a hash of each outline). The codes of the grids changed."""
        doc = grid_shapes.parse(content)  # outside the transaction: a large file holds no lock
        with self.runtime.command() as session:
            if grid is not None:
                if grid not in grid_shapes.known_codes(session):
                    raise OrgRefused(
                        "code", "org_unknown_grid", f"unknown grid '{grid}'", value=grid
                    )
                shapes = {grid: grid_shapes.one_shape(doc)}
            else:
                shapes = grid_shapes.shapes_by_code(doc, grid_shapes.known_codes(session))
            grid_shapes.check_total(shapes)
            grid_shapes.store(session, shapes, by, self.now())
            changes = {
                "grids": {
                    c: {"positions": s.positions, "sha256": s.digest} for c, s in shapes.items()
                }
            }
            self._audit_event(session, "organisation", "set_grid_shape", by, changes=changes)
        return sorted(shapes)

    def remove_grid_shape(self, code: str, by: str) -> bool:
        """Forget a grid's outline (recorded on the organisation's audit chain); whether it
        had one."""
        with self.runtime.command() as session:
            removed = grid_shapes.remove(session, code)
            if removed:
                self._audit_event(
                    session, "organisation", "remove_grid_shape", by, changes={"grid": code}
                )
            return removed

    def add_demo_shapes(self) -> int:
        """Generated outlines for every grid without one (an organisation loaded before the
        map existed); how many."""
        with self.runtime.command() as session:
            return demo.add_demo_shapes(session, only_missing=True)

    def timers(self) -> list[WaitingTimer]:
        with self.db.reading() as session:
            return timers.waiting(session)

    def notifications(
        self, actor: Actor, unread_only: bool = False, limit: int = 50, offset: int = 0
    ) -> Inbox:
        """The actor's inbox, newest first, with the unread count."""
        with self.db.reading() as session:
            return inbox.notifications(session, actor.username, unread_only, limit, offset)

    def unread_count(self, actor: Actor, cap: int = 100) -> int:
        """How many of the actor's notifications are unread, up to `cap`."""
        with self.db.reading() as session:
            return inbox.unread_count(session, actor.username, cap)

    def mark_read(self, actor: Actor, ids: list[int] | None = None) -> int:
        """Mark the actor's notifications read (all of them when `ids` is None)."""
        with self.runtime.command() as session:
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
            with self.runtime.command() as session:
                org.replace_password_hash(session, username, stored, renewed)
        try:
            return self.actor(username)
        except NotFound:  # deactivated since the check
            return None

    def change_password(
        self, username: str, current: str, new: str, keep_session: str | None = None
    ) -> None:
        """A person sets their own password: `current` must be theirs and `new` at least
        `security.password_min_length` characters, else FormInvalid names the field
        (`current_password`: wrong_password; `new_password`: password_too_short) and nothing
        changes. Recorded on the user's audit chain (`user:<name>`), without any hash. Hashing runs
        outside the transaction, as in `sign_in`; a password changed meanwhile elsewhere
        wins (Conflict). Every session of the user but `keep_session` (the token of the one
        they changed it in) ends with it, in the same transaction."""
        refused: dict[str, str | FieldError] = {}
        if len(new) < self.config.password_min_length:
            limit = self.config.password_min_length
            text = f"新密码至少需要 {limit} 个字符"
            refused["new_password"] = FieldError("password_too_short", text, {"limit": limit})
        with self.db.reading() as session:
            stored = org.stored_password_hash(session, username)
        if stored is None or not self.passwords.verify(stored, current):
            refused["current_password"] = FieldError("wrong_password", "当前密码不正确")
        if refused:
            raise FormInvalid("password not changed", refused)
        assert stored is not None  # verified above
        renewed = self.passwords.hash(new)
        with self.runtime.command() as session:
            if not org.replace_password_hash(session, username, stored, renewed):
                raise Conflict("the password was changed meanwhile")
            web_sessions.end_all(session, username, keep=keep_session)
            self._user_event(session, username, "password_changed", username)

    def _user_event(
        self, session: Any, username: str, action: str, by: str, comment: str | None = None
    ) -> None:
        """An event on the user's audit chain (`user:<username>`)."""
        self._audit_event(session, f"user:{username}", action, by, comment=comment)

    def _audit_event(
        self,
        session: Any,
        chain: str,
        action: str,
        by: str,
        *,
        comment: str | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """An event on an audit chain that is not a case's (a user's, the organisation's)."""
        head = audit.append(
            session,
            chain,
            audit.chain_head(session, chain),
            at=self.now(),
            actor=by,
            action=action,
            comment=comment,
            changes=changes,
        )
        audit.store_head(session, chain, head)

    # --- web sessions: one row per signed-in browser ----------------------------------------

    def _session_limits(self) -> tuple[timedelta, timedelta]:
        return (
            timedelta(minutes=self.config.session_idle_minutes),
            timedelta(hours=self.config.session_lifetime_hours),
        )

    def open_session(self, username: str) -> str:
        """A new server-side session for someone who just signed in; returns its token (the
        cookie carries it, the database only its SHA-256)."""
        with self.runtime.command() as session:
            return web_sessions.open_session(session, username, self.now(), *self._session_limits())

    def session_actor(self, token: str) -> Actor | None:
        """The person whose live session this token is; None for an ended, idle or expired
        session or a deactivated user. One primary-key lookup besides the actor's own reads;
        a write at most once a minute per session (its idle time), or to drop it."""
        now = self.now()
        actor: Actor | None = None
        with self.db.reading() as session:
            username, write = web_sessions.check(session, token, now, *self._session_limits())
            if username is not None:
                try:
                    actor = org.load_actor(session, username)
                except NotFound:
                    write = "end"
        if write:
            with self.runtime.command() as session:
                if write == "end":
                    web_sessions.end(session, token)
                else:
                    web_sessions.touch(session, token, now)
        return actor

    def end_session(self, token: str) -> None:
        """Sign-out: the session is gone, so a copy of its cookie opens nothing."""
        with self.runtime.command() as session:
            web_sessions.end(session, token)

    def deactivate_user(self, username: str, by: str = "system") -> int:
        """The user can no longer sign in: every session and API token of theirs ends now,
        and every task they had claimed goes back to its groups (recorded on its case, which
        keeps everything). Recorded on their audit chain. NotFound for no such user. Returns
        how many claimed tasks went back."""
        with self.runtime.command() as session:
            org.deactivate(session, username)
            web_sessions.end_all(session, username)
            org.delete_tokens(session, username)
            by_actor = Actor(by, frozenset({f"user:{by}"}), frozenset())
            released = self.runtime.give_back_claims(session, username, by_actor)
            self._user_event(session, username, "deactivated", by)
            return released

    def reactivate_user(self, username: str, by: str) -> None:
        """A deactivated user may sign in again (their API tokens stay revoked). Recorded
        on their audit chain. NotFound for no such user."""
        with self.runtime.command() as session:
            accounts.reactivate(session, username)
            self._user_event(session, username, "reactivated", by)

    def reset_password(self, username: str, new: str, by: str) -> None:
        """An administrator sets a user's password: at least `security.password_min_length`
        characters (else FormInvalid on `new_password`); every session of the user ends.
        Recorded on the user's audit chain (no hash). NotFound for no such user."""
        if len(new) < self.config.password_min_length:
            limit = self.config.password_min_length
            text = f"新密码至少需要 {limit} 个字符"
            reason = FieldError("password_too_short", text, {"limit": limit})
            raise FormInvalid("password not set", {"new_password": reason})
        renewed = self.passwords.hash(new)  # outside the transaction, as in sign_in
        with self.runtime.command() as session:
            org.set_password_hash(session, username, renewed)
            web_sessions.end_all(session, username)
            self._user_event(session, username, "password_reset", by)

    def user_accounts(self) -> list[UserAccount]:
        """Every user, active or not, with their live sessions and working API tokens."""
        with self.db.reading() as session:
            return accounts.accounts(session, self.now(), *self._session_limits())

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
        with self.runtime.command() as session:
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

    def new_token(self, username: str, days: int | None = None, label: str | None = None) -> str:
        """A new API token for the user, working `days` days (default `security.
        api_token_days`); only its hash is stored. NotFound for no such user, ValueError for
        a lifetime out of 1..3650 days. Recorded on the user's audit chain."""
        with self.runtime.command() as session:
            lifetime = self.config.api_token_days if days is None else days
            token = org.new_token(session, username, lifetime, label)
            self._user_event(session, username, "token_created", username, label)
            return token

    def tokens(self, username: str) -> list[TokenRecord]:
        """The user's API tokens that still work (not revoked, not expired), newest first."""
        with self.db.reading() as session:
            return org.tokens(session, username)

    def revoke_token(self, username: str, token_id: int, by: str | None = None) -> None:
        """Revoke one of the user's tokens at once; NotFound if it is not theirs. Recorded
        on the user's audit chain."""
        with self.runtime.command() as session:
            org.revoke_token(session, username, token_id)
            self._user_event(session, username, "token_revoked", by or username, str(token_id))

    def load_demo(self, path: Path | None = None) -> DemoLoadRecord:
        """Load the demo organisation (default: config.yaml `demo_file`) into an empty one;
        ValueError if anyone exists already."""
        with self.runtime.command() as session:
            loaded = demo.load_demo(session, self.passwords, path or self.config.demo_file)
        self.form_options.changed()
        return loaded

    def generate_demo_cases(
        self,
        cases: int,
        seed: int = 2026,
        now: datetime | None = None,
        categories: Sequence[str] | None = None,
        photos: bool = True,
    ) -> dict[str, int]:
        """Add `cases` demo cases over the year before `now` (engine/demo_cases.py); the
        engine must run on a FrozenClock, which the templates' real cases set as they go.
        `photos`: each copy its own photo files."""
        from . import demo_cases

        if not isinstance(self.clock, FrozenClock):
            raise ValueError("generating demo cases needs an engine on a FrozenClock")
        made = demo_cases.generate(self, cases, seed, now, categories, photos)
        self.rebuild_stats_totals()  # the copies were written as rows, not as steps
        return made

    def demo_accounts(self) -> DemoAccounts | None:
        """The demo organisation file's password and users by role (None without the file),
        for telling a newcomer how to sign in."""
        try:
            doc = demo.read_demo(self.config.demo_file)
        except OSError:
            return None
        by_role: dict[str, list[str]] = {}
        for user in doc.get("users") or []:
            for role in user.get("roles") or []:
                by_role.setdefault(role, []).append(user["username"])
        return {"password": doc.get("password"), "by_role": by_role}

    # --- timer sweeps -----------------------------------------------------------------------

    def start_timer_sweeps(self) -> None:
        """Sweep due timers (and mail) every interval in a background thread of this process."""
        sweeper.start_background(self)

    def run_timer_worker(self) -> None:
        """Sweep due timers (and mail) every interval, in this thread, until stopped."""
        sweeper.run_blocking(self)

    # --- backup and restore ------------------------------------------------------------------

    def backup(self, archive: Path) -> BackupRecord:
        """The database and the data folder (photos, the installation's secret) in one
        archive, taken while the server runs; what it holds. PostgreSQL needs pg_dump."""
        return backup.backup(self.db, Path(self.config.data_dir), archive, self.now())

    def restore(self, archive: Path, force: bool = False) -> RestoreRecord:
        """Restore a backup here (refused when the database or the data folder is not
        empty, unless `force` replaces them), bring the schema to this release, and check
        the result: the counts of the backup, every photo's bytes, every audit chain."""
        manifest = backup.restore(self.db, Path(self.config.data_dir), archive, force)
        self.live.clear()
        self.upgrade()
        with self.db.reading() as session:
            problems = backup.check_restored(session, self.photo_folder, manifest)
            checked = audit.verify(session)
        return {
            "backup": manifest,
            "audit_events": checked.events,
            "audit_chains": checked.chains,
            "problems": problems + checked.problems,
        }

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


__all__ = ["DeployResult", "Engine", "EngineError"]
