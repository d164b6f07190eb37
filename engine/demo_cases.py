"""Realistic volumes of demo cases (`hazardflow demo generate --cases N`), for trying the
statistics, the map and the lists on a year of work, and for `make bench`.

Running every case through the engine would take hours at 100,000 cases, so the generator
runs one real case per category and outcome through the engine (on time, late, handed back,
reworked, extended, invalid; open at rectification, open and overdue under supervision, and
open at a dispatcher's step: to classify, an extension to decide, to verify), with the clock set
in the past, and then copies them: each copy is the same case in another village grid (its
reported place inside that village's outline, when every village has one), about another
unit, moved by whole weeks (so that working days stay working days) across the year
before now (the open ones across the last weeks). A copy is a complete case, written as the
engine writes one: its workflow state, data, search document and filter fields, its audit
chain (hashed anew), its department parts, and for an open case its open tasks, candidates
and timers with task ids of its own, so it can be opened, worked and counted like any
other, its photos (a small image of its own for each) shown where its template's are. What a
copy does not get: inbox notifications and webhook deliveries."""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from . import audit, case_numbers, deployments, grid_shapes, org
from .attachments import photo_path
from .calendar import CHINA
from .case_index import case_document
from .clock import FrozenClock
from .models import (
    Attachment,
    AuditEvent,
    CaseChange,
    CasePart,
    CaseSearch,
    FeedCounter,
    Grid,
    Instance,
    InstanceField,
    OpenTask,
    PartEscalation,
    TaskCandidate,
    Timer,
    User,
    UserGrid,
    UserRole,
)
from .queue_filters import field_value
from .visibility import indexed_value

# outcome -> share of the cases; the open ones are the last weeks' work
OUTCOMES = {
    "on_time": 0.48,
    "late": 0.12,
    "returned": 0.05,
    "reworked": 0.06,
    "extended": 0.05,
    "invalid": 0.10,
    "open": 0.07,
    "open_overdue": 0.03,
    # open at a dispatcher's step: the lead department's queue has work in it too
    "reported": 0.015,
    "extension_asked": 0.01,
    "to_verify": 0.015,
}
OPEN = ("open", "open_overdue", "reported", "extension_asked", "to_verify")
FRESH = ("reported", "extension_asked", "to_verify")  # the dispatchers' work of the last days
UNITS = (
    "南门化工仓库", "河口建材市场", "东关加油站", "城北物流园", "新华小学", "老街农贸市场",
    "滨江建筑工地", "金桥五金厂", "顺发汽修厂", "春晖养老院", "明珠KTV", "兴旺液化气站",
    "渔港码头", "光明电子厂", "阳光幼儿园", "红星烟花店", "永安纺织厂", "振华矿业",
)  # fmt: skip
PROBLEMS = (
    "消防通道被杂物堵塞", "灭火器过期未检", "危化品混存未隔离", "电线私拉乱接",
    "脚手架未设防护网", "安全出口锁闭", "特种设备未年检", "作业人员未持证上岗",
)  # fmt: skip
BATCH = 500
ISO = re.compile(r'"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?)?"')
EPOCH = re.compile(r'("last_state_change": )(\d+\.\d+)')
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TABLES = {
    name: cast(Table, model.__table__)
    for name, model in (
        ("instances", Instance),
        ("audit", AuditEvent),
        ("parts", CasePart),
        ("escalations", PartEscalation),
        ("fields", InstanceField),
        ("search", CaseSearch),
        ("tasks", OpenTask),
        ("candidates", TaskCandidate),
        ("timers", Timer),
        ("changes", CaseChange),
        ("photos", Attachment),
    )
}


@dataclass
class Template:
    """A case run through the engine, read back as the rows a copy is made of."""

    outcome: str
    instance: dict[str, Any]
    events: list[dict[str, Any]]
    parts: list[dict[str, Any]]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    timers: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)  # its feed rows
    escalations: list[dict[str, Any]] = field(default_factory=list)
    photos: list[dict[str, Any]] = field(default_factory=list)  # its attachments' rows
    texts: dict[str, Pieces] = field(default_factory=dict)

    def compile(self, names: re.Pattern[str]) -> None:
        """Cut the texts a copy rewrites once: state, data, each event's changes, comment."""
        self.texts["state"] = Pieces(self.instance["state"], names)
        self.texts["data"] = Pieces(_dumps(self.instance["data"]), names)
        for n, event in enumerate(self.events):
            self.texts[f"changes{n}"] = Pieces(_dumps(event["changes"]), names)
            self.texts[f"comment{n}"] = Pieces(event["comment"] or "", names)


