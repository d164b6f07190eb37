"""The crash drill's two sides: a client that drives hazard lifecycles over HTTP and keeps
what the server acknowledged, and a killer that SIGKILLs the server (and the timer worker)
at random moments and starts them again.

The client never trusts a request that got no answer: it looks at the case again and goes on
from what the server holds (the step done, or to be sent again), as a person reloading the
page would. Every answer it did get is kept, to be found in the database afterwards."""

from __future__ import annotations

import io
import queue
import random
import re
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from PIL import Image

from tests import process_group
from tests.helpers import MEMBER, RECTIFY_REPORT, REPORT
from tests.web.conftest import CSRF_FIELD, Server

HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))
LOST = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
CASE_URL = re.compile(r"/cases/(\d+)$")


class ServerError(AssertionError):
    """The server answered 5xx: what a person would see as "something went wrong"."""


@dataclass
class Ack:
    """A step the server acknowledged: the case started, or the task completed."""

    case: int
    step: str  # "start" or the task's name
    task_id: str | None = None
    photo: str | None = None  # the content hash of the photo a report carried


class Worker:
    """`hazardflow worker` in its own process group, fast sweeps."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [HAZARDFLOW, "worker", "--interval", "0.5"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        if self.process:
            process_group.kill(self.process)

    def stop(self) -> None:
        if self.process:
            process_group.stop(self.process)


class Killer(threading.Thread):
    """SIGKILLs the server (or the worker, or both) a random moment after each `trigger`,
    then starts what it killed again. Kills are asked for by the client, so that their number
    does not depend on the machine's speed; where they land in the work does."""

    def __init__(self, server: Server, worker: Worker | None, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.server, self.worker, self.rng = server, worker, rng
        self.delays: queue.Queue[float | None] = queue.Queue()
        self.kills: Counter[str] = Counter()  # processes killed, by kind
        self.rounds = 0  # kills asked for and done
        self.failure: BaseException | None = None

    def trigger(self, within: float) -> None:
        self.delays.put(self.rng.uniform(0, within))

    def run(self) -> None:
        try:
            while (delay := self.delays.get()) is not None:
                time.sleep(delay)
                self._kill_and_restart()
                self.rounds += 1
        except BaseException as exc:  # the test reports it
            self.failure = exc

    def _kill_and_restart(self) -> None:
        targets = ["server"] if self.worker is None else ["server", "worker", "both"]
        target = self.rng.choice(targets)
        if target in ("server", "both"):
            self.server.kill()
            self.kills["server"] += 1
        if self.worker is not None and target in ("worker", "both"):
            self.worker.kill()
            self.kills["worker"] += 1
            self.worker.start()
        if target in ("server", "both"):
            self.server.start()

    def stop(self) -> None:
        """After the kills asked for so far."""
        self.delays.put(None)
        self.join(600)


def unique_png(rng: random.Random) -> bytes:
    """A small image no other lifecycle has (photos are stored by content hash)."""
    out = io.BytesIO()
    Image.frombytes("RGB", (12, 12), rng.randbytes(12 * 12 * 3)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Client:
    """People working cases through the server: the grid member through the web form (with
    a photo), everyone else through the API with their token."""

    server: Server
    tokens: dict[str, str]
    rng: random.Random
    acks: list[Ack] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    timer_cases: list[int] = field(default_factory=list)
    browser: requests.Session = field(default_factory=requests.Session)

    # --- talking to a server that may be gone -------------------------------------------------

    def _send(self, method: str, path: str, username: str | None, **kwargs: Any) -> Any:
        """One request; None if no answer came (the server was killed or not up yet)."""
        self.counts["requests"] += 1
        session = self.browser if username is None else requests
        headers = {} if username is None else {"Authorization": f"Bearer {self.tokens[username]}"}
        try:
            response = session.request(
                method, self.server.url + path, headers=headers, timeout=30, **kwargs
            )
        except LOST:
            self.counts["requests without an answer"] += 1
            time.sleep(0.05)
            return None
        if response.status_code >= 500:
            raise ServerError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response

    def _until_answered(self, method: str, path: str, username: str | None, **kw: Any) -> Any:
        """For reads, which are safe to repeat: send until an answer comes."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            response = self._send(method, path, username, **kw)
            if response is not None:
                return response
        raise AssertionError(f"no answer to {method} {path} in 180 s")

    def api(self, method: str, path: str, username: str, **kw: Any) -> Any:
        return self._send(method, "/api/v1" + path, username, **kw)

    def read(self, path: str, username: str = "dispatcher", **params: Any) -> Any:
        response = self._until_answered("GET", "/api/v1" + path, username, params=params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    # --- the steps ----------------------------------------------------------------------------

    def sign_in(self) -> None:
        while True:
            page = self._until_answered("GET", "/login", None)
            token = CSRF_FIELD.search(page.text)
            form = {"username": MEMBER, "password": "hazard2026", "csrf_token": token.group(1)}
            signed = self._send("POST", "/login", None, data=form, allow_redirects=False)
            if signed is not None and signed.status_code == 302:
                return

    def report(self, photo: bytes) -> int:
        """The grid member reports through the web form with a photo; on no answer, the
        case is looked for by its unique unit name before reporting again."""
        marker = f"drill{uuid.uuid4().hex[:12]}"
        path = f"/report/{'hazard_handling'}"
        fields = {**REPORT, "unit": f"{REPORT['unit']} {marker}"}
        while True:
            page = self._until_answered("GET", path, None)
            token = CSRF_FIELD.search(page.text)
            assert token, f"no form at {path}: {page.status_code}"
            sent = self._send(
                "POST",
                path,
                None,
                data={**fields, "csrf_token": token.group(1)},
                files={"photos__upload": ("photo.png", photo, "image/png")},
                allow_redirects=False,
            )
            if sent is not None:
                found = CASE_URL.search(sent.headers.get("Location", ""))
                assert sent.status_code == 302 and found, f"report: {sent.status_code}"
                case = int(found.group(1))
                photo_id = self.read(f"/instances/{case}")["data"]["photos"][0]
                self.acks.append(Ack(case, "start", photo=photo_id))
                return case
            hits = self.read("/instances", q=marker)["items"]
            if hits:  # it was stored; only the answer was lost
                self.counts["steps stored without an answer"] += 1
                return int(hits[0]["id"])

    def start_timer_case(self) -> None:
        """A case whose one timer fires a few seconds from now (the worker's work)."""
        fire_at = datetime.now(UTC) + timedelta(seconds=self.rng.uniform(0.5, 4))
        marker = f"t{uuid.uuid4().hex[:12]}"
        body = {"fire_at": fire_at.isoformat(), "note": marker}
        sent = self.api("POST", "/processes/timer_wait/instances", "dispatcher", json=body)
        if sent is None:
            return  # not known to be stored: nothing to check (the audit will see it if it was)
        assert sent.status_code == 201, sent.text
        case = sent.json()["id"]
        self.acks.append(Ack(case, "start"))
        self.timer_cases.append(case)

    def complete(self, case: int, username: str, task_name: str, data: dict[str, Any]) -> None:
        """Complete the case's open task `task_name`; after no answer or a 409, the case is
        read again: the step is either there (done by the request that got no answer) or
        sent again."""
        while True:
            detail = self.read(f"/instances/{case}")
            task = next((t for t in detail["open_tasks"] if t["task_name"] == task_name), None)
            done = [e for e in detail["history"] if e["task_name"] == task_name]
            if task is None:
                assert done and done[-1]["action"] == "complete", (
                    f"case {case} has no open '{task_name}' and never completed it: {detail}"
                )
                self.counts["steps stored without an answer"] += 1
                return
            sent = self.api("POST", f"/tasks/{task['id']}/complete", username, json=data)
            if sent is None:
                continue
            if sent.status_code == 409:  # the lost request's twin got there first
                self.counts["409 after a lost answer"] += 1
                continue
            assert sent.status_code == 200, f"{task_name}: {sent.status_code} {sent.text}"
            self.acks.append(Ack(case, task_name, task["id"]))
            return

    def lifecycle(self) -> int:
        """report → classify → dispatch → receive → rectify → verify → archived."""
        self.start_timer_case()
        case = self.report(unique_png(self.rng))
        classify = {"outcome": "accept", "grade": "general", "category": REPORT["category"]}
        self.complete(case, "dispatcher", "classify", classify)
        data = self.read(f"/instances/{case}")["data"]
        dispatch = {"department": data["department"], "deadline_days": data["deadline_days"]}
        self.complete(case, "dispatcher", "dispatch", dispatch)
        department = "dept_" + data["department"]
        self.complete(case, department, "receive", {"decision": "accept"})
        # the photo after: the report's own (a form names only photos that exist)
        after = {**RECTIFY_REPORT, "rectify_photos": data["photos"]}
        self.complete(case, department, "rectify", after)
        self.complete(case, "dispatcher", "verify", {"passed": True})
        self.counts["lifecycles"] += 1
        return case


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(0.2)
