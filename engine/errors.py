"""Errors the facade raises; each maps to one API status and carries a message for people."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from .records import ProblemRecord
from .wording import Text, Wording


class EngineError(Exception):
    """Base class. `code` is stable for API clients; the message is for people."""

    code = "engine_error"
    status = 400


class NotFound(EngineError):
    code, status = "not_found", 404


class Forbidden(EngineError):
    code, status = "forbidden", 403


class TaskClaimed(Forbidden):
    """The task is claimed by someone else: only they may work it now."""

    def __init__(self, message: str, assignee: str, instance_id: int) -> None:
        super().__init__(message)
        self.assignee = assignee
        self.instance_id = instance_id


class Conflict(EngineError):
    """Another command changed the instance first, or the task is no longer ready."""

    code, status = "conflict", 409


class TaskDone(Conflict):
    """The task was completed (by whoever got there first: `by`, the user name, None for the
    process itself): it cannot be worked any more."""

    def __init__(self, message: str, instance_id: int | None, by: str | None = None) -> None:
        super().__init__(message)
        self.instance_id = instance_id
        self.by = by


@dataclass(frozen=True)
class FieldError:
    """Why one field was refused: a `code` and its `params` (title, limit), so that any
    language can phrase it, and `text`, the engine's own (Chinese) message."""

    code: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text


class FormInvalid(EngineError):
    code, status = "invalid", 422

    def __init__(self, message: str, fields: Mapping[str, str | FieldError]) -> None:
        super().__init__(message)
        self.reasons = {
            name: reason if isinstance(reason, FieldError) else FieldError("text", reason)
            for name, reason in fields.items()
        }
        self.fields = {name: reason.text for name, reason in self.reasons.items()}


class WorkflowFailed(EngineError):
    """A script, condition or decision in the process failed; nothing was saved."""

    code, status = "workflow_error", 422


@dataclass(frozen=True)
class Problem:
    """One validation finding, naming the file and the BPMN/DMN element. `said` is plain text
    (SpiffWorkflow's words) or a wording the pages say in their reader's language; `message`
    is its English."""

    file: str
    element: str | None
    said: InitVar[Text]
    severity: str = "error"
    message: str = field(init=False)
    wording: Wording | None = field(init=False, compare=False)

    def __post_init__(self, said: Text) -> None:
        object.__setattr__(self, "message", str(said))
        object.__setattr__(self, "wording", said if isinstance(said, Wording) else None)

    def __str__(self) -> str:
        where = f"{self.file}: {self.element}" if self.element else self.file
        return f"{where}: {self.message}"

    def record(self) -> ProblemRecord:
        record: ProblemRecord = {
            "file": self.file,
            "element": self.element,
            "message": self.message,
            "severity": "warning" if self.severity == "warning" else "error",
        }
        if self.wording is not None:
            record["wording"] = self.wording.record()
        return record


class DeployRefused(EngineError):
    code, status = "deploy_refused", 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
