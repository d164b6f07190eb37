"""The administrators' users pages: every account with its roles, department, grids, state,
live sessions and working API tokens (under the admin blueprint, so its role check holds)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from .admin import admin_blueprint
from .context import current_engine


@admin_blueprint.get("/users")
def users() -> ResponseReturnValue:
    """Every user, active or not."""
    return render_template("admin/users.html", users=current_engine().user_accounts())
