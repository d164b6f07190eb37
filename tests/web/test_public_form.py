"""The public report asks for the fields the process's start form names in `x-public`, and a
process without them has no public form."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers import edit_json
from webui import create_app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _field_names(page: str) -> set[str]:
    """The top-level fields of a rendered form (a group's fields are `group.child`)."""
    return {name.split(".")[0] for name in re.findall(r'data-field="([^"]+)"', page)}


def test_the_public_form_offers_exactly_the_declared_fields(engine, folder):
    client = create_app(engine, WTF_CSRF_ENABLED=False).test_client()
    page = client.get("/public/report")
    assert page.status_code == 200
    declared = {"grid", "unit", "category", "description", "location", "photos", "contact"}
    assert _field_names(page.text) == declared
    assert "危险化学品" in page.text  # the shared category options, inlined

    public = ["grid", "unit", "category", "description"]
    edit_json(folder / "forms" / "report.json", lambda form: form.update({"x-public": public}))
    engine.deploy([folder])
    page = client.get("/public/report")
    assert _field_names(page.text) == {"grid", "unit", "category", "description"}


def test_a_process_without_public_fields_has_no_public_form(make_engine):
    engine = make_engine(public_report_process="enterprise_self_report")
    engine.upgrade()
    engine.load_demo()
    engine.deploy([FIXTURES / "self_report"])
    assert [p["public_fields"] for p in engine.processes()] == [[]]
    client = create_app(engine, WTF_CSRF_ENABLED=False).test_client()
    assert client.get("/public/report").status_code == 404
    posted = {"unit": "青石钢构厂", "category": "industry_trade", "description": "钢丝绳断股"}
    assert client.post("/public/report", data=posted).status_code == 404
    assert engine.instances() == []  # nothing was started
