"""Login, logout and the language switch (Flask-Login sessions, Flask-WTF CSRF)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from engine import NotFound
from engine.org import Actor

auth_blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in first.")


class WebUser(UserMixin):
    """The signed-in person: the engine's Actor, loaded fresh for every request."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.id = actor.username

    def has_role(self, role: str) -> bool:
        return role in self.actor.roles

    @property
    def is_leader(self) -> bool:
        """Supervising leader of some grid: escalations come to them."""
        return any(group.startswith("leader:") for group in self.actor.groups)


@login_manager.user_loader
def load_user(username: str) -> WebUser | None:
    try:
        return WebUser(current_app.extensions["hazardflow.engine"].actor(username))
    except NotFound:
        return None


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never redirect a login to another host.
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("queue.home")


@auth_blueprint.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        engine = current_app.extensions["hazardflow.engine"]
        actor = engine.sign_in(form.username.data, form.password.data)
        if actor is not None:
            login_user(WebUser(actor))
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong user name or password."), "error")
    return render_template("auth/login.html", form=form, demo=_demo_logins()), (
        200 if request.method == "GET" else 401
    )


def _demo_logins() -> dict | None:
    """While the demo organisation still has its demo password, show its logins on the sign-in
    page, so that a newcomer can play every part of a case without reading anything. Checked
    once per process: hashing is slow on purpose."""
    cache = current_app.extensions.setdefault("hazardflow.demo", {})
    if "logins" not in cache:
        from engine.demo import read_demo

        engine = current_app.extensions["hazardflow.engine"]
        cache["logins"] = None
        try:
            doc = read_demo(engine.config.demo_file)
        except OSError:
            return None
        if doc.get("password") and engine.password_is("dispatcher", doc["password"]):
            cache["logins"] = {
                "password": doc["password"],
                "users": ["dispatcher", "dept_yjj", "member_d1_t1_v1", "leader_ap_d1_t1_v1"],
            }
    return cache["logins"]


@auth_blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("auth.login"))


@auth_blueprint.post("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    from . import LANGUAGES

    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))


def current_actor() -> Actor:
    return current_user.actor
