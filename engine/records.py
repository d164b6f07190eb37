"""What the engine returns: one TypedDict per record, the shapes the web pages and the JSON
API read. The API's documented models are generated from these (webui/api_models.py), so the
two cannot drift apart. Times are ISO 8601 strings with their offset."""

from typing import Any, Literal, NotRequired

# typing_extensions: pydantic reads these on Python 3.11 only in its TypedDict (webui/api_models.py)
from typing_extensions import TypedDict

from .wording import WordingRecord


class DraftRecord(TypedDict):
    """A half-filled task form someone saved, to pick up later."""

    data: dict[str, Any]
    saved_at: str


class BackupRecord(TypedDict):
    """What a backup archive holds (its manifest, `hazardflow-backup.json`)."""

    format: str
    created_at: str
    database: str  # sqlite | postgresql
    revision: str | None  # the schema's Alembic revision
    counts: dict[str, int]  # cases, audit_events, photos, users
    files: int  # of the data folder (photos, the installation's secret)


class RestoreRecord(TypedDict):
    """A restore and its check: what the archive held, what was found after it."""

    backup: BackupRecord
    audit_events: int
    audit_chains: int
    problems: list[str]  # counts that differ, photos missing or changed, broken chains


class StepResult(TypedDict):
    """What a step did to its case."""

    instance_id: int
    status: str  # running | completed | error


class TaskRecord(TypedDict):
    """An open human task."""

    id: str
    instance_id: int
    case_number: str  # what people call the case (YH-2026-000123); URLs use instance_id
    process_id: str
    task_name: str  # the BPMN element id
    title: str | None
    queue: str  # the queue tab it is listed under
    lane: str | None
    form_key: str | None
    assignee: str | None
    created_at: str
    due_at: str | None
    overdue: bool


class TaskDetail(TaskRecord):
    """An open task with its form and the case data it is worked on."""

    form: dict[str, Any] | None
    data: dict[str, Any]


class EscalatedTask(TaskRecord):
    """A task that reached a supervising leader, with the grid it reached them through."""

    grid: str
    grid_name: str
    grid_level: str | None
    waiting_days: int


class QueueCount(TypedDict):
    queue: str
    task_name: str
    count: int


class TaskCounts(TypedDict):
    """The queue tabs' counts."""

    all: int
    mine: int
    unclaimed: int
    overdue: int
    by_queue: list[QueueCount]


class TimerRecord(TypedDict):
    """A waiting timer of a case."""

    task_name: str
    title: str | None
    fire_at: str


class WaitingTimer(TimerRecord):
    instance_id: int


class HistoryEvent(TypedDict):
    """One event of a case's audit chain."""

    seq: int
    at: str
    actor: str | None
    actor_name: str | None
    action: str
    task_id: str | None
    task_name: str | None
    title: str | None
    changes: dict[str, Any] | None
    comment: str | None


class CaseSummary(TypedDict):
    """A case as lists show it."""

    id: int
    number: str  # what people call the case (YH-2026-000123); URLs use the id
    process_id: str
    status: str
    end_event: str | None
    created_by: str | None
    created_at: str
    updated_at: str
    summary: dict[str, Any]  # the fields people recognise a case by
    stage: NotRequired[list[str]]  # its open tasks' titles, or the end it closed at


class PublicStatus(TypedDict):
    """A case as its reporter sees it through the lookup code: where it stands, the fields
    its start form's `x-public-status` names (once they have a value) and the photos of the
    report's public photo fields; nothing else (no names, departments or comments)."""

    id: int
    number: str  # what people call the case (YH-2026-000123)
    status: str  # running | completed | error
    stage: list[str]  # its open tasks' titles, or the end event it closed at
    created_at: str
    updated_at: str
    completed_at: str | None
    schema: dict[str, Any]  # the shown fields' definitions: titles and options
    data: dict[str, Any]  # their values, in the order x-public-status names them
    photos: list[str]  # photo ids


