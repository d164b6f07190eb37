"""The demo organisation: a data file and its loader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import grid_shapes
from ..models import Department, Grid, User
from ..org import add_user
from ..passwords import Passwords
from ..records import DemoLoadRecord
from .shapes import demo_shapes

DEMO_FILE = Path(__file__).with_name("organisation.yaml")


def read_demo(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or DEMO_FILE).read_text(encoding="utf-8"))


def load_demo(session: Session, passwords: Passwords, path: Path | None = None) -> DemoLoadRecord:
    """Load the organisation file into an empty organisation; refuses if users exist.

    Everyone has the file's one password, each with a hash of their own: one hash shared
    (one salt) would show who has the same password as whom."""
    doc = read_demo(path)
    if session.scalar(select(func.count()).select_from(User)):
        raise ValueError("the organisation is not empty; the demo loads only into an empty one")
    password = doc.get("password")

    def hashed() -> str | None:
        return passwords.hash(password) if password else None

    session.add_all(Department(code=d["code"], name=d["name"]) for d in doc["departments"])
    session.flush()
    counts = DemoLoadRecord(departments=len(doc["departments"]), grids=0, users=0)

    def add_grid(node: dict[str, Any], parent: str | None) -> None:
        leader = node.get("leader")
        if leader:
            add_user(
                session,
                leader["username"],
                roles=["leader"],
                password_hash=hashed(),
                display_name=leader.get("display_name"),
            )
            counts["users"] += 1
        session.add(
            Grid(
                code=node["code"],
                name=node["name"],
                parent_code=parent,
                level=node.get("level"),
                leader=leader["username"] if leader else None,
            )
        )
        session.flush()
        counts["grids"] += 1
        for child in node.get("children") or []:
            add_grid(child, node["code"])

    for root in doc["grids"]:
        add_grid(root, None)
    add_demo_shapes(session)
    for user in doc["users"]:
        add_user(
            session,
            user["username"],
            roles=user.get("roles") or [],
            password_hash=hashed(),
            display_name=user.get("display_name"),
            department=user.get("department"),
            grids=user.get("grids"),
        )
        counts["users"] += 1
    return counts


def add_demo_shapes(session: Session, only_missing: bool = False) -> int:
    """Generated outlines (demo/shapes.py) for the grids of the tree, checked as an upload
    is; with `only_missing`, only for grids that have none. How many were stored."""
    tree = [(code, parent) for code, parent in session.execute(select(Grid.code, Grid.parent_code))]
    have = set(grid_shapes.stored(session)) if only_missing else set()
    shapes = {
        code: grid_shapes.geometry(shape, code)
        for code, shape in demo_shapes(tree).items()
        if code not in have
    }
    grid_shapes.store(session, shapes, "system", datetime.now(UTC))
    return len(shapes)
