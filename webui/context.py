"""The request's engine and signed-in person, typed: every blueprint reads them from here."""

from __future__ import annotations

from typing import cast

from flask import current_app
from flask_login import current_user

from engine import Actor, Engine

ENGINE_KEY = "hazardflow.engine"


def current_engine() -> Engine:
    """The Engine the app was built around (`create_app`)."""
    return cast(Engine, current_app.extensions[ENGINE_KEY])


def current_actor() -> Actor:
    """The signed-in person as the engine knows them (loaded fresh for every request)."""
    return cast(Actor, current_user.actor)
