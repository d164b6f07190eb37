"""The demo organisation: a data file and its loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from ..models import Department, Grid, User
from ..org import add_user

DEMO_FILE = Path(__file__).with_name("organisation.yaml")


def read_demo(path: Path | None = None) -> dict[str, Any]:
    return yaml.safe_load((path or DEMO_FILE).read_text(encoding="utf-8"))


def load_demo(session: Session, path: Path | None = None) -> dict[str, int]:
    """Load the organisation file into an empty organisation; refuses if users exist."""
    doc = read_demo(path)
    if session.scalar(select(func.count()).select_from(User)):
        raise ValueError("the organisation is not empty; the demo loads only into an empty one")
    # One hash for the one demo password: hashing is deliberately slow, 30 times is seconds.
    password = doc.get("password")
    hashed = generate_password_hash(password) if password else None
    session.add_all(Department(code=d["code"], name=d["name"]) for d in doc["departments"])
    session.flush()
    counts = {"departments": len(doc["departments"]), "grids": 0, "users": 0}

    def add_grid(node: dict[str, Any], parent: str | None) -> None:
        leader = node.get("leader")
        if leader:
            add_user(
                session,
                leader["username"],
                roles=["leader"],
                password_hash=hashed,
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
    for user in doc["users"]:
        add_user(
            session,
            user["username"],
            roles=user.get("roles") or [],
            password_hash=hashed,
            display_name=user.get("display_name"),
            department=user.get("department"),
            grids=user.get("grids"),
        )
        counts["users"] += 1
    return counts