@dataclass(frozen=True)
class Village:
    """A village grid, its grids up to the root, their leaders, and its grid member."""

    chain: tuple[str, ...]  # the grid first, the root last
    leaders: tuple[str | None, ...]
    member: str


def villages(session: Session) -> list[Village]:
    grids = {g.code: g for g in session.scalars(select(Grid))}
    members = session.execute(
        select(UserGrid.grid_code, func.min(User.username))
        .join(User, User.username == UserGrid.username)
        .join(UserRole, UserRole.username == User.username)
        .where(UserRole.role == "grid_member", User.active.is_(True))
        .group_by(UserGrid.grid_code)
    )
    found = []
    for code, member in members:
        chain, current = [], grids.get(code)
        while current is not None:
            chain.append(current)
            current = grids.get(current.parent_code) if current.parent_code else None
        found.append(Village(tuple(g.code for g in chain), tuple(g.leader for g in chain), member))
    return sorted(found, key=lambda v: v.chain)


def village_boxes(session: Session, codes: Iterable[str]) -> dict[str, tuple[float, ...]]:
    """grid code -> (west, south, east, north) of its stored outline, for the villages that
    have one."""
    boxes: dict[str, tuple[float, ...]] = {}
    for code, shape in grid_shapes.stored(session, list(codes)).items():
        ring = shape["coordinates"][0] if shape["type"] == "Polygon" else shape["coordinates"][0][0]
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        boxes[code] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def place_in(box: tuple[float, ...], rng: random.Random) -> tuple[str, str]:
    """A point well inside the box, as the literals (lat, lng) a copy's texts get."""
    west, south, east, north = box
    lng = west + (east - west) * rng.uniform(0.15, 0.85)
    lat = south + (north - south) * rng.uniform(0.15, 0.85)
    return f"{lat:.7f}", f"{lng:.7f}"


def monday_before(moment: datetime, weeks: int) -> datetime:
    """09:00 China time on the Monday `weeks` weeks before the week of `moment`."""
    local = moment.astimezone(CHINA).date()
    day = local - timedelta(days=local.weekday(), weeks=weeks)
    return datetime.combine(day, time(9), CHINA).astimezone(UTC)


def working_morning_before(moment: datetime, days: int) -> datetime:
    """09:00 China time `days` days before `moment`, on the Friday before if that is a
    weekend."""
    day = moment.astimezone(CHINA).date() - timedelta(days=days)
    day -= timedelta(days=max(0, day.weekday() - 4))
    return datetime.combine(day, time(9), CHINA).astimezone(UTC)


class Pieces:
    """A template's text cut once at what a copy changes (dates and times, task ids, grid
    codes and people, unit and description), so that each copy is a join, not a search."""

    def __init__(self, text: str, names: re.Pattern[str]) -> None:
        pattern = re.compile(f"{ISO.pattern}|{EPOCH.pattern}|{UUID.pattern}|{names.pattern}")
        self.parts: list[str] = []
        self.kinds: list[str] = []  # "" for text kept as it is
        at = 0
        for match in pattern.finditer(text):
            self._add("", text[at : match.start()])
            if match.group(1) is not None:
                self._add("time", match.group(0))
            elif match.group(3) is not None:
                self._add("", match.group(3))
                self._add("epoch", match.group(4))
            elif UUID.fullmatch(match.group(0)):
                self._add("uuid", match.group(0))
            else:
                self._add("name", match.group(0))
            at = match.end()
        self._add("", text[at:])

    def _add(self, kind: str, part: str) -> None:
        if part:
            self.parts.append(part)
            self.kinds.append(kind)


