"""Login, logout and the language switch (Flask-Login, Flask-WTF CSRF).

A signed-in browser's session lives on the server (`Engine.open_session`): Flask-Login's user
id is a random session token, checked on every request (`Engine.session_actor`), so signing
out, a password change and deactivation end it however many copies of the cookie exist."""

from __future__ import annotations

import math
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)
from flask_wtf import FlaskForm
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from engine import Actor, Conflict, FormInvalid

from .context import current_actor, current_engine
from .errors import explain, keep_way_on, render_error
from .form_errors import field_messages
from .limits import limiter

auth_blueprint = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in first.")


class WebUser(UserMixin):
    """The signed-in person: the engine's Actor, loaded fresh for every request; the id
    Flask-Login keeps in the cookie is the token of their server-side session."""

    def __init__(self, actor: Actor, session_token: str) -> None:
        self.actor = actor
        self.id = session_token

    def has_role(self, role: str) -> bool:
        return role in self.actor.roles

    @property
    def is_leader(self) -> bool:
        """Supervising leader of some grid: escalations come to them."""
        return any(group.startswith("leader:") for group in self.actor.groups)

    @property
    def sees_figures(self) -> bool:
        """Has 考核 figures to see: all (dispatchers, administrators), their area (a
        leader), their department's (an officer): engine.stats.scope_of decides."""
        engine = current_engine()
        return engine.sees_all_cases(self.actor) or self.is_leader or bool(self.actor.department)

    @property
    def sees_map(self) -> bool:
        """Who oversees every case, and supervising leaders: the map of open hazards."""
        return current_engine().may_see_map(self.actor)

    @property
    def only_supervises(self) -> bool:
        """A leader and nothing else: their menu is what they supervise, not a work queue."""
        return self.is_leader and self.actor.roles <= {"leader"}

    @property
    def only_administers(self) -> bool:
        """An administrator and nothing else: their menu is the administration (process
        files, users), not a work queue, and they land there."""
        return not self.is_leader and self.actor.roles == {"admin"}


@login_manager.user_loader
def load_user(session_token: str) -> WebUser | None:
    actor = current_engine().session_actor(session_token)
    return WebUser(actor, session_token) if actor is not None else None


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    # Only paths on this site: never redirect a login to another host.
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("queue.home")


# --- sign-in throttling ------------------------------------------------------------------------
# Failed sign-ins are counted (Flask-Limiter, moving windows, config `security.sign_in_limit_*`)
# per user name and per client address; a refused attempt is not checked at all, so the right
# password does not get through either. So that an attacker's failures cannot lock the real
# user out for as long as they go on, a browser that signed in as that user before (a signed
# cookie, OWASP's "device cookie") counts its failures for that user on its own.
DEVICE_COOKIE = "hazardflow_device"
DEVICE_DAYS = 180


def _typed_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:80]


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="hazardflow.device")


def _known_device() -> str | None:
    """This browser's id if it signed in as the user name typed before."""
    try:
        known = _devices().loads(
            request.cookies.get(DEVICE_COOKIE, ""), max_age=DEVICE_DAYS * 86400
        )
    except BadData:
        return None
    if isinstance(known, dict) and known.get("user") == _typed_username():
        return str(known.get("device") or "") or None
    return None


def _user_key() -> str:
    name = _typed_username()
    if not name:
        return ""  # nothing typed: only the address counts
    device = _known_device()
    return f"user:{name}|{device}" if device else f"user:{name}"


def _address_key() -> str:
    return f"address:{request.remote_addr or ''}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _per_user() -> str:
    return current_engine().config.sign_in_limit_per_user


def _per_address() -> str:
    return current_engine().config.sign_in_limit_per_address


def _remember_device(response: Response) -> Response:
    device = _known_device() or secrets.token_urlsafe(12)
    response.set_cookie(
        DEVICE_COOKIE,
        _devices().dumps({"user": _typed_username(), "device": device}),
        max_age=DEVICE_DAYS * 86400,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


@auth_blueprint.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _per_user, methods=["POST"], key_func=_user_key, deduct_when=_failed, scope="sign-in-user"
)
@limiter.limit(
    _per_address,
    methods=["POST"],
    key_func=_address_key,
    deduct_when=_failed,
    scope="sign-in-address",
)
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        # DataRequired has made sure both are there
        actor = current_engine().sign_in(form.username.data or "", form.password.data or "")
        if actor is not None:
            _start_session(actor)
            return _remember_device(redirect(_safe_next(request.args.get("next"))))
        flash(_("Wrong user name or password."), "error")
    return render_template("auth/login.html", form=form, demo=_demo_logins()), (
        200 if request.method == "GET" else 401
    )


