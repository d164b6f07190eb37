"""A real browser: Debian's chromium driven by Playwright, against a real server.

Browser tests run on SQLite only: what a page shows and how it behaves in the browser is
the same whichever database answers the server, and the same steps, lists and permissions
are tried on PostgreSQL over HTTP by tests/web and tests/security. A browser test costs
seconds to minutes; running each twice doubled the suite's longest part for nothing new."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import own_database
from tests.databases import SqliteTemplates
from tests.web.conftest import server  # noqa: F401 - the same real server fixture


@pytest.fixture(params=["sqlite"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_templates: SqliteTemplates
) -> Iterator[str]:
    yield from own_database(request, tmp_path, sqlite_templates)


CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Path:
    folder = OUTPUT / request.node.name.replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
