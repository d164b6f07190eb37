"""People in the browser: each signed in in their own context, with screenshots at 1280 and
375 px; and small images to upload."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

PASSWORD = "hazard2026"


def photo(path: Path, color: str) -> Path:
    Image.new("RGB", (64, 48), color).save(path, "PNG")
    return path


class Person:
    """One signed-in person in their own browser context (own cookies, own screen size)."""

    def __init__(
        self,
        browser,
        server,
        username: str,
        shots: Path,
        width: int = 1280,
        locale: str = "zh-CN",
        **context,
    ) -> None:
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale=locale, **context
        )
        self.page = self.context.new_page()
        self.base = server.url
        self.username = username
        self.shots = shots
        self.page.goto(self.base + "/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r".*/(queue|report/.*|supervision|admin/)$"))

    def shot(self, name: str) -> None:
        """Each page at 1280 px and at 375 px wide."""
        page = self.page
        size = page.viewport_size
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(self.shots / f"{name}-{width}.png"), full_page=True)
        page.set_viewport_size(size)

    def open_task(self, case: int, title: str) -> None:
        self.page.goto(f"{self.base}/cases/{case}")
        self.page.click(f"a:text-is('{title}')")
        self.page.wait_for_url(re.compile(r".*/tasks/.*"))

    def submit(self) -> None:
        self.page.click("form[action$='/complete'] button.primary")
        self.page.wait_for_load_state()
