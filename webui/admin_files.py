"""Editing one process file of the deployed version in the browser: a BPMN file in the
bpmn-js modeler, a DMN file in dmn-js, a form or another text file in a text editor (a form
with a live preview drawn by the task pages' renderer). The draft is validated, compared with
the deployed file and deployed with a comment through the same engine calls as an upload, on
top of the newest deployment, so its other files are kept. Part of the administrators'
blueprint (its role check covers it); the page's scripts keep the draft in the browser."""

from __future__ import annotations

from pathlib import PurePosixPath

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from engine import DeployRefused, FileDiff, NotFound, ProblemRecord

from .admin import admin_blueprint, posted_comment, say_deployed
from .context import current_actor, current_engine
from .editor_texts import editor_texts
from .process_texts import localized_fields

EDITORS = {".bpmn": "bpmn", ".dmn": "dmn", ".json": "form"}  # any other file: plain text


def editor_of(name: str) -> str:
    """Which editor a process file opens in: bpmn, dmn, form or text."""
    path = PurePosixPath(name)
    editor = EDITORS.get(path.suffix, "text")
    if editor == "form" and (path.parent.name != "forms" or path.stem.startswith("_")):
        return "text"  # shared definitions are not a form of their own: nothing to preview
    return editor


def _newest() -> int:
    deployments = current_engine().deployments()
    if not deployments:
        abort(404)
    return deployments[0]["id"]


def _deployed_content(name: str, deployment_id: int) -> str:
    try:
        return current_engine().deployed_file(deployment_id, name)
    except NotFound:
        abort(404)


def _page(
    name: str,
    content: str,
    base: int,
    began_on: int | None = None,
    problems: list[ProblemRecord] | None = None,
    checked: bool = False,
    changes: list[FileDiff] | None = None,
    deployed: bool = False,
) -> str:
    editor = editor_of(name)
    return render_template(
        "admin/edit.html",
        name=name,
        editor=editor,
        editor_texts=editor_texts(editor),  # the modeler's own texts in the reader's language
        content=content,
        base=base,
        began_on=began_on if began_on is not None else base,
        problems=problems or [],
        checked=checked,
        changes=changes,
        comment=request.form.get("comment", ""),
        deployed=deployed,
    )


@admin_blueprint.get("/files/<path:name>")
def edit_file(name: str) -> ResponseReturnValue:
    """The file as the newest deployment has it, in its editor."""
    base = _newest()
    deployed = request.args.get("deployed") == str(base)  # the answer to our own deploy
    return _page(name, _deployed_content(name, base), base, deployed=deployed)


def _draft(name: str) -> tuple[str, int, int | None]:
    """The posted draft, the newest deployment (the draft goes on top of it, so that a file
    deployed since the editing began is kept) and the deployment the editing began on."""
    base = _newest()
    _deployed_content(name, base)  # a file of the deployment, or 404
    began = request.form.get("base", "")
    return request.form.get("content", ""), base, int(began) if began.isdigit() else None


@admin_blueprint.post("/files/<path:name>/check")
def check_file(name: str) -> ResponseReturnValue:
    """Validate the draft with the deployment's other files, storing nothing: every problem
    by file and element, and what it changes against the deployed file."""
    engine = current_engine()
    content, base, began = _draft(name)
    uploads = [(name, content.encode("utf-8"))]
    problems = engine.check_files(uploads, base)
    refused = any(p["severity"] == "error" for p in problems)
    changes = None if refused else engine.upload_diff(uploads, base)
    page = _page(name, content, base, began, problems, checked=True, changes=changes)
    return page, 422 if refused else 200


@admin_blueprint.post("/files/<path:name>/deploy")
def deploy_file(name: str) -> ResponseReturnValue:
    """Deploy the draft on top of the newest deployment, all or nothing, with the comment."""
    engine = current_engine()
    content, base, began = _draft(name)
    uploads = [(name, content.encode("utf-8"))]
    try:
        result = engine.deploy_files(uploads, current_actor(), posted_comment(), base)
    except DeployRefused as refused:
        flash(_("Not deployed: the files have problems. Nothing was changed."), "error")
        problems = [p.record() for p in refused.problems]
        return _page(name, content, base, began, problems), 422
    say_deployed(result)
    return redirect(url_for("admin.edit_file", name=name, deployed=result.deployment_id))


@admin_blueprint.post("/files/<path:name>/preview")
def preview_form(name: str) -> ResponseReturnValue:
    """A draft form drawn as the task pages draw it (the page asks while one types); its
    problems instead when it is not a form that loads."""
    if editor_of(name) != "form":
        abort(404)
    base = _newest()
    schema, problems = current_engine().draft_form(name, request.form.get("content", ""), base)
    fields = localized_fields(schema, {}) if schema is not None else []
    return render_template("admin/_form_preview.html", fields=fields, problems=problems)
