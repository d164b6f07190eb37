"""Serving with gunicorn from inside the `hazardflow` command (no separate config file)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from engine import Config


class HazardFlowServer(BaseApplication):
    """Each worker process builds its own Engine (its own connection pool and caches)."""

    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.config_obj = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:  # gunicorn's WSGI callable
        from engine import Engine

        from . import create_app

        engine = Engine(self.config_obj)
        if self.config_obj.sweep_in_web:
            engine.start_timer_sweeps()  # in the worker process, after the fork
        return create_app(engine)


def run_server(config: Config, host: str, port: int, workers: int, threads: int) -> None:
    HazardFlowServer(
        config,
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
        },
    ).run()
