"""Reelboard: turn an e-commerce catalog into product videos."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from .config import PROJECT_ROOT, Config
from .numbers import IdConverter
from .storage import storage_for


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_mapping(Config().as_dict())
    if config:
        app.config.from_mapping(config)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]  # never weaker than the session
    # Media storage, made now so that a wrong STORAGE_URL stops the app at start (the
    # filesystem backend creates MEDIA_DIR; with S3 nothing is written locally).
    storage_for(app.config)
    app.url_map.converters["int"] = IdConverter
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every tick at INFO
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from . import cli, jobs
    from .api import init_app as init_api
    from .extensions import csrf, db, htmx, limiter, login_manager, migrate
    from .web import init_app as init_web
    from .webhooks import init_app as init_webhooks

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    init_web(app)
    init_api(app)
    init_webhooks(app)
    cli.init_app(app)
    jobs.init_app(app)
    return app
