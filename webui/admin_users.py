"""The administrators' users pages: every account with its roles, department, grids, state,
live sessions and working API tokens; adding one and changing its roles, department and grids
(the tasks they may no longer work go back to their groups); deactivating (their sessions and
tokens end, their claimed tasks go back to the groups), reactivating, setting a new password
(their sessions end), revoking a token. Under the admin blueprint, so its role check holds."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired

from engine import FormInvalid, OrgRefused, UserAccount

from .admin import admin_blueprint
from .admin_org import grid_rows, refused_messages
from .context import current_actor, current_engine
from .form_errors import field_messages
from .roles import known_roles


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    new_password_again = PasswordField(_l("New password again"), validators=[DataRequired()])


@admin_blueprint.get("/users")
def users() -> ResponseReturnValue:
    """Every user, active or not."""
    engine = current_engine()
    names = {d["code"]: d["name"] for d in engine.departments()}
    return render_template("admin/users.html", users=engine.user_accounts(), department_names=names)


def _choices() -> dict[str, Any]:
    """What the user form offers: roles, departments, grids (as a tree)."""
    engine = current_engine()
    departments = engine.departments()
    return {
        "roles": known_roles([u["roles"] for u in engine.users()]),
        "departments": departments,
        "department_names": {d["code"]: d["name"] for d in departments},
        "grid_rows": grid_rows(engine.grids()),
    }


def _submitted() -> dict[str, Any]:
    """The user form as sent: what save_user takes."""
    return {
        "roles": request.form.getlist("roles"),
        "display_name": (request.form.get("display_name") or "").strip() or None,
        "department": request.form.get("department") or None,
        "grids": request.form.getlist("grids"),
        "email": (request.form.get("email") or "").strip() or None,
    }


@admin_blueprint.get("/users/new")
def new_user() -> ResponseReturnValue:
    return render_template("admin/user_new.html", values=None, errors={}, **_choices())


@admin_blueprint.post("/users/new")
def add_user() -> ResponseReturnValue:
    """A new account, without a password: the administrator sets one on its page next."""
    username = (request.form.get("username") or "").strip()
    errors: dict[str, str] = {}
    if any(u["name"] == username for u in current_engine().users()):
        errors["username"] = _("There is already a user %(name)s.", name=username)
    else:
        try:
            current_engine().save_user(username, current_actor().username, **_submitted())
        except OrgRefused as refused:
            errors = refused_messages(refused)
    if errors:
        page = render_template(
            "admin/user_new.html", values=request.form, errors=errors, **_choices()
        )
        return page, 422
    flash(_("%(name)s is added: set their password below.", name=username), "ok")
    return _back(username)


@admin_blueprint.post("/users/<username>/edit")
def edit_user(username: str) -> ResponseReturnValue:
    """Roles, department, grids, name and e-mail; claimed tasks they may no longer work go
    back to their groups."""
    _account(username)
    try:
        current_engine().save_user(username, current_actor().username, **_submitted())
    except OrgRefused as refused:
        return _user_page(username, NewPasswordForm(), refused_messages(refused), True), 422
    flash(_("The account of %(name)s is saved.", name=username), "ok")
    return _back(username)


def _account(username: str) -> UserAccount:
    for account in current_engine().user_accounts():
        if account["name"] == username:
            return account
    abort(404)


def _user_page(
    username: str, form: NewPasswordForm, errors: dict[str, str], edited: bool = False
) -> str:
    return render_template(
        "admin/user.html",
        user=_account(username),
        values=request.form if edited else None,
        **_choices(),
        tokens=current_engine().tokens(username),
        form=form,
        errors=errors,
        minimum=current_engine().config.password_min_length,
        is_me=username == current_actor().username,
    )


def _back(username: str) -> Response:
    return redirect(url_for("admin.user", username=username))


@admin_blueprint.get("/users/<username>")
def user(username: str) -> ResponseReturnValue:
    """One account: what it is, its tokens, and what an administrator can do with it."""
    return _user_page(username, NewPasswordForm(), {})


@admin_blueprint.post("/users/<username>/deactivate")
def deactivate(username: str) -> ResponseReturnValue:
    name = _account(username)["display_name"] or username
    if username == current_actor().username:
        flash(_("You cannot deactivate your own account."), "error")
        return _back(username)
    released = current_engine().deactivate_user(username, by=current_actor().username)
    flash(_("%(name)s is deactivated: their sessions and API tokens have ended.", name=name), "ok")
    if released:
        flash(
            ngettext(
                "%(num)s task they had claimed went back to its group.",
                "%(num)s tasks they had claimed went back to their groups.",
                released,
            ),
            "ok",
        )
    return _back(username)


@admin_blueprint.post("/users/<username>/reactivate")
def reactivate(username: str) -> ResponseReturnValue:
    name = _account(username)["display_name"] or username
    current_engine().reactivate_user(username, by=current_actor().username)
    flash(_("%(name)s can sign in again (their old API tokens stay revoked).", name=name), "ok")
    return _back(username)


@admin_blueprint.post("/users/<username>/password")
def reset_password(username: str) -> ResponseReturnValue:
    """Set a new password for someone who lost theirs: every session of theirs ends."""
    name = _account(username)["display_name"] or username
    form = NewPasswordForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        errors = {field: _("Please fill in this field.") for field in form.errors}
    elif form.new_password.data != form.new_password_again.data:
        errors["new_password_again"] = _("The two new passwords are not the same.")
    else:
        try:
            current_engine().reset_password(
                username, form.new_password.data or "", by=current_actor().username
            )
        except FormInvalid as invalid:
            errors = field_messages(invalid)
        else:
            done = _("The password of %(name)s is set; they were signed out everywhere.", name=name)
            flash(done, "ok")
            return _back(username)
    return _user_page(username, form, errors), 422


@admin_blueprint.post("/users/<username>/tokens/<int:token_id>/revoke")
def revoke_token(username: str, token_id: int) -> ResponseReturnValue:
    _account(username)
    current_engine().revoke_token(username, token_id, by=current_actor().username)
    flash(_("API token %(id)s is revoked: it is refused from now on.", id=token_id), "ok")
    return _back(username)
