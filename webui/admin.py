"""The administrators' pages. One role check covers the whole blueprint, so a page added
here can never be left open to other roles. This module: the process files, their versions,
validating and deploying uploaded files, a roll back; `admin_users`: the users."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import NotFound as PageNotFound

from engine import DeployRefused, DeployResult, FileDiff, NotFound, ProblemRecord

from .context import current_actor, current_engine
from .errors import render_error

admin_blueprint = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN_ROLE = "admin"
MAX_COMMENT = 2000


@admin_blueprint.before_request
@login_required
def admins_only() -> ResponseReturnValue | None:
    if not current_user.has_role(ADMIN_ROLE):
        abort(403)
    return None


@admin_blueprint.errorhandler(NotFound)
def _not_found(exc: NotFound) -> ResponseReturnValue:
    return render_error(PageNotFound(str(exc)))


def _page(
    problems: list[ProblemRecord] | None = None,
    checked: bool = False,
    changes: list[FileDiff] | None = None,
) -> str:
    engine = current_engine()
    return render_template(
        "admin/index.html",
        deployments=engine.deployments(),
        problems=problems or [],
        checked=checked,
        changes=changes,
        comment=request.form.get("comment", ""),
        waiting=engine.task_counts(current_actor())["all"],
    )


@admin_blueprint.get("/")
def index() -> ResponseReturnValue:
    """What is deployed: every deployment with its files, versions and the cases on each,
    and the form to validate and deploy new files."""
    return _page()


def _uploads() -> list[tuple[str, bytes]]:
    return [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]


def _base() -> int | None:
    """The deployment whose files the uploaded ones replace, if the form says so."""
    raw = request.form.get("base", "")
    return int(raw) if raw.isdigit() and request.form.get("on_top") else None


def posted_comment() -> str:
    return request.form.get("comment", "").strip()[:MAX_COMMENT]


@admin_blueprint.post("/deployments/check")
def check() -> ResponseReturnValue:
    """Validate the uploaded files without deploying: every problem by file and element,
    and, when they would deploy, what they change against the deployed files."""
    engine, uploads = current_engine(), _uploads()
    problems = engine.check_files(uploads, _base())
    refused = any(p["severity"] == "error" for p in problems)
    changes = None if refused else engine.upload_diff(uploads, _base())
    return _page(problems, checked=True, changes=changes), 422 if refused else 200


def _deploy_answer(deploy: Callable[[], DeployResult]) -> ResponseReturnValue:
    """Deploy; back to the page with what was deployed, or with every problem (422)."""
    try:
        result = deploy()
    except DeployRefused as refused:
        flash(_("Not deployed: the files have problems. Nothing was changed."), "error")
        return _page([p.record() for p in refused.problems]), 422
    say_deployed(result)
    return redirect(url_for("admin.index"))


def say_deployed(result: DeployResult) -> None:
    """The flash message that says what a deploy made."""
    if not result.created:
        flash(_("Nothing changed: these files are deployed now."), "ok")
        return
    versions = "，".join(f"{p} v{v}" for p, v in sorted(result.versions.items()))
    flash(
        _(
            "Deployed as deployment %(id)s: %(versions)s.",
            id=result.deployment_id,
            versions=versions,
        ),
        "ok",
    )


@admin_blueprint.post("/deployments")
def deploy() -> ResponseReturnValue:
    """Deploy the uploaded files, all or nothing, with the comment."""
    engine = current_engine()
    return _deploy_answer(
        lambda: engine.deploy_files(_uploads(), current_actor(), posted_comment(), _base())
    )


@admin_blueprint.post("/deployments/<int:deployment_id>/redeploy")
def redeploy(deployment_id: int) -> ResponseReturnValue:
    """Roll back: deploy an earlier deployment's files again as new versions."""
    comment = posted_comment() or _("Roll back to deployment %(id)s", id=deployment_id)
    return _deploy_answer(
        lambda: current_engine().redeploy(deployment_id, current_actor(), comment)
    )


@admin_blueprint.get("/deployments/<int:deployment_id>/files.zip")
def download(deployment_id: int) -> ResponseReturnValue:
    """A deployment's files as a zip, named as deployed (uploading it deploys them again)."""
    data = current_engine().deployment_zip(deployment_id)
    name = f"deployment-{deployment_id}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, mimetype="application/zip", headers=headers)


from . import (  # noqa: E402, F401  - join
    admin_files,
    admin_migration,
    admin_org,
    admin_shapes,
    admin_users,
    admin_webhooks,
)
