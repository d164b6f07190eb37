"""The administrators' part of the API: deployments and their process versions, a version's
files as a zip, deploying uploaded files (or only validating them), and moving running cases
to another version (previewed first). 403 for everyone else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

from flask import Response as FlaskResponse
from flask import g, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import BaseModel, Field, RootModel
from spectree import Response

from engine import DeploymentRecord, DeployRefused, MigrationRecord, ProblemRecord

from .api import ERRORS, ErrorBody, _error, api_blueprint, spec, token_required
from .context import current_engine

View = Callable[..., ResponseReturnValue]
MAX_COMMENT = 2000


def admins_only(view: View) -> View:
    """After `token_required`: the token's user must have the role admin."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if not g.actor.is_admin:
            return _error(403, "forbidden", "only administrators manage process files")
        return view(*args, **kwargs)

    return wrapper


class DeploymentList(RootModel[list[DeploymentRecord]]):
    pass


class DeployArgs(BaseModel):
    dry_run: bool = Field(False, description="validate only: answer the problems, store nothing")


class DeployForm(BaseModel):
    """multipart/form-data: the process files, named as in the deployment (forms/report.json;
    a bare .json is a form, a bare en.yaml a translation), or one zip of them."""

    files: Any = Field(
        None,
        description="the files, one part each (repeat the field), or a zip",
        json_schema_extra={"type": "array", "items": {"type": "string", "format": "binary"}},
    )
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="why: kept and audited")
    base: int | None = Field(
        None,
        description="a deployment id: its files, with the uploaded ones replacing or added",
    )


class Checked(BaseModel):
    ok: bool = Field(description="no error: the files would deploy")
    problems: list[ProblemRecord]


class Deployed(BaseModel):
    deployment_id: int
    created: bool = Field(description="false: these files are what is deployed now")
    versions: dict[str, int] = Field(description="process id -> its newest version now")
    same_files_as: int | None = Field(description="an earlier deployment of the same files")


class CheckedOrUnchanged(RootModel[Checked | Deployed]):
    """200: a dry run's problems, or files that are the deployed ones (nothing changed)."""


class Refused(ErrorBody):
    """422: parameters that do not parse (`fields`), or files refused (`problems`)."""

    problems: list[ProblemRecord] = Field(
        default_factory=list, description="deploy_refused: every problem that refused the files"
    )


@api_blueprint.get("/deployments")
@spec.validate(resp=Response(HTTP_200=DeploymentList, **ERRORS), tags=["deployments"])
@token_required
@admins_only
def list_deployments() -> ResponseReturnValue:
    """Every deployment, newest first: who deployed it when and why, its files, and its
    process versions with the cases on each (`current`: new cases start on it)."""
    return jsonify(current_engine().deployments())


@api_blueprint.get("/deployments/<int:deployment_id>/files")
@spec.validate(resp=Response(HTTP_200=None, **ERRORS), tags=["deployments"])
@token_required
@admins_only
def deployment_files(deployment_id: int) -> ResponseReturnValue:
    """A deployment's files as a zip (application/zip), named as deployed: uploading it to
    POST /deployments deploys them again."""
    data = current_engine().deployment_zip(deployment_id)
    name = f"deployment-{deployment_id}.zip"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return FlaskResponse(data, mimetype="application/zip", headers=headers)


@api_blueprint.post("/deployments")
@spec.validate(
    query=DeployArgs,
    form=DeployForm,
    resp=Response(
        HTTP_200=CheckedOrUnchanged,
        HTTP_201=Deployed,
        HTTP_422=Refused,
        **{k: v for k, v in ERRORS.items() if k != "HTTP_422"},
    ),
    tags=["deployments"],
)
@token_required
@admins_only
def deploy() -> ResponseReturnValue:
    """Deploy process files, all or nothing, recorded in the audit log with the comment;
    files that are the deployed ones answer 200 and change nothing; files of an earlier
    deployment are deployed again (a roll back). With `dry_run=1`: only validated, 200 with
    every problem (file, element, plain explanation). Refused: 422 with the problems."""
    args = DeployArgs.model_validate(request.args.to_dict())
    form = DeployForm.model_validate(request.form.to_dict())
    uploads = [(f.filename or "", f.read()) for f in request.files.getlist("files")]
    engine = current_engine()
    if args.dry_run:
        problems = engine.check_files(uploads, form.base)
        ok = not any(p["severity"] == "error" for p in problems)
        return jsonify(ok=ok, problems=problems)
    try:
        result = engine.deploy_files(uploads, g.actor, form.comment, form.base)
    except DeployRefused as refused:
        problems = [p.record() for p in refused.problems]
        return jsonify(
            error="deploy_refused", message=str(refused), fields={}, problems=problems
        ), 422
    body = {
        "deployment_id": result.deployment_id,
        "created": result.created,
        "versions": result.versions,
        "same_files_as": result.same_files_as,
    }
    return jsonify(body), 201 if result.created else 200


MAX_MIGRATION_CASES = 1000  # each case's workflow is restored to plan it: a bounded batch


class MigrationRequest(BaseModel):
    to_version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="the version to move to (default: the newest)"
    )
    instance_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] | None = Field(
        None,
        max_length=MAX_MIGRATION_CASES,
        description="the cases to move (default: every running case on another version)",
    )
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="why: on each case")
    dry_run: bool = Field(True, description="only preview what each case would change")


class MigrationList(RootModel[list[MigrationRecord]]):
    pass


@api_blueprint.post("/processes/<process_id>/migrations")
@spec.validate(
    json=MigrationRequest, resp=Response(HTTP_200=MigrationList, **ERRORS), tags=["deployments"]
)
@token_required
@admins_only
def migrate_cases(process_id: str) -> ResponseReturnValue:
    """Preview (the default, `dry_run: true`) or run moving running cases of a process to
    another of its versions: per case, what changes, or why it may not move (the step named,
    as text and as codes). Moved cases record it, with the comment, on their timeline."""
    body = MigrationRequest.model_validate(request.get_json(silent=True) or {})
    records = current_engine().migrate_cases(
        process_id,
        g.actor,
        to_version=body.to_version,
        instance_ids=body.instance_ids,
        comment=body.comment,
        dry_run=body.dry_run,
        limit=MAX_MIGRATION_CASES,
    )
    return jsonify(records)