class CaseDetail(TypedDict):
    """A case with its data, open tasks, waiting timers and whole history."""

    id: int
    number: str  # what people call the case (YH-2026-000123); URLs use the id
    process_id: str
    version: int
    status: str
    end_event: str | None
    error: str | None
    data: dict[str, Any]
    created_by: str | None
    created_at: str
    updated_at: str
    completed_at: str | None
    open_tasks: list[TaskRecord]
    timers: list[TimerRecord]
    history: list[HistoryEvent]


class CaseSection(TypedDict):
    """The fields of a case one step fills in: the step's title and a schema of its fields."""

    title: str
    schema: dict[str, Any]


class CaseCounts(TypedDict):
    """How many cases a list's reader may see with its filters and search, by status."""

    open: int  # running
    closed: int  # completed, or stopped with an error
    all: int


class CasePage(TypedDict):
    """One page of a case list: the cases, how many match in all, the counts by status."""

    items: list[CaseSummary]
    total: int  # matching cases of the status asked for, on every page
    counts: CaseCounts
    limit: int
    offset: int  # of this page (a page past the last one is the last one)


class Diagram(TypedDict):
    """A case's BPMN with the elements it completed and where it is now."""

    xml: str | None
    completed: list[str]
    active: list[str]


class VersionRecord(TypedDict):
    """A process version of a deployment, with how many cases run on it."""

    process_id: str
    version: int
    name: str | None
    cases: int
    running: int
    current: bool  # the process's newest version: new cases start on it


class MigrationRecord(TypedDict):
    """Moving one case to another version of its process: what changes, or why it may not."""

    instance_id: int
    number: str  # what people call the case (YH-2026-000123)
    from_version: int
    to_version: int
    safe: bool
    migrated: bool
    refusals: list[str]  # each naming the step (BPMN element) that stops it
    changes: list[str]  # what the case will notice
    # the same as codes with their params (element, title, where, ...), for any language
    refusal_codes: list[dict[str, Any]]
    change_codes: list[dict[str, Any]]


class DeploymentRecord(TypedDict):
    """A deployment: its files, who deployed them when, the process versions it made."""

    id: int
    content_hash: str
    deployed_at: str
    deployed_by: str | None
    comment: str | None
    files: list[str]
    versions: list[VersionRecord]


class ProblemRecord(TypedDict):
    """A finding in process files: the file, the BPMN/DMN element (or form field) it is
    about, what is wrong in plain words; an error stops a deployment, a warning does not."""

    file: str
    element: str | None
    message: str
    severity: Literal["error", "warning"]
    wording: NotRequired[WordingRecord]  # `message` with its parts apart (engine/wording.py)


class ProcessRecord(TypedDict):
    """The newest version of a deployed process."""

    process_id: str
    name: str | None
    version: int
    start_form: dict[str, Any] | None
    summary_fields: list[str]  # the fields that summarise a case in lists
    summary_schema: dict[str, Any]  # their definitions (titles, choices), to show them
    public_fields: list[str]  # the fields the public form asks for (none: no public form)
    search_fields: list[str]  # the fields a search finds its cases by, besides their number


class NotificationRecord(TypedDict):
    id: int
    kind: str  # assignment, reminder, supervision, return, ...
    text: str
    instance_id: int | None
    case_number: str | None  # the number of that case
    task_id: str | None
    created_at: str
    read: bool


class Inbox(TypedDict):
    unread: int
    items: list[NotificationRecord]


class FilterField(TypedDict):
    """A queue filter: a case field, its title and its choices (value, title)."""

    name: str
    title: str
    options: list[tuple[Any, str]]


class SavedFilter(TypedDict):
    """A queue filter a person saved under a name."""

    id: int
    name: str
    query: str


