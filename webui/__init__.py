"""The web layer: Flask app factory over the engine facade. No SpiffWorkflow here."""

from __future__ import annotations

from typing import Any

from flask import Flask

from engine import Engine


def create_app(engine: Engine | None = None, **settings: Any) -> Flask:
    """Build the Flask app around one Engine (built from config.yaml when not given)."""
    from .api import api_blueprint, register_openapi
    from .home import home_blueprint

    engine = engine or Engine()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=engine.config.secret_key or "dev-only-change-me",
        JSON_AS_ASCII=False,
        **settings,
    )
    app.json.ensure_ascii = False
    app.extensions["hazardflow.engine"] = engine
    app.register_blueprint(home_blueprint)
    app.register_blueprint(api_blueprint, url_prefix="/api/v1")
    register_openapi(app)
    return app
