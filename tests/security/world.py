"""A small organisation at work, for the attacks to aim at: two real cases through the real
hazard process, one with each of two departments, in two districts; every role signed in with
a real session (Flask's client, CSRF on) and holding an API token; and a fingerprint of the
whole database and photo folder to show that a refused request changed nothing."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select

from engine import Engine
from engine.models import Base, Notification
from tests.browser.people import PASSWORD
from tests.helpers import REPORT, accept, dispatch_as_proposed, open_task
from tests.web.test_pages import csrf, signed_in
from webui import public

# role -> the demo user who plays it (None: nobody signed in, no token)
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "member": "member_d1_t1_v1",  # reported case yjj, in their grid ap-d1-t1-v1
    "dept_yjj": "dept_yjj",
    "dept_zjj": "dept_zjj",
    "leader": "leader_ap_d1_t1_v1",  # leads ap-d1-t1-v1: case yjj is in their area
    "dispatcher": "dispatcher",
    "admin": "admin",
}
# Text each case carries, to find it wherever a page or an answer shows it.
UNITS = {"yjj": "南门化工仓库", "zjj": "青石村建筑工地"}


def png(color: str) -> bytes:
    data = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(data, "PNG")
    return data.getvalue()


@dataclass
class Case:
    id: int
    number: str
    unit: str
    task: str  # its open rectify task, the department's
    photo: str  # the report's photo
    dept: str


@dataclass
class World:
    app: Flask
    engine: Engine
    cases: dict[str, Case]
    bystander_token: int  # the id of an API token of a user who plays no role here
    browsers: dict[str, FlaskClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def browser(self, role: str) -> FlaskClient:
        """The role's signed-in browser (anonymous: one that never signed in)."""
        if role not in self.browsers:
            self.browsers[role] = self.fresh_browser(role)
        return self.browsers[role]

    def fresh_browser(self, role: str) -> FlaskClient:
        """A browser of its own, for a request that ends its session (sign-out). Each role
        comes from an address of its own, so that per-address limits count each apart."""
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"127.0.0.{_address(role)}"
        user = ROLES.get(role, role)  # a role, or a user who plays none here (a colleague)
        return signed_in(self.app, user, client=client) if user else client

    def token(self, role: str) -> str | None:
        user = ROLES[role]
        if user is None:
            return None
        if role not in self.tokens:
            self.tokens[role] = self.engine.new_token(user)
        return self.tokens[role]

    def api(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"127.0.1.{_address(role)}"
        token = self.token(role)
        if token:
            client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        return client

    def csrf_token(self, role: str, client: FlaskClient | None = None) -> str:
        """A valid CSRF token of the role's browser session (or of `client`, the role's): one
        per session, as Flask-WTF keeps it."""
        client = client or self.browser(role)
        if not hasattr(client, "csrf_token"):
            page = "/account/password" if ROLES.get(role, role) else "/login"
            client.csrf_token = csrf(client.get(page).text)  # type: ignore[attr-defined]
        return client.csrf_token  # type: ignore[attr-defined]

    def lookup_code(self, case: int) -> str:
        with self.app.test_request_context():
            return public.lookup_code(case)

    def photo_token(self, photo_id: str) -> str:
        with self.app.test_request_context():
            return public._photo_token(photo_id)

    def notification(self, username: str) -> int:
        with self.engine.db.reading() as session:
            found = session.scalar(
                select(Notification.id).where(Notification.username == username).limit(1)
            )
        assert found is not None, f"{username} has no notification"
        return found


def form_data(form: dict[str, Any]) -> dict[str, Any]:
    """A form to post: a value of bytes is a photo chosen for upload, a (name, bytes) pair a
    file of that name (new for each post)."""

    def value(v: Any) -> Any:
        if isinstance(v, bytes):
            return (io.BytesIO(v), "photo.png")
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], bytes):
            return (io.BytesIO(v[1]), v[0])
        return v

    return {k: value(v) for k, v in form.items()}


def _address(role: str) -> int:
    return 10 + list(ROLES).index(role) if role in ROLES else 99


def build(app: Flask, engine: Engine) -> World:
    """Case yjj: hazardous chemicals in 南门社区 (ap-d1), with 应急管理局; case zjj: building
    in 青石村 (ap-d2), with 住房和城乡建设局. Each reported with a photo, classified,
    dispatched as the table says and signed for: its rectify task waits for the department."""
    cases = {}
    for key, grid, category, reporter, color in (
        ("yjj", "ap-d1-t1-v1", "hazardous_chemicals", "member_d1_t1_v1", "red"),
        ("zjj", "ap-d2-t1-v1", "construction", "member_d2_t1_v1", "blue"),
    ):
        photo = engine.check_photo(png(color))
        data = {**REPORT, "grid": grid, "category": category, "unit": UNITS[key]}
        data["photos"] = [photo.id]
        case = engine.start("hazard_handling", data, engine.actor(reporter), [photo])
        accept(engine, case, category=category)
        dept = dispatch_as_proposed(engine, case)
        assert dept == f"dept_{key}", (key, dept)
        task = open_task(engine, dept, case, "rectify")["id"]
        cases[key] = Case(case, engine.case_number(case), UNITS[key], task, photo.id, dept)
    # a colleague for each department to hand its task over to
    engine.add_user("dept_zjj2", roles=["department"], department="zjj", password=PASSWORD)
    engine.new_token("dispatcher2")
    bystander = engine.tokens("dispatcher2")[0]["id"]
    return World(app, engine, cases, bystander)


def fingerprint(engine: Engine, sessions: bool = False) -> dict[str, str]:
    """A digest of every table's rows (the sign-in sessions only if asked: signing in makes
    them) and of the photo folder's files: equal before and after a request, the request
    changed nothing (a difference names the tables it changed)."""
    found: dict[str, str] = {}
    with engine.db.reading() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "web_sessions" and not sessions:
                continue
            # a session's last use is renewed by any request: which sessions exist is the state
            columns = [c for c in table.columns if c.name != "last_seen_at"]
            rows = sorted(repr(tuple(row)) for row in session.execute(select(*columns)).all())
            found[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    folder = Path(engine.config.data_dir) / "photos"
    files = sorted(str(p) for p in folder.rglob("*")) if folder.exists() else []
    found["photo files"] = hashlib.sha256("\n".join(files).encode()).hexdigest()
    return found
