"""The Content-Security-Policy in a real browser: the pages' own scripts (the queue's refresh,
the diagram, the API's documentation) run without one violation, and a script that got into a
page some other way does not run at all."""

from __future__ import annotations

import pytest

from tests.browser.people import Person
from tests.helpers import accept, report

pytestmark = pytest.mark.slow


def _violations(page) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found


def test_the_pages_scripts_run_and_an_injected_one_does_not(browser, server, shots, engine):
    case = report(engine)
    accept(engine, case)
    dispatcher = Person(browser, server, "dispatcher", shots)
    page = dispatcher.page
    violations = _violations(page)

    page.goto(f"{server.url}/cases/{case}")
    page.wait_for_selector("#diagram[data-ready=true]")  # bpmn-js and diagram.js ran
    page.goto(f"{server.url}/api/v1/docs")
    page.wait_for_selector(".opblock-summary-path")  # Swagger UI ran
    page.goto(f"{server.url}/queue")
    assert violations == []

    # What an injection would add: an inline script, an inline handler, a foreign script.
    page.evaluate(
        """() => {
            const inline = document.createElement("script");
            inline.textContent = "window.hacked = 'inline'";
            document.body.append(inline);
            const img = document.createElement("img");
            img.setAttribute("onerror", "window.hacked = 'handler'");
            img.src = "/no-such-image";
            document.body.append(img);
        }"""
    )
    page.wait_for_function("() => document.querySelector('img[onerror]').complete")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.hacked") is None
    assert violations  # the browser refused them, and said so
    dispatcher.context.close()