class Rewrite:
    """One copy's changes to a template's texts: grids and their people, unit and
    description, every date and time moved by `shift`, and (open cases) new task ids."""

    def __init__(self, names: Mapping[str, str], shift: timedelta, new_ids: bool) -> None:
        self.shift = shift
        self.new_ids = new_ids
        self.ids: dict[str, str] = {}
        self.names = dict(names)
        self._times: dict[str, str] = {}

    def _time(self, quoted: str) -> str:
        moved = self._times.get(quoted)
        if moved is None:
            match = ISO.fullmatch(quoted)
            assert match is not None
            day, rest = match.group(1), match.group(2)
            if not rest:  # a date alone: whole weeks keep the weekday
                moved = f'"{(datetime.fromisoformat(day) + self.shift).date().isoformat()}"'
            else:
                moment = datetime.fromisoformat((day + rest).replace("Z", "+00:00"))
                moved = '"' + (moment + self.shift).isoformat() + '"'
            self._times[quoted] = moved
        return moved

    def render(self, pieces: Pieces) -> str:
        out = []
        for kind, part in zip(pieces.kinds, pieces.parts, strict=True):
            if kind == "":
                out.append(part)
            elif kind == "time":
                out.append(self._time(part))
            elif kind == "epoch":
                out.append(repr(float(part) + self.shift.total_seconds()))
            elif kind == "uuid":
                out.append(self.task_id(part) or part)
            else:
                out.append(self.names.get(part, part))
        return "".join(out)

    def task_id(self, old: str | None) -> str | None:
        if old is None or not self.new_ids:
            return old
        return self.ids.setdefault(old, str(uuid.uuid4()))

    def at(self, value: datetime | None) -> datetime | None:
        return None if value is None else value + self.shift


def _row(obj: Any, table: Table) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in table.c}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def names_pattern(keys: Iterable[str]) -> re.Pattern[str]:
    """Whole codes and names only: ap-d1 is not replaced inside ap-d1-t1."""
    alternatives = "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def read_template(session: Session, instance_id: int, outcome: str) -> Template:
    instance = session.get(Instance, instance_id)
    assert instance is not None
    t = TABLES
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance_id).order_by(AuditEvent.seq)
    )
    parts = session.scalars(select(CasePart).where(CasePart.instance_id == instance_id))
    tasks = list(session.scalars(select(OpenTask).where(OpenTask.instance_id == instance_id)))
    candidates = session.scalars(
        select(TaskCandidate).where(TaskCandidate.task_id.in_([task.id for task in tasks]))
    )
    timers = session.scalars(select(Timer).where(Timer.instance_id == instance_id))
    changes = session.scalars(
        select(CaseChange).where(CaseChange.instance_id == instance_id).order_by(CaseChange.seq)
    )
    escalations = session.scalars(
        select(PartEscalation).where(PartEscalation.instance_id == instance_id)
    )
    photos = session.scalars(select(Attachment).where(Attachment.instance_id == instance_id))
    return Template(
        outcome,
        _row(instance, t["instances"]),
        [_row(e, t["audit"]) for e in events],
        [_row(p, t["parts"]) for p in parts],
        [_row(task, t["tasks"]) for task in tasks],
        [_row(c, t["candidates"]) for c in candidates],
        [_row(timer, t["timers"]) for timer in timers],
        [_row(change, t["changes"]) for change in changes],
        [_row(e, t["escalations"]) for e in escalations],
        [_row(p, t["photos"]) for p in photos],
    )


