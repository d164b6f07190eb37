"""Errors the facade raises; each maps to one API status and carries a message for people."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base class. `code` is stable for API clients; the message is for people."""

    code = "engine_error"
    status = 400


class NotFound(EngineError):
    code, status = "not_found", 404


class Forbidden(EngineError):
    code, status = "forbidden", 403


class Conflict(EngineError):
    """Another command changed the instance first, or the task is no longer ready."""

    code, status = "conflict", 409


class FormInvalid(EngineError):
    code, status = "invalid", 422

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class WorkflowFailed(EngineError):
    """A script, condition or decision in the process failed; nothing was saved."""

    code, status = "workflow_error", 422


@dataclass(frozen=True)
class Problem:
    """One validation finding, naming the file and the BPMN/DMN element."""

    file: str
    element: str | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}: {self.element}" if self.element else self.file
        return f"{where}: {self.message}"


class DeployRefused(EngineError):
    code, status = "deploy_refused", 422

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))