def _start_session(actor: Actor) -> None:
    """A new server-side session, in a cookie that keeps nothing of the one before sign-in
    but the chosen language (no session fixation: the token is new at every sign-in)."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    login_user(WebUser(actor, current_engine().open_session(actor.username)))


@auth_blueprint.errorhandler(429)
def too_many_sign_ins(error: HTTPException) -> ResponseReturnValue:
    """A refused sign-in says why, for how long, and that nothing is locked."""
    if request.endpoint != "auth.login":
        return render_error(error)
    wait = 60
    refused = limiter.current_limit
    if refused is not None:
        wait = max(1, math.ceil(refused.reset_at - time.time()))
    explain(
        _(
            "Too many failed sign-ins for this user name or from your address. Nothing is "
            "locked: please wait %(minutes)s min and try again.",
            minutes=max(1, math.ceil((wait - 1) / 60)),  # reset_at is rounded up
        )
    )
    keep_way_on(_("Sign in"), url_for("auth.login"))
    response = make_response(render_error(error))
    response.headers["Retry-After"] = str(wait)
    return response


# One sign-in per part of a case, shown while the demo password still works.
DEMO_SHOWN = ("dispatcher", "dept_yjj", "member_d1_t1_v1", "leader_ap_d1_t1_v1", "admin")


def _demo_logins() -> dict[str, Any] | None:
    """While the demo organisation still has its demo password, show its logins on the sign-in
    page, so that a newcomer can play every part of a case without reading anything. Checked
    once per process: hashing is slow on purpose."""
    cache = current_app.extensions.setdefault("hazardflow.demo", {})
    if "logins" not in cache:
        engine = current_engine()
        accounts = engine.demo_accounts()
        password = accounts["password"] if accounts else None
        cache["logins"] = None
        if password and engine.password_is("dispatcher", password):
            cache["logins"] = {"password": password, "users": list(DEMO_SHOWN)}
    logins: dict[str, Any] | None = cache["logins"]
    return logins


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    new_password_again = PasswordField(_l("New password again"), validators=[DataRequired()])


def _signed_in_user() -> str:
    return current_actor().username if current_user.is_authenticated else request.remote_addr or ""


@auth_blueprint.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per hour", methods=["POST"], key_func=_signed_in_user)
def password() -> ResponseReturnValue:
    """Every user changes their own password: the current one, the new one twice."""
    form = PasswordForm()
    errors: dict[str, str] = {}
    minimum = current_engine().config.password_min_length
    if form.validate_on_submit():
        new = form.new_password.data or ""
        if new != form.new_password_again.data:
            errors["new_password_again"] = _("The two new passwords are not the same.")
        else:
            try:
                current_engine().change_password(
                    current_actor().username,
                    form.current_password.data or "",
                    new,
                    keep_session=current_user.get_id(),
                )
            except FormInvalid as invalid:
                errors = field_messages(invalid)
            except Conflict:
                errors["current_password"] = _(
                    "Your password was changed elsewhere meanwhile. Sign in again."
                )
            else:
                done = _("Your password was changed, and you were signed out everywhere else.")
                flash(done, "ok")
                return redirect(url_for("queue.home"))
    elif request.method == "POST":
        errors = {name: _("Please fill in this field.") for name in form.errors}
    return render_template("auth/password.html", form=form, errors=errors, minimum=minimum), (
        422 if errors or request.method == "POST" else 200
    )


@auth_blueprint.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        current_engine().end_session(current_user.get_id())
    logout_user()
    return redirect(url_for("auth.login"))


@auth_blueprint.post("/lang/<code>")
def set_language(code: str) -> ResponseReturnValue:
    from . import LANGUAGES

    if code in LANGUAGES:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")))
