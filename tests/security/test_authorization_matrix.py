"""The authorization matrix: every route of the URL map, for every role, on real objects of
two departments (tests/security/world.py), against one table of what each role may do.

A cell of the table says, for one route (method and endpoint) and one role:
  ok     allowed: GET answers 200 or a redirect that is not the sign-in; POST is not refused
  login  sign in first: a page redirects to the sign-in, the API answers 401
  deny   refused with 403 or 404
  y z x o / -   for a route about one object: the objects the role may reach (y: case yjj's,
         z: case zjj's; x: a crossed pair, e.g. one case's photo under another case's lookup
         code; o: another user's API token); any other object is refused (403/404); "-": none
A route of the URL map without a row fails the test: a new route must be classified here.

Refusals are tried with the request that would do the thing (a valid CSRF token, a complete
form) and must leave every table and the photo folder as they were. The bulk forms of the
queue and the inbox answer a list of tasks or notifications with one redirect and a message
for what could not be done: a refusal there is the redirect with nothing changed. Every page
and API answer a role gets is also searched for the number and unit of each case the role may
not see: no list, count, search or feed shows it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PROCESSES
from tests.engine.test_deployment_versions import shorter_deadline
from tests.helpers import RECTIFY_REPORT
from tests.security.world import ROLES, World, build, fingerprint, form_data, png

ROLE_ORDER = list(ROLES)  # the columns of the table
SQUARE = [[112.9, 28.1], [113.0, 28.1], [113.0, 28.2], [112.9, 28.2], [112.9, 28.1]]
SHAPE = json.dumps({"type": "Polygon", "coordinates": [SQUARE]}).encode()
SHAPES = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"code": "ap-d1"}, "geometry": json.loads(SHAPE)},
]}).encode()  # fmt: skip
OBJECTS = set("yzxo")

# fmt: off
MATRIX = {
    #                                        anonymous member dept_yjj dept_zjj leader disp admin
    "GET queue.home":                       "login     ok     ok       ok       ok     ok   ok",
    "GET queue.queue":                      "login     ok     ok       ok       ok     ok   ok",
    "GET queue.counts":                     "login     ok     ok       ok       ok     ok   ok",
    "POST queue.save_view":                 "login     ok     ok       ok       ok     ok   ok",
    "POST queue.claim_selected":            "login     -      y        z        -      -    -",
    "POST queue.hand_over_selected":        "login     -      y        z        -      -    -",
    "GET auth.login":                       "ok        ok     ok       ok       ok     ok   ok",
    "POST auth.login":                      "ok        ok     ok       ok       ok     ok   ok",
    "POST auth.logout":                     "ok        ok     ok       ok       ok     ok   ok",
    "POST auth.set_language":               "ok        ok     ok       ok       ok     ok   ok",
    "GET auth.password":                    "login     ok     ok       ok       ok     ok   ok",
    "POST auth.password":                   "login     ok     ok       ok       ok     ok   ok",
    "GET admin.index":                      "login     deny   deny     deny     deny   deny ok",
    "GET report.default":                   "login     ok     ok       ok       ok     ok   ok",
    "GET report.form":                      "login     ok     ok       ok       ok     ok   ok",
    "POST report.form":                     "login     ok     ok       ok       ok     ok   ok",
    "GET report.mine":                      "login     ok     ok       ok       ok     ok   ok",
    "GET cases.index":                      "login     ok     ok       ok       ok     ok   ok",
    "GET cases.go":                         "login     y      y        z        y      yz   yz",
    "GET cases.case":                       "login     y      y        z        y      yz   yz",
    "GET cases.diagram":                    "login     y      y        z        y      yz   yz",
    "POST cases.urge":                      "login     -      -        -        -      yz   yz",
    "GET tasks.task":                       "login     -      y        z        -      -    -",
    "POST tasks.claim":                     "login     -      y        z        -      -    -",
    "POST tasks.release":                   "login     -      y        z        -      -    -",
    "POST tasks.hand_over":                 "login     -      y        z        -      -    -",
    "POST tasks.draft":                     "login     -      y        z        -      -    -",
    "POST tasks.complete":                  "login     -      y        z        -      -    -",
    "GET supervise.escalated":              "login     ok     ok       ok       ok     ok   ok",
    "GET map.page":                         "login     deny   deny     deny     ok     ok   ok",
    "GET map.data":                         "login     deny   deny     deny     ok     ok   ok",
    "GET inbox.inbox":                      "login     ok     ok       ok       ok     ok   ok",
    "POST inbox.read":                      "login     -      y        z        -      -    -",
    "GET photos.photo":                     "login     y      y        z        y      yz   yz",
    "GET public.report":                    "ok        ok     ok       ok       ok     ok   ok",
    "POST public.report":                   "ok        ok     ok       ok       ok     ok   ok",
    "GET public.lookup":                    "ok        ok     ok       ok       ok     ok   ok",
    "GET public.case":                      "yz        yz     yz       yz       yz     yz   yz",
    "GET public.case_photo":                "yz        yz     yz       yz       yz     yz   yz",
    "GET public.pending_photo":             "-         -      -        -        -      -    -",
    "GET static":                           "ok        ok     ok       ok       ok     ok   ok",
    "GET openapi_apidoc":                   "ok        ok     ok       ok       ok     ok   ok",
    "GET api.api_index":                    "ok        ok     ok       ok       ok     ok   ok",
    "GET api.docs":                         "ok        ok     ok       ok       ok     ok   ok",
    "GET api.openapi_document":             "ok        ok     ok       ok       ok     ok   ok",
    "GET api.list_processes":               "login     ok     ok       ok       ok     ok   ok",
    "POST api.start_instance":              "login     ok     ok       ok       ok     ok   ok",
    "GET api.list_tasks":                   "login     ok     ok       ok       ok     ok   ok",
    "GET api.get_task":                     "login     -      y        z        -      -    -",
    "POST api.claim_task":                  "login     -      y        z        -      -    -",
    "POST api.release_task":                "login     -      y        z        -      -    -",
    "POST api.complete_task":               "login     -      y        z        -      -    -",
    "GET api.list_instances":               "login     ok     ok       ok       ok     ok   ok",
    "GET api.get_instance":                 "login     y      y        z        y      yz   yz",
    "GET api.list_notifications":           "login     ok     ok       ok       ok     ok   ok",
    "POST api.read_notifications":          "login     ok     ok       ok       ok     ok   ok",
    "GET api.list_tokens":                  "login     ok     ok       ok       ok     ok   ok",
    "DELETE api.revoke_token":              "login     -      -        -        -      -    -",
    "GET stats.index":                      "login     deny   ok       ok       ok     ok   ok",
    "GET stats.export":                     "login     deny   ok       ok       ok     ok   ok",
    "GET stats.quarterly":                  "login     deny   ok       ok       ok     ok   ok",
    "GET cases.export":                     "login     ok     ok       ok       ok     ok   ok",
    "GET api.get_stats":                    "login     deny   ok       ok       ok     ok   ok",
    "GET api.list_hazards":                 "login     ok     ok       ok       ok     ok   ok",
    "GET api.hazard_feed":                  "login     ok     ok       ok       ok     ok   ok",
    "GET api.get_hazard":                   "login     y      y        z        y      yz   yz",
    "POST api.upload_photo":                "login     ok     ok       ok       ok     ok   ok",
    "GET api.download_photo":               "login     y      y        z        y      yz   yz",
    # the administrators' pages last: what the admin does there (a deploy, a migration, a
    # colleague deactivated) comes after every other row has been tried
    "GET admin.download":                   "login     deny   deny     deny     deny   deny ok",
    "GET admin.migration":                  "login     deny   deny     deny     deny   deny ok",
    "GET admin.users":                      "login     deny   deny     deny     deny   deny ok",
    "GET admin.user":                       "login     deny   deny     deny     deny   deny ok",
    "POST admin.check":                     "login     deny   deny     deny     deny   deny ok",
    "POST admin.deploy":                    "login     deny   deny     deny     deny   deny ok",
    "GET admin.edit_file":                  "login     deny   deny     deny     deny   deny ok",
    "POST admin.check_file":                "login     deny   deny     deny     deny   deny ok",
    "POST admin.preview_form":              "login     deny   deny     deny     deny   deny ok",
    "POST admin.deploy_file":               "login     deny   deny     deny     deny   deny ok",
    "POST admin.migrate":                   "login     deny   deny     deny     deny   deny ok",
    "POST admin.redeploy":                  "login     deny   deny     deny     deny   deny ok",
    "POST admin.deactivate":                "login     deny   deny     deny     deny   deny ok",
    "POST admin.reactivate":                "login     deny   deny     deny     deny   deny ok",
    "POST admin.reset_password":            "login     deny   deny     deny     deny   deny ok",
    "POST admin.revoke_token":              "login     deny   deny     deny     deny   deny ok",
    "GET admin.organisation":               "login     deny   deny     deny     deny   deny ok",
    "GET admin.grid":                       "login     deny   deny     deny     deny   deny ok",
    "GET admin.org_import":                 "login     deny   deny     deny     deny   deny ok",
    "GET admin.import_template":            "login     deny   deny     deny     deny   deny ok",
    "GET admin.new_user":                   "login     deny   deny     deny     deny   deny ok",
    "POST admin.add_department":            "login     deny   deny     deny     deny   deny ok",
    "POST admin.rename_department":         "login     deny   deny     deny     deny   deny ok",
    "POST admin.add_grid":                  "login     deny   deny     deny     deny   deny ok",
    "POST admin.update_grid":               "login     deny   deny     deny     deny   deny ok",
    "POST admin.upload_grid_shape":         "login     deny   deny     deny     deny   deny ok",
    "POST admin.remove_grid_shape":         "login     deny   deny     deny     deny   deny ok",
    "POST admin.upload_shapes":             "login     deny   deny     deny     deny   deny ok",
    "POST admin.try_import":                "login     deny   deny     deny     deny   deny ok",
    "POST admin.confirm_import":            "login     deny   deny     deny     deny   deny ok",
    "POST admin.add_user":                  "login     deny   deny     deny     deny   deny ok",
    "POST admin.edit_user":                 "login     deny   deny     deny     deny   deny ok",
    "GET api.list_deployments":             "login     deny   deny     deny     deny   deny ok",
    "GET api.deployment_files":             "login     deny   deny     deny     deny   deny ok",
    "POST api.deploy":                      "login     deny   deny     deny     deny   deny ok",
    "POST api.migrate_cases":               "login     deny   deny     deny     deny   deny ok",
    "GET admin.webhooks":                   "login     deny   deny     deny     deny   deny ok",
    "POST admin.add_webhook":               "login     deny   deny     deny     deny   deny ok",
    "POST admin.deactivate_webhook":        "login     deny   deny     deny     deny   deny ok",
    "GET api.list_webhooks":                "login     deny   deny     deny     deny   deny ok",
    "POST api.add_webhook":                 "login     deny   deny     deny     deny   deny ok",
    "POST api.deactivate_webhook":          "login     deny   deny     deny     deny   deny ok",
    "GET api.list_deliveries":              "login     deny   deny     deny     deny   deny ok",
}
# fmt: on
# Routes answering a list of items with one redirect and a message for the ones not done.
BULK = {"POST queue.claim_selected", "POST queue.hand_over_selected", "POST inbox.read"}
# Routes that end or change the browser's session: each request in a browser of its own.
SESSION_CHANGING = {"POST auth.login", "POST auth.logout", "POST auth.set_language"}


def cells(row: str) -> dict[str, str]:
    values = row.split()
    assert len(values) == len(ROLE_ORDER), row
    return dict(zip(ROLE_ORDER, values, strict=True))


def url_map_routes(app) -> set[str]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add(f"{method} {rule.endpoint}")
    return found


# --- what each route is asked, per object ------------------------------------------------------


@dataclass
class Target:
    """One request: where, and the body that would do the thing (a refusal must not)."""

    path: str
    form: dict[str, Any] | None = None  # a browser form (a CSRF token is added) ...
    json: dict[str, Any] | None = None  # ... or an API body
    harmless: dict[str, Any] | None = None  # what an allowed role sends instead, if not `form`
    typed: str = ""  # a search the page may show again as typed


def _report_form(w: World) -> dict[str, Any]:
    return {
        "grid": "ap-d1-t1-v1",
        "unit": "城南加油站",
        "category": "hazardous_chemicals",
        "description": "卸油区无静电接地",
    }


def targets(route: str, w: World, role: str) -> dict[str, Target]:
    """The objects a route is tried on ("" for a route about no object)."""
    y, z = w.cases["yjj"], w.cases["zjj"]
    case = {"y": y, "z": z}
    endpoint = route.split()[1]
    codes = {k: w.lookup_code(c.id) for k, c in case.items()}
    per_case: dict[str, Callable[[Any, str], Target]] = {
        "cases.go": lambda c, k: Target(f"/cases/go?number={c.number}"),
        "cases.case": lambda c, k: Target(f"/cases/{c.id}"),
        "cases.diagram": lambda c, k: Target(f"/cases/{c.id}/diagram.json"),
        "cases.urge": lambda c, k: Target(
            f"/cases/{c.id}/tasks/{c.task}/urge", form={"comment": "请抓紧"}
        ),
        "tasks.task": lambda c, k: Target(f"/tasks/{c.task}"),
        "tasks.claim": lambda c, k: Target(f"/tasks/{c.task}/claim", form={}),
        "tasks.release": lambda c, k: Target(f"/tasks/{c.task}/release", form={}),
        "tasks.hand_over": lambda c, k: Target(
            f"/tasks/{c.task}/handover",
            form={"to": c.dept + "2", "comment": "转给同事"},
            harmless={"to": "nobody"},  # kept: the later rows work the task
        ),
        "tasks.draft": lambda c, k: Target(
            f"/tasks/{c.task}/draft", form={"action": "report", "measures": "草稿"}
        ),
        "tasks.complete": lambda c, k: Target(
            f"/tasks/{c.task}/complete",
            form={
                **{k2: str(v) for k2, v in RECTIFY_REPORT.items() if k2 != "rectify_photos"},
                "rectify_photos__upload": png("green"),
            },
            harmless={"action": "report"},  # a field missing: reached the form, changed nothing
        ),
        "queue.claim_selected": lambda c, k: Target("/queue/claim", form={"task": c.task}),
        "queue.hand_over_selected": lambda c, k: Target(
            "/queue/handover",
            form={"task": c.task, "to": c.dept + "2", "comment": "转办"},
            harmless={"task": c.task, "to": "nobody"},
        ),
        "inbox.read": lambda c, k: Target("/inbox/read", form={"id": str(w.notification(c.dept))}),
        "photos.photo": lambda c, k: Target(f"/photos/{c.photo}"),
        "public.case": lambda c, k: Target(f"/public/cases/{c.id}?code={codes[k]}"),
        "public.case_photo": lambda c, k: Target(
            f"/public/cases/{c.id}/photos/{c.photo}?code={codes[k]}"
        ),
        "public.pending_photo": lambda c, k: Target(
            f"/public/photos/{c.photo}?t={w.photo_token(c.photo)}"
        ),
        "api.get_task": lambda c, k: Target(f"/api/v1/tasks/{c.task}"),
        "api.claim_task": lambda c, k: Target(f"/api/v1/tasks/{c.task}/claim", json={}),
        "api.release_task": lambda c, k: Target(f"/api/v1/tasks/{c.task}/release", json={}),
        "api.complete_task": lambda c, k: Target(
            f"/api/v1/tasks/{c.task}/complete",
            json={**RECTIFY_REPORT, "rectify_photos": [c.photo]},
            harmless={},
        ),
        "api.get_instance": lambda c, k: Target(f"/api/v1/instances/{c.id}"),
        "api.get_hazard": lambda c, k: Target(f"/api/v1/hazards/{c.id}"),
        "api.download_photo": lambda c, k: Target(f"/api/v1/photos/{c.photo}"),
    }
    if endpoint in per_case:
        found = {k: per_case[endpoint](c, k) for k, c in case.items()}
        if endpoint == "public.case_photo":  # case yjj's code, case zjj's photo
            found["x"] = Target(f"/public/cases/{y.id}/photos/{z.photo}?code={codes['y']}")
        return found
    user = ROLES[role] or "dispatcher"
    plain: dict[str, Target] = {
        "GET queue.home": Target("/"),
        "GET queue.queue": Target("/queue"),
        "GET queue.counts": Target("/queue/counts"),
        "POST queue.save_view": Target("/queue/views", form={"name": "我的", "query": "grid=ap"}),
        "GET auth.login": Target("/login"),
        "POST auth.login": Target("/login", form={"username": user, "password": "hazard2026"}),
        "POST auth.logout": Target("/logout", form={}),
        "POST auth.set_language": Target("/lang/en", form={"next": "/"}),
        "GET auth.password": Target("/account/password"),
        "POST auth.password": Target(
            "/account/password",
            form={
                "current_password": "hazard2026",
                "new_password": "a-new-long-password-2026",
                "new_password_again": "a-new-long-password-2026",
            },
            harmless={
                "current_password": "wrong",
                "new_password": "x",
                "new_password_again": "y",
            },
        ),
        "GET admin.index": Target("/admin/"),
        "GET report.default": Target("/report"),
        "GET report.form": Target("/report/hazard_handling"),
        "POST report.form": Target("/report/hazard_handling", form=_report_form(w), harmless={}),
        "GET report.mine": Target("/my-reports"),
        "GET cases.index": Target("/cases?status=all"),
        "GET supervise.escalated": Target("/supervision"),
        "GET map.page": Target("/map"),
        "GET map.data": Target("/map/data.json"),
        "GET inbox.inbox": Target("/inbox"),
        "GET public.report": Target("/public/report"),
        "POST public.report": Target("/public/report", form=_report_form(w), harmless={}),
        "GET public.lookup": Target("/public/lookup"),
        "GET static": Target("/static/app.css"),
        "GET openapi_apidoc": Target("/apidoc/openapi.json"),
        "GET api.api_index": Target("/api/v1/"),
        "GET api.docs": Target("/api/v1/docs"),
        "GET api.openapi_document": Target("/api/v1/openapi.json"),
        "GET api.list_processes": Target("/api/v1/processes"),
        "POST api.start_instance": Target(
            "/api/v1/processes/hazard_handling/instances", json=_report_form(w), harmless={}
        ),
        "GET api.list_tasks": Target("/api/v1/tasks"),
        "GET api.list_instances": Target("/api/v1/instances?status=all"),
        "GET api.list_notifications": Target("/api/v1/notifications"),
        "POST api.read_notifications": Target(
            "/api/v1/notifications/read", json={"all": True}, harmless={"ids": []}
        ),
        "GET api.list_tokens": Target("/api/v1/tokens"),
        "GET api.list_hazards": Target("/api/v1/hazards"),
        "GET api.hazard_feed": Target("/api/v1/hazards/feed?limit=500"),
        "POST api.upload_photo": Target("/api/v1/photos", json={}),  # not multipart: 422
        "DELETE api.revoke_token": Target(f"/api/v1/tokens/{w.bystander_token}"),
        "GET stats.index": Target("/stats?by=grid"),
        "GET stats.export": Target("/stats/export.csv?by=department"),
        "GET stats.quarterly": Target("/stats/quarterly.xlsx"),
        "GET cases.export": Target("/cases/export.csv?status=all"),
        "GET api.get_stats": Target("/api/v1/stats?by=grid"),
        "GET admin.download": Target("/admin/deployments/1/files.zip"),
        "GET admin.migration": Target("/admin/processes/hazard_handling/migrate"),
        "GET admin.users": Target("/admin/users"),
        "GET admin.user": Target("/admin/users/dept_zjj2"),
        "POST admin.check": Target(
            "/admin/deployments/check",
            form={"files": shorter_deadline(), "base": "1", "on_top": "1"},
        ),
        "POST admin.deploy": Target(
            "/admin/deployments",
            form={"files": shorter_deadline(), "base": "1", "on_top": "1", "comment": "期限"},
        ),
        "GET admin.edit_file": Target("/admin/files/dispatch.dmn"),
        "POST admin.check_file": Target(
            "/admin/files/dispatch.dmn/check", form={"content": shorter_deadline()[1].decode()}
        ),
        "POST admin.preview_form": Target(
            "/admin/files/forms/report.json/preview",
            form={"content": (PROCESSES / "forms" / "report.json").read_text()},
        ),
        "POST admin.deploy_file": Target(
            "/admin/files/dispatch.dmn/deploy",
            form={
                "content": shorter_deadline()[1].decode().replace(">7<", ">8<"),
                "comment": "期限",
            },
        ),
        "POST admin.migrate": Target(
            "/admin/processes/hazard_handling/migrate", form={"case": str(y.id)}
        ),
        "POST admin.redeploy": Target("/admin/deployments/1/redeploy", form={}),
        "POST admin.deactivate": Target("/admin/users/dept_zjj2/deactivate", form={}),
        "POST admin.reactivate": Target("/admin/users/dept_zjj2/reactivate", form={}),
        "POST admin.reset_password": Target(
            "/admin/users/dept_zjj2/password",
            form={
                "new_password": "another-long-one-2026",
                "new_password_again": "another-long-one-2026",
            },
        ),
        "POST admin.revoke_token": Target(
            f"/admin/users/dispatcher2/tokens/{w.bystander_token}/revoke", form={}
        ),
        "GET admin.organisation": Target("/admin/organisation"),
        "GET admin.grid": Target("/admin/organisation/grids/ap-d2"),
        "GET admin.org_import": Target("/admin/organisation/import"),
        "GET admin.import_template": Target("/admin/organisation/import/template.xlsx"),
        "GET admin.new_user": Target("/admin/users/new"),
        "POST admin.add_department": Target(
            "/admin/organisation/departments", form={"code": "sjj", "name": "市场监管局"}
        ),
        "POST admin.rename_department": Target(
            "/admin/organisation/departments/zjj", form={"name": "住房和城乡建设局"}
        ),
        "POST admin.add_grid": Target(
            "/admin/organisation/grids", form={"code": "ap-d9", "name": "新区", "parent": "ap"}
        ),
        "POST admin.update_grid": Target(
            "/admin/organisation/grids/ap-d2", form={"name": "二区（新）", "parent": "ap"}
        ),
        "POST admin.upload_grid_shape": Target(
            "/admin/organisation/grids/ap-d2/shape", form={"file": ("d2.geojson", SHAPE)}
        ),
        "POST admin.remove_grid_shape": Target(
            "/admin/organisation/grids/ap-d2/shape/remove", form={}
        ),
        "POST admin.upload_shapes": Target(
            "/admin/organisation/shapes", form={"file": ("grids.geojson", SHAPES)}
        ),
        "POST admin.try_import": Target(
            "/admin/organisation/import",
            form={"file": ("org.csv", "编码,名称\nsjj,市场监管局\n".encode())},
        ),
        "POST admin.confirm_import": Target("/admin/organisation/import/confirm", form={}),
        "POST admin.add_user": Target(
            "/admin/users/new", form={"username": "newcomer", "roles": "grid_member"}
        ),
        "POST admin.edit_user": Target(
            "/admin/users/dept_zjj2/edit",
            form={"roles": "department", "department": "zjj", "display_name": "经办人（改）"},
        ),
        "GET api.list_deployments": Target("/api/v1/deployments"),
        "GET api.deployment_files": Target("/api/v1/deployments/1/files"),
        "POST api.deploy": Target("/api/v1/deployments?dry_run=1", json={}),
        "POST api.migrate_cases": Target("/api/v1/processes/hazard_handling/migrations", json={}),
        "GET admin.webhooks": Target("/admin/webhooks"),
        "POST admin.add_webhook": Target(
            "/admin/webhooks", form={"url": "http://127.0.0.1:9/hooks", "events": "dispatched"}
        ),
        "POST admin.deactivate_webhook": Target("/admin/webhooks/1/deactivate", form={}),
        "GET api.list_webhooks": Target("/api/v1/webhooks"),
        "POST api.add_webhook": Target(
            "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/api-hooks", "events": ["started"]}
        ),
        "POST api.deactivate_webhook": Target("/api/v1/webhooks/2/deactivate", json={}),
        "GET api.list_deliveries": Target("/api/v1/webhooks/deliveries"),
    }
    found = {"": plain[route]}
    searches = {
        "GET cases.index": "/cases?status=all&q={}",
        "GET api.list_instances": "/api/v1/instances?status=all&q={}",
        "GET cases.export": "/cases/export.csv?status=all&q={}",
    }
    if route in searches:  # searching for a case one may not see finds nothing
        for c in case.values():
            found[f"search {c.unit}"] = Target(searches[route].format(c.unit), typed=c.unit)
    if route == "DELETE api.revoke_token":
        return {"o": found[""]}
    return found


# --- asking ------------------------------------------------------------------------------------


def send(w: World, route: str, role: str, target: Target, allowed: bool):
    method = route.split()[0]
    body = target.harmless if allowed and target.harmless is not None else None
    if target.path.startswith("/api/") and route.split()[1].startswith("api."):
        client = w.api(role)
        payload = body if body is not None else target.json
        return client.open(target.path, method=method, json=payload if method != "GET" else None)
    client = w.fresh_browser(role) if route in SESSION_CHANGING else w.browser(role)
    if method == "GET":
        return client.get(target.path)
    form = dict(body if body is not None else target.form or {})
    form["csrf_token"] = w.csrf_token(role, client)
    return client.open(target.path, method=method, data=form_data(form))


def verdict(answer, route: str) -> str:
    """What an answer was: ok, login, deny, or something else (named by its status)."""
    api = route.split()[1].startswith("api.")
    location = answer.headers.get("Location", "")
    if answer.status_code == 401 and api:
        return "login"
    if answer.status_code == 302 and "/login" in location and route != "POST auth.logout":
        return "login"
    if answer.status_code in (403, 404):
        return "deny"
    if answer.status_code in (200, 201, 204, 302, 422):
        return "ok"
    return f"status {answer.status_code}"


def hidden(w: World, role: str) -> list[str]:
    """The number and unit of each case the role may not see (the case page's row)."""
    allowed = cells(MATRIX["GET cases.case"])[role]
    return [
        text
        for key, case in w.cases.items()
        if key[0] not in allowed
        for text in (case.number, case.unit)
    ]


@pytest.fixture
def world(app, engine) -> World:
    return build(app, engine)


def test_every_route_of_the_url_map_has_a_row(app):
    routes = url_map_routes(app)
    assert routes - set(MATRIX) == set(), "classify these routes in MATRIX"
    assert set(MATRIX) - routes == set(), "these rows name no route any more"


def test_every_role_gets_what_the_table_says_and_sees_no_case_it_may_not(world: World):
    refusals: list[tuple[str, str, str, Target]] = []
    allowed_posts: list[tuple[str, str, str, Target]] = []
    wrong: list[str] = []
    leaks: list[str] = []
    checked = 0
    for route, row in MATRIX.items():
        for role, cell in cells(row).items():
            for key, target in targets(route, world, role).items():
                expected = _expected(cell, key)
                if route.startswith("GET"):
                    answer = send(world, route, role, target, expected == "ok")
                    checked += 1
                    got = verdict(answer, route)
                    if got != expected:
                        wrong.append(f"{route} as {role} on {key or target.path}: {got}")
                    if got == "ok" and key not in OBJECTS:
                        shown = answer.get_data().decode("utf-8", "replace")  # a zip too
                        leaks += [
                            f"{route} as {role} on {target.path} shows {t}"
                            for t in hidden(world, role)
                            if t in shown and t != target.typed
                        ]
                elif expected == "ok":
                    allowed_posts.append((route, role, key, target))
                else:
                    refusals.append((route, role, expected, target))
    # Refusals first, each tried with the request that would do it: nothing may change.
    for route, role, expected, target in refusals:
        before = fingerprint(world.engine)
        answer = send(world, route, role, target, allowed=False)
        checked += 1
        got = verdict(answer, route)
        if route in BULK and answer.status_code == 302 and expected == "deny":
            got = "deny"  # the redirect back with its message; unchanged is checked below
        if got != expected:
            wrong.append(f"{route} as {role} on {target.path}: {got}, expected {expected}")
        changed = [t for t, d in fingerprint(world.engine).items() if before[t] != d]
        if changed:
            wrong.append(f"{route} as {role} on {target.path} changed {changed}")
    # Then what is allowed, in the table's order (a claim before its release).
    for route, role, _key, target in allowed_posts:
        answer = send(world, route, role, target, allowed=True)
        checked += 1
        got = verdict(answer, route)
        if got != "ok":
            wrong.append(f"{route} as {role} on {target.path}: {got}, expected ok")
    print(f"authorization matrix: {checked} requests, {len(MATRIX)} routes x {len(ROLES)} roles")
    assert wrong == [], "\n".join(wrong)
    assert leaks == [], "\n".join(leaks)


def _expected(cell: str, key: str) -> str:
    if cell in ("ok", "login", "deny"):
        return cell
    assert key in OBJECTS, f"cell {cell!r} names objects, the route has none ({key!r})"
    return "ok" if key in cell else "deny"
