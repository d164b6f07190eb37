"""The administrators' users pages: every account with its roles, department, grids, state,
live sessions and working API tokens; deactivating (their sessions and tokens end, their
claimed tasks go back to the groups), reactivating, setting a new password (their sessions
end), revoking a token. Under the admin blueprint, so its role check holds."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired

from engine import FormInvalid, UserAccount

from .admin import admin_blueprint
from .context import current_actor, current_engine
from .form_errors import field_messages


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    new_password_again = PasswordField(_l("New password again"), validators=[DataRequired()])


@admin_blueprint.get("/users")
def users() -> ResponseReturnValue:
    """Every user, active or not."""
    return render_template("admin/users.html", users=current_engine().user_accounts())


def _account(username: str) -> UserAccount:
    for account in current_engine().user_accounts():
        if account["name"] == username:
            return account
    abort(404)


def _user_page(username: str, form: NewPasswordForm, errors: dict[str, str]) -> str:
    return render_template(
        "admin/user.html",
        user=_account(username),
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
