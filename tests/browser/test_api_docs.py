"""The API's documentation page works with nothing from outside this server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_swagger_page_lists_the_operations_from_vendored_files(browser, server, shots):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    outside: list[str] = []

    def only_this_server(route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_server)
    page.goto(server.url + "/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/v1/tasks/{task_id}/complete" in p for p in paths), paths
    assert outside == []
    page.screenshot(path=str(shots / "api-docs-1280.png"))
    context.close()
