"""HazardFlow's engine: SpiffWorkflow with persistence, queues, timers, audit and a sandbox.

The public facade is `engine.Engine`; nothing outside this package imports SpiffWorkflow or
touches the tables.
"""

from .errors import (
    Conflict,
    DeployRefused,
    EngineError,
    Forbidden,
    FormInvalid,
    NotFound,
    Problem,
    WorkflowFailed,
)


def __getattr__(name: str):  # noqa: ANN202 - lazy so that importing errors stays cheap
    if name == "Engine":
        from .facade import Engine

        return Engine
    raise AttributeError(name)


__all__ = [
    "Conflict",
    "DeployRefused",
    "Engine",
    "EngineError",
    "Forbidden",
    "FormInvalid",
    "NotFound",
    "Problem",
    "WorkflowFailed",
]
