"""HazardFlow's engine: SpiffWorkflow with persistence, queues, timers, audit and a sandbox.

The one door is `engine.Engine`, with the value types its callers pass and get back, all
exported here; nothing outside this package imports SpiffWorkflow, opens a database session
or touches the tables.
"""

from .attachments import PhotoUpload
from .calendar import CHINA
from .case_list import CaseQuery
from .clock import parse_iso
from .config import Config, load_config
from .deployments import DeployResult
from .errors import (
    Conflict,
    DeployRefused,
    EngineError,
    FieldError,
    Forbidden,
    FormInvalid,
    NotFound,
    Problem,
    TaskClaimed,
    TaskDone,
    WorkflowFailed,
)
from .facade import Engine
from .org import PUBLIC, Actor
from .org_edit import LEVELS, OrgRefused
from .org_import import ImportReport, ImportRow
from .records import (
    BackupRecord,
    CaseCounts,
    CaseDetail,
    CasePage,
    CaseSection,
    CaseSummary,
    DemoAccounts,
    DepartmentRecord,
    DeploymentRecord,
    Diagram,
    DraftRecord,
    EscalatedTask,
    FilterField,
    GridRecord,
    HistoryEvent,
    Inbox,
    MapData,
    MapGrid,
    MapPoint,
    MigrationRecord,
    NotificationRecord,
    ProblemRecord,
    ProcessRecord,
    PublicStatus,
    RestoreRecord,
    SavedFilter,
    StepResult,
    TaskCounts,
    TaskDetail,
    TaskRecord,
    TimerRecord,
    TokenRecord,
    UserAccount,
    UserRecord,
    VersionRecord,
    WaitingTimer,
)
from .tasks import TaskQuery
from .texts import translate_schema
from .version_diff import FileDiff

__all__ = [
    "CHINA",
    "PUBLIC",
    "Actor",
    "BackupRecord",
    "PhotoUpload",
    "CaseCounts",
    "CaseDetail",
    "CaseSection",
    "CasePage",
    "CaseQuery",
    "CaseSummary",
    "Config",
    "Conflict",
    "DeployRefused",
    "DeployResult",
    "DemoAccounts",
    "DeploymentRecord",
    "Diagram",
    "DraftRecord",
    "Engine",
    "EngineError",
    "EscalatedTask",
    "FieldError",
    "FilterField",
    "Forbidden",
    "FormInvalid",
    "HistoryEvent",
    "Inbox",
    "MapData",
    "MapGrid",
    "MapPoint",
    "NotFound",
    "NotificationRecord",
    "Problem",
    "ProblemRecord",
    "MigrationRecord",
    "FileDiff",
    "ImportReport",
    "ImportRow",
    "LEVELS",
    "OrgRefused",
    "DepartmentRecord",
    "GridRecord",
    "ProcessRecord",
    "PublicStatus",
    "RestoreRecord",
    "SavedFilter",
    "StepResult",
    "TaskClaimed",
    "TaskCounts",
    "TaskDone",
    "TaskDetail",
    "TaskQuery",
    "TaskRecord",
    "TimerRecord",
    "TokenRecord",
    "UserAccount",
    "UserRecord",
    "VersionRecord",
    "WaitingTimer",
    "WorkflowFailed",
    "load_config",
    "parse_iso",
    "translate_schema",
]
