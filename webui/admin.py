"""The administrators' pages. One role check covers the whole blueprint, so a page added
here can never be left open to other roles."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from .context import current_engine

admin_blueprint = Blueprint("admin", __name__, url_prefix="/admin")
ADMIN_ROLE = "admin"


@admin_blueprint.before_request
@login_required
def admins_only() -> ResponseReturnValue | None:
    if not current_user.has_role(ADMIN_ROLE):
        abort(403)
    return None


@admin_blueprint.get("/")
def index() -> ResponseReturnValue:
    """What is deployed: every deployment with its files, versions and the cases on each."""
    return render_template("admin/index.html", deployments=current_engine().deployments())


from . import admin_users  # noqa: E402, F401  - its pages join the blueprint (and its check)
