"""The web layer: Flask app factory over the engine facade. No SpiffWorkflow here.

One blueprint per audience, each with its own templates folder (`templates/<blueprint>/`):
auth, queue, tasks, report, cases, supervise, inbox, public, photos, admin, api.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request, session, url_for
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from engine import Engine

from .context import ENGINE_KEY
from .converters import BoundedInt

LANGUAGES = ("zh", "en")  # the catalog is "zh": Babel reads "zh_CN" as zh_Hans_CN
csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """zh-CN first: the user's choice, else what the browser prefers among ours, else zh_CN."""
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def _local_secret(data_dir: Path) -> str:
    """A secret made once per installation and kept in the data folder (mode 600), so that
    sessions cannot be forged with a known key. Several machines: set HAZARDFLOW_SECRET_KEY."""
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(engine: Engine | None = None, **settings: Any) -> Flask:
    """Build the Flask app around one Engine (built from config.yaml when not given)."""
    from .admin import admin_blueprint
    from .api import api_blueprint, register_openapi
    from .auth import auth_blueprint, login_manager
    from .cases import cases_blueprint
    from .deadlines import time_left
    from .errors import register as register_error_pages
    from .headers import register as register_security_headers
    from .inbox import inbox_blueprint
    from .limits import limiter
    from .map import map_blueprint
    from .photos import photos_blueprint
    from .problem_texts import problem_text
    from .process_texts import process_text
    from .public import public_blueprint
    from .queue import queue_blueprint
    from .report import report_blueprint
    from .roles import level_label, role_label
    from .schema_form import form_value, local_time, readonly_values
    from .stats import stats_blueprint
    from .supervise import supervise_blueprint
    from .tasks import tasks_blueprint

    engine = engine or Engine()
    app = Flask(__name__)
    app.url_map.converters["int"] = BoundedInt  # before any route is added
    https = engine.config.https  # config security.https: cookies travel over HTTPS only
    app.config.update(
        SECRET_KEY=engine.config.secret_key or _local_secret(engine.config.data_dir),
        # no script reads them, no other site's form or frame sends them
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
        PREFERRED_URL_SCHEME="https" if https else "http",
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        WTF_CSRF_TIME_LIMIT=None,  # a form left open over lunch still submits
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        **settings,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # the default provider has it
    app.extensions[ENGINE_KEY] = engine
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["form_value"] = form_value
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["readonly_values"] = readonly_values
    app.jinja_env.filters["role_label"] = role_label
    app.jinja_env.filters["level_label"] = level_label
    app.jinja_env.filters["time_left"] = time_left
    # a text of the process files, in the reader's language
    app.jinja_env.filters["process_text"] = process_text
    app.jinja_env.filters["problem_text"] = problem_text

    @app.context_processor
    def photo_urls() -> dict[str, Any]:
        # where a form shows a photo: signed in, the photos page; a blueprint may say otherwise
        return {"photo_url": lambda photo_id: url_for("photos.photo", photo_id=photo_id)}

    login_manager.init_app(app)
    for blueprint in (
        auth_blueprint,
        queue_blueprint,
        tasks_blueprint,
        report_blueprint,
        cases_blueprint,
        map_blueprint,
        supervise_blueprint,
        inbox_blueprint,
        photos_blueprint,
        public_blueprint,
        admin_blueprint,
        stats_blueprint,
    ):
        app.register_blueprint(blueprint)
    limiter.init_app(app)
    app.register_blueprint(api_blueprint, url_prefix="/api/v1")
    csrf.exempt(api_blueprint)  # token-authenticated, no cookies: CSRF does not apply
    register_openapi(app)
    register_error_pages(app)
    register_security_headers(app)
    return app