@dataclass
class Copy:
    """The rows of one generated case."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )


def copy_case(
    template: Template,
    new_id: int,
    rewrite: Rewrite,
    prefix: str,
    search_fields: tuple[str, ...],
    filter_fields: tuple[str, ...],
    out: Copy,
) -> None:
    source = template.instance
    data = json.loads(rewrite.render(template.texts["data"]))
    created_at = rewrite.at(source["created_at"])
    assert created_at is not None
    number = case_numbers.number(prefix, new_id, created_at)
    chain = f"instance:{new_id}"
    head = (0, audit.GENESIS)
    for n, event in enumerate(template.events):
        changes = json.loads(rewrite.render(template.texts[f"changes{n}"]))
        row = {
            "chain": chain,
            "seq": event["seq"],
            "instance_id": new_id,
            "at": rewrite.at(event["at"]),
            "actor": rewrite.names.get(event["actor"], event["actor"]),
            "action": event["action"],
            "task_id": rewrite.task_id(event["task_id"]),
            "task_name": event["task_name"],
            "title": event["title"],
            "changes": changes,
            "comment": rewrite.render(template.texts[f"comment{n}"]) or event["comment"],
            "prev_hash": head[1],
        }
        row["hash"] = audit.digest(head[1], SimpleNamespace(**row))  # type: ignore[arg-type]
        head = (row["seq"], row["hash"])
        out.rows["audit"].append(row)
    out.rows["instances"].append(
        {
            **source,
            "id": new_id,
            "number": number,
            "state": rewrite.render(template.texts["state"]),
            "data": data,
            "version": 1,
            "audit_seq": head[0],
            "audit_head": head[1],
            "created_by": rewrite.names.get(source["created_by"], source["created_by"]),
            "created_at": created_at,
            "updated_at": rewrite.at(source["updated_at"]),
            "completed_at": rewrite.at(source["completed_at"]),
        }
    )
    out.rows["search"].append(
        {"instance_id": new_id, "document": case_document(number, data, search_fields)}
    )
    values = {name: field_value(data, name) for name in filter_fields}
    out.rows["fields"] += [
        {"instance_id": new_id, "name": name, "value": indexed_value(value)}
        for name, value in values.items()
        if value not in (None, "", [])
    ]
    for part in template.parts:
        moved = {k: rewrite.at(v) if isinstance(v, datetime) else v for k, v in part.items()}
        moved.update(instance_id=new_id, grid=data.get("grid", part["grid"]))
        out.rows["parts"].append(moved)
    for e in template.escalations:
        at = rewrite.at(e["at"])
        out.rows["escalations"].append(
            {**e, "instance_id": new_id, "at": at, "grid": data.get("grid", e["grid"])}
        )
    for task in template.tasks:
        out.rows["tasks"].append(
            {
                **task,
                "id": rewrite.task_id(task["id"]),
                "instance_id": new_id,
                "created_at": rewrite.at(task["created_at"]),
                "due_at": rewrite.at(task["due_at"]),
            }
        )
    for candidate in template.candidates:
        group = rewrite.names.get(candidate["group_key"], candidate["group_key"])
        out.rows["candidates"].append(
            {"task_id": rewrite.task_id(candidate["task_id"]), "group_key": group}
        )
    for change in template.changes:
        out.rows["changes"].append(
            {
                **change,
                "instance_id": new_id,
                "at": rewrite.at(change["at"]),
                "actor": rewrite.names.get(change["actor"], change["actor"]),
            }
        )
    for timer in template.timers:
        out.rows["timers"].append(
            {
                "instance_id": new_id,
                "task_id": rewrite.task_id(timer["task_id"]),
                "task_name": timer["task_name"],
                "title": timer["title"],
                "fire_at": rewrite.at(timer["fire_at"]),
            }
        )


def names_between(template: Village, target: Village) -> dict[str, str]:
    """The grid codes, leaders and grid member of the template's village, as the target's
    (the same village: every name as it is; the keys are what a template is cut at)."""
    names: dict[str, str] = {}
    for old, new in zip(template.chain, target.chain, strict=False):
        names[old] = new
        names[org.leader_group(old)] = org.leader_group(new)
    for was, now in zip(template.leaders, target.leaders, strict=False):
        if was and now:
            names[was] = now
    names[template.member] = target.member
    names[f"user:{template.member}"] = f"user:{target.member}"
    return names


def write_batch(session: Session, batch: Copy) -> None:
    conn = session.connection()
    for name in (
        "instances",
        "audit",
        "parts",
        "escalations",
        "fields",
        "search",
        "tasks",
        "candidates",
        "photos",
    ):
        if batch.rows[name]:
            conn.execute(insert(TABLES[name]), batch.rows[name])
    if batch.rows["timers"]:
        conn.execute(insert(TABLES["timers"]), batch.rows["timers"])
    changes = batch.rows["changes"]
    if changes:  # numbers for the feed, in a block, as a step takes its one (engine/exchange)
        last = conn.execute(
            update(FeedCounter)
            .where(FeedCounter.id == 1)
            .values(value=FeedCounter.value + len(changes))
            .returning(FeedCounter.value)
        ).scalar_one()
        for seq, change in enumerate(changes, start=last - len(changes) + 1):
            change["seq"] = seq
        conn.execute(insert(TABLES["changes"]), changes)


def reset_id_sequence(session: Session) -> None:
    """PostgreSQL: the ids given here are taken; the next case gets the one after."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('instances', 'id'),"
                " (SELECT max(id) FROM instances))"
            )
        )


