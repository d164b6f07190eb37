"""The records `Engine` returns, one TypedDict each: callers outside the engine get named,
typed fields instead of rows or sessions."""

from __future__ import annotations

from typing import TypedDict


class GridRecord(TypedDict):
    """A grid of the organisation's tree, with its supervising leader."""

    code: str
    name: str
    parent: str | None
    level: str | None  # 市 | 区县 | 镇街 | 村社区 | 单位
    leader: str | None  # username
    leader_name: str | None  # the leader's display name (their username when there is none)


class UserRecord(TypedDict):
    """A user as an operator lists them."""

    name: str
    display_name: str | None
    roles: list[str]
    department: str | None
    grids: list[str]
    email: str | None
    active: bool


class DemoLoadRecord(TypedDict):
    """What loading the demo organisation added."""

    departments: int
    grids: int
    users: int