class GridRecord(TypedDict):
    """A grid of the organisation's tree, with its supervising leader."""

    code: str
    name: str
    parent: str | None
    level: str | None  # 市 | 区县 | 镇街 | 村社区 | 单位
    leader: str | None  # username
    leader_name: str | None  # the leader's display name (their username when there is none)
    leader_group: str  # the group key a task for this grid's leader is given to


class DepartmentRecord(TypedDict):
    """A department (配合部门) and how many users work in it."""

    code: str
    name: str
    users: int


class UserRecord(TypedDict):
    """A user as an operator lists them."""

    name: str
    display_name: str | None
    roles: list[str]
    department: str | None
    grids: list[str]
    email: str | None
    active: bool


class UserAccount(UserRecord):
    """A user as an administrator manages them: with their live sessions and working tokens."""

    sessions: int
    tokens: int


class TokenRecord(TypedDict):
    """An API token as its owner lists it (the token itself is shown once, when made)."""

    id: int
    label: str | None
    created_at: str
    expires_at: str


class DemoAccounts(TypedDict):
    """The demo organisation's sign-ins: its one password and its users by role."""

    password: str | None
    by_role: dict[str, list[str]]


class DemoLoadRecord(TypedDict):
    """What loading the demo organisation added."""

    departments: int
    grids: int
    users: int


class PhotoRef(TypedDict):
    """A photo a record names: its id (what forms take) and where the API serves it."""

    id: str
    url: str


class HazardRecord(TypedDict):
    """A case as a provincial system records it: `fields` are the names config.yaml's
    `records.<process>` gives, each from the case data, a photo field, the case row or its
    history (who completed a task, when it closed)."""

    id: int
    number: str
    process_id: str
    status: str
    updated_at: str
    fields: dict[str, Any]


class HazardPage(TypedDict):
    """A page of records, least recently changed first."""

    items: list[HazardRecord]
    total: int
    limit: int
    offset: int


class FeedItem(TypedDict):
    """One step of a case, in the order the steps committed, with the case as it is now."""

    at: str
    actor: str | None
    actions: list[list[str | None]]  # [action, task or end event name] of the step
    events: list[str]  # the webhook events it raised
    status: str  # the case's status after the step
    record: HazardRecord


class FeedPage(TypedDict):
    """Changes after the cursor given; `next` is the cursor to ask with next time (the same
    one when nothing new was there)."""

    items: list[FeedItem]
    next: str
    more: bool  # true: more changes are waiting, ask again at once


class WebhookRecord(TypedDict):
    """An address registered for case events (its secret is shown only when registered)."""

    id: int
    url: str
    events: list[str]
    active: bool
    created_by: str | None
    created_at: str


class WebhookCreated(WebhookRecord):
    """A new subscription with its secret: keep it, it signs every delivery."""

    secret: str


class DeliveryRecord(TypedDict):
    """One event for one subscription, and how sending it went."""

    id: int
    subscription_id: int
    url: str
    event: str
    instance_id: int | None
    case_number: str | None
    status: str  # pending | delivered | failed
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    delivered_at: str | None


class MapGrid(TypedDict):
    """A grid on the map: its open cases and those overdue, its own and those of every grid
    below it together (what the case list shows for the grid), and its outline if it has one."""

    code: str
    name: str
    parent: str | None  # None also when the reader does not see the parent
    level: str | None
    open: int
    overdue: int  # open cases with an open task past its deadline
    geometry: dict[str, Any] | None  # GeoJSON Polygon or MultiPolygon


class MapPoint(TypedDict):
    """An open case with the location its report gave."""

    id: int
    number: str | None
    lat: float
    lng: float
    grid: str | None
    overdue: bool


class MapData(TypedDict):
    """What the map of open hazards shows a reader: the grids they see (all, or those they
    lead and below), the counts, and the reported locations (the newest `points_limit`)."""

    grids: list[MapGrid]
    points: list[MapPoint]
    points_limit: int
    points_left_out: int  # open cases with a location beyond the limit
    open: int  # the open cases of the grids shown
    overdue: int
