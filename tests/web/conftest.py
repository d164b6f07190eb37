"""The web app over real HTTP on 127.0.0.1, on the test database: `server` serves it from a
thread of the test process (its own Engine, as a server process has); `process_server` starts a
real `hazardflow serve` process, for the tests that kill it or need its gunicorn."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import process_group

HAZARDFLOW = str(Path(sys.executable).with_name("hazardflow"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """Starts, kills and restarts the server process; talks JSON to it with tokens."""

    def __init__(self, database_url: str, data_dir: Path, *serve_args: str, **env: str) -> None:
        self.serve_args = serve_args  # e.g. "--workers", "2"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HAZARDFLOW_DATABASE_URL": database_url,
            "HAZARDFLOW_DATA_DIR": str(data_dir),
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server; if it dies at once (another test took the free port between
        our probe and its bind), try again on a new port."""
        for attempt in range(3):
            try:
                self._start_once()
                return
            except RuntimeError:
                self.kill()  # a server that never answered must not linger and slow the rest
                if attempt == 2:
                    raise
                self.port = free_port()
                self.url = f"http://127.0.0.1:{self.port}"

    def _start_once(self) -> None:
        self.process = subprocess.Popen(
            [
                HAZARDFLOW,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *self.serve_args,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: kill() takes the workers too
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                requests.get(self.url + "/", timeout=5)
                return
            except requests.RequestException:  # not listening yet, or slow on a busy machine
                time.sleep(0.1)
        raise RuntimeError("server did not start in 60 s")

    def kill(self) -> None:
        """SIGKILL to the master and its workers: no shutdown handlers, like a power cut."""
        if self.process:
            process_group.kill(self.process)

    def stop(self) -> None:
        if self.process:
            process_group.stop(self.process)


class LiveServer:
    """The app as `hazardflow serve` builds it (its own Engine on the database, timer sweeps
    in the background, the real clock), served over HTTP by werkzeug from a thread: what a
    browser or a program talks to, without the seconds a new server process costs to start.
    It cannot be killed like a process: tests of that use `Server`."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = 0
        self.url = ""
        self._http: Any = None
        self._scheduler: Any = None
        self._engine: Any = None

    def start(self) -> None:
        from werkzeug.serving import make_server

        from engine import Engine, load_config
        from engine.sweeper import start_background
        from webui import create_app

        config = load_config(database_url=self.database_url, data_dir=self.data_dir)
        self._engine = Engine(config)
        app = create_app(self._engine)
        if config.sweep_in_web:
            self._scheduler = start_background(self._engine)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        self._http = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._http.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        if self._engine is not None:
            self._engine.close()


@pytest.fixture
def server(engine, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    srv = LiveServer(database_url, tmp_path / "data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def process_server(engine, database_url: str, tmp_path: Path) -> Iterator[Server]:
    srv = Server(database_url, tmp_path / "data")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def token_for(engine) -> Callable[[str], str]:
    tokens: dict[str, str] = {}

    def token(username: str) -> str:
        if username not in tokens:
            tokens[username] = engine.new_token(username)
        return tokens[username]

    return token


class Client:
    """A user of the API: their token on every request."""

    def __init__(self, server: Server, token: str) -> None:
        self.base = server.url + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=30)

    def post(self, path: str, json: dict | None = None) -> requests.Response:
        return self.session.post(self.base + path, json=json or {}, timeout=30)

    def upload(self, content: bytes, name: str = "photo.png") -> requests.Response:
        """POST /photos, multipart with the field `file`: the photo's id for a form."""
        files = {"file": (name, content, "application/octet-stream")}
        return self.session.post(self.base + "/photos", files=files, timeout=30)

    def with_photos(self, data: dict) -> dict:
        """The data with the stand-in AFTER_PHOTO replaced by a photo this user uploaded."""
        from tests.helpers import AFTER_PHOTO, tiny_png

        if AFTER_PHOTO not in (data.get("rectify_photos") or []):
            return data
        sent = self.upload(tiny_png())
        assert sent.status_code == 201, sent.text
        return {**data, "rectify_photos": [sent.json()["id"]]}


@pytest.fixture
def client(server: Server, token_for) -> Callable[[str], Client]:
    return lambda username: Client(server, token_for(username))


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class WebUser:
    """A person's browser over real HTTP: signed in with the demo password, sends the page's
    CSRF token with every form."""

    def __init__(self, server: Server, username: str, language: str = "zh-CN") -> None:
        self.base = server.url
        self.session = requests.Session()
        self.session.headers["Accept-Language"] = language
        page = self.get("/login")
        self.landed = self.post(
            "/login",
            {"username": username, "password": "hazard2026"},
            page=page,
            allow_redirects=True,
        )
        assert self.landed.history and self.landed.status_code == 200, self.landed.text

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(self.base + path, timeout=30, **kwargs)

    def post(
        self,
        path: str,
        data: dict | None = None,
        page: requests.Response | None = None,
        **kwargs,
    ) -> requests.Response:
        """A form sent from `page` (default: the form's own page, `path`), with its token."""
        page = page or self.session.get(self.base + path, timeout=30)
        token = CSRF_FIELD.search(page.text)
        fields = {**(data or {}), "csrf_token": token.group(1) if token else ""}
        kwargs.setdefault("allow_redirects", False)
        return self.session.post(self.base + path, data=fields, timeout=30, **kwargs)


@pytest.fixture
def web_user(server: Server) -> Callable[..., WebUser]:
    return lambda username, language="zh-CN": WebUser(server, username, language)