def plan(
    cases: int, templates: Mapping[tuple[str, str], Template], rng: random.Random
) -> Iterator[tuple[Template, timedelta]]:
    """Which template each copy is of, and how far it moves: the year's cases by whole weeks
    forward, the open ones by weeks back (the dispatchers' fresh work by a day or less)."""
    outcomes = list(OUTCOMES)
    weights = [OUTCOMES[o] for o in outcomes]
    categories = sorted({category for category, _outcome in templates})
    for _ in range(cases):
        outcome = rng.choices(outcomes, weights)[0]
        template = templates[(rng.choice(categories), outcome)]
        if outcome in FRESH:  # a day back or not, later in that working day
            yield template, timedelta(days=-rng.randrange(0, 2), minutes=rng.randrange(0, 420))
        elif outcome in OPEN:
            yield template, -timedelta(weeks=rng.randrange(0, 2))
        else:
            yield template, timedelta(weeks=rng.randrange(0, 50))


REPORT_PHOTO_SEEDS = 10_000_000  # above any case's (a rectification's: its id; a copy's: id × 8)


def _photo(seed: int) -> bytes:
    """A small PNG of its own for each case and photo (photos are stored by content: the seed
    in its first pixel keeps it apart from every other)."""
    import io

    from PIL import Image

    image = Image.new("RGB", (64, 48), (40 + seed * 7 % 200, 120, 90))
    image.putpixel((0, 0), (seed % 256, seed // 256 % 256, seed // 65536 % 256))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def copy_photos(
    template: Template, new_id: int, shift: timedelta, folder: Path, out: Copy
) -> dict[str, str]:
    """Photos of its own for a copy, in place of its template's, written to the photo folder;
    the template's photo id -> the copy's, for the copy's texts."""
    ids: dict[str, str] = {}
    for n, row in enumerate(template.photos):
        content = _photo(new_id * 8 + n)
        photo_id = hashlib.sha256(content).hexdigest()
        path = photo_path(folder, photo_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        moved = row["uploaded_at"] + shift
        out.rows["photos"].append(
            {
                **row,
                "id": photo_id,
                "size": len(content),
                "uploaded_at": moved,
                "instance_id": new_id,
            }
        )
        ids[row["id"]] = photo_id
    return ids


# --- the templates: real cases through the engine --------------------------------------------


class Lives:
    """Runs each outcome's case through the engine, with its clock set as the case goes."""

    def __init__(
        self,
        engine: Any,
        clock: FrozenClock,
        village: Village,
        departments: list[str],
        place: tuple[float, float] | None = None,
    ) -> None:
        self.engine, self.clock, self.village = engine, clock, village
        self.departments = departments
        self.place = place  # (lat, lng) the reports give: each copy moves it to its village
        self.reports = 0

    def act(
        self,
        username: str,
        case: int,
        task_name: str,
        data: dict[str, Any],
        photos: list[Any] | None = None,
    ) -> None:
        from .tasks import TaskQuery

        actor = self.engine.actor(username)
        query = TaskQuery(instance_id=case, task_name=task_name)
        task = self.engine.tasks_for(actor, query)[0]
        self.engine.complete(task["id"], actor, data, None, photos or ())

    def later(self, **delta: float) -> None:
        self.clock.advance(**delta)

    def reported(self, category: str, classified: dict[str, Any] | None) -> int:
        """A report of the model village's unit, classified by the dispatcher as given (None:
        waiting to be)."""
        data: dict[str, Any] = {
            "grid": self.village.chain[0],
            "unit": UNITS[0],
            "category": category,
            "description": PROBLEMS[0],
        }
        if self.place is not None:
            data["location"] = {"lat": self.place[0], "lng": self.place[1]}
        self.reports += 1  # the report's photo apart from every rectification's and copy's
        photo = self.engine.check_photo(_photo(REPORT_PHOTO_SEEDS + self.reports), "photos")
        data["photos"] = [photo.id]
        member = self.engine.actor(self.village.member)
        case: int = self.engine.start("hazard_handling", data, member, [photo])
        if classified is not None:
            self.act("dispatcher", case, "classify", {"category": category, **classified})
        return case

    def dispatched(
        self, case: int, department: str, days: int | None = None, reason: str | None = None
    ) -> None:
        data = self.engine.instance(case)["data"]
        sent: dict[str, Any] = {
            "department": department,
            "deadline_days": days or data["deadline_days"],
        }
        if reason:
            sent["override_reason"] = reason
        self.act("dispatcher", case, "dispatch", sent)
        self.act(f"dept_{department}", case, "receive", {"decision": "accept"})

    def rectified(self, case: int, department: str) -> None:
        done_on = self.clock.now().astimezone(CHINA).date().isoformat()
        photo = self.engine.check_photo(_photo(case), "rectify_photos")
        report = {
            "action": "report",
            "measures": "已按要求整改到位",
            "responsible_person": "安全负责人",
            "funds": 3000,
            "rectify_photos": [photo.id],
            "completed_on": done_on,
        }
        self.act(f"dept_{department}", case, "rectify", report, [photo])

    def verified(self, case: int, passed: bool = True) -> None:
        opinion = "现场核查，整改到位" if passed else "整改不到位，返工"
        self.act("dispatcher", case, "verify", {"passed": passed, "verify_opinion": opinion})

    def extension_asked(self, case: int, department: str) -> None:
        new_day = (self.clock.now() + timedelta(weeks=6)).astimezone(CHINA).date()
        extend = {
            "action": "extend",
            "new_deadline": new_day.isoformat(),
            "extension_reason": "设备到货延迟",
        }
        self.act(f"dept_{department}", case, "rectify", extend)

    def run(self, category: str, outcome: str) -> int:
        if outcome == "invalid":
            return self.reported(category, {"outcome": "invalid", "reason": "现场无此隐患"})
        if outcome == "reported":
            return self.reported(category, None)
        grade = "major" if outcome == "open_overdue" else "general"
        case = self.reported(category, {"outcome": "accept", "grade": grade})
        department = self.engine.instance(case)["data"]["department"]
        if outcome == "returned":
            self.act(
                "dispatcher", case, "dispatch", {"department": department, "deadline_days": 10}
            )
            self.act(
                f"dept_{department}",
                case,
                "receive",
                {"decision": "return", "reason": "不属本部门职责"},
            )
            department = next(d for d in self.departments if d != department)
            self.dispatched(case, department, 10, reason="按职责改派")
        elif outcome in ("late", "open_overdue"):
            self.dispatched(case, department, 3)
        else:
            self.dispatched(case, department)
        if outcome == "open":
            return case
        if outcome == "extension_asked":
            self.extension_asked(case, department)
            return case
        if outcome == "open_overdue":
            for days in (4, 2, 2):  # overdue, then supervision climbs
                self.later(days=days)
                self.engine.fire_due_timers()
            return case
        if outcome == "extended":
            self.extension_asked(case, department)
            self.act("dispatcher", case, "approve_extension", {"approved": True})
            self.later(weeks=4)
        elif outcome == "late":
            self.later(days=4, hours=2)
            self.engine.fire_due_timers()
        else:
            self.later(days=2)
        self.rectified(case, department)
        if outcome == "to_verify":
            return case
        if outcome == "reworked":
            self.verified(case, passed=False)
            self.later(days=1)
            self.rectified(case, department)
        self.later(hours=3)
        self.verified(case)
        return case


def generate(
    engine: Any,
    cases: int,
    seed: int = 2026,
    now: datetime | None = None,
    categories: Sequence[str] | None = None,
    photos: bool = True,
) -> dict[str, int]:
    """Write `cases` demo cases (at least one per category and outcome, run through the
    engine; the rest copies of them) over the year before `now` into a database with the
    demo organisation and the hazard process deployed. `engine` must run on a FrozenClock
    (the templates' time), which is left at `now`. `photos`: each copy its own photo files
    (a benchmark of queries over 100,000 cases does without 175,000 files)."""
    clock: FrozenClock = engine.clock
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    with engine.db.reading() as session:
        places = villages(session)
        departments = [d["code"] for d in org.departments(session)]
    if not places:
        raise ValueError("no village grid has a grid member: load the demo organisation first")
    with engine.db.reading() as session:
        version = deployments.latest_version(session, "hazard_handling")
        compiled = engine.compiled.of_version(session, version)
    known = [
        o["const"] for o in compiled.form(compiled.start_form)["properties"]["category"]["oneOf"]
    ]
    categories = [c for c in known if categories is None or c in categories]
    model = places[0]
    with engine.db.reading() as session:
        boxes = village_boxes(session, [v.chain[0] for v in places])
    located = len(boxes) == len(places)  # every village has an outline to place reports in
    # the templates' place: literals a copy finds in its texts and moves, as it does names
    place, spots = None, random.Random(seed + 1)  # places drawn apart: the rest stays as it was
    if located:
        lat, lng = place_in(boxes[model.chain[0]], spots)
        place = (float(lat), float(lng))
    lives = Lives(engine, clock, model, departments, place)
    made: dict[tuple[str, str], int] = {}
    for outcome in OUTCOMES:
        for category in categories:
            if outcome in FRESH:  # to verify: rectified two days after its report
                start = working_morning_before(now, 3)
            else:
                start = monday_before(now, 1 if outcome in OPEN else 52)
            clock.set(start + timedelta(minutes=len(made)))
            made[(category, outcome)] = lives.run(category, outcome)
    with engine.db.reading() as session:
        templates = {key: read_template(session, cid, key[1]) for key, cid in made.items()}
    quoted = (json.dumps(UNITS[0], ensure_ascii=False), json.dumps(PROBLEMS[0], ensure_ascii=False))
    model_place = tuple(json.dumps(v) for v in place) if place else ()
    photo_ids = [photo["id"] for template in templates.values() for photo in template.photos]
    pattern = names_pattern([*names_between(model, model), *quoted, *model_place, *photo_ids])
    for template in templates.values():
        template.compile(pattern)
    remaining = max(0, cases - len(templates))
    prefix = engine.config.case_number_prefix
    filter_fields = engine.runtime.filter_fields
    written = 0
    with engine.db.transaction() as session:
        next_id = (session.scalar(select(func.max(Instance.id))) or 0) + 1
    batch = Copy()
    for template, shift in plan(remaining, templates, rng):
        target = rng.choice(places)
        names = names_between(model, target)
        unit, problem = rng.choice(UNITS), rng.choice(PROBLEMS)
        names[quoted[0]] = json.dumps(unit, ensure_ascii=False)
        names[quoted[1]] = json.dumps(problem, ensure_ascii=False)
        if located:
            names.update(zip(model_place, place_in(boxes[target.chain[0]], spots), strict=True))
        if photos:
            names.update(copy_photos(template, next_id, shift, engine.photo_folder, batch))
        rewrite = Rewrite(names, shift, new_ids=template.outcome in OPEN)
        copy_case(template, next_id, rewrite, prefix, compiled.search_fields, filter_fields, batch)
        next_id += 1
        written += 1
        if written % BATCH == 0:
            with engine.db.transaction() as session:
                write_batch(session, batch)
            batch = Copy()
    with engine.db.transaction() as session:
        write_batch(session, batch)
        reset_id_sequence(session)
    fired = fire_past_timers(engine, now)
    clock.set(now)
    return {"cases": written + len(templates), "templates": len(templates), "timers": fired}


def fire_past_timers(engine: Any, now: datetime) -> int:
    """The timers that fell due before `now` (reminders, deadlines, escalations of the open
    cases), fired each at its own moment, oldest first, as a running server would have: the
    escalations, supervision tasks and notifications carry their dates, not the first sweep's."""
    fired = 0
    while True:
        with engine.db.reading() as session:
            first = session.scalar(select(func.min(Timer.fire_at)))
        if first is None or first > now:
            return fired
        count: int = engine.fire_due_timers(first)
        if count == 0:  # what is due cannot fire (the case stopped with an error): stop here
            return fired
        fired += count
