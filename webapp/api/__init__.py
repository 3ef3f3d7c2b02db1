"""The JSON API: /api/v1 with bearer tokens, and the seeds/000 listing."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import errors
    from .views import ID, IdConverter, bp

    app.url_map.converters[ID] = IdConverter
    errors.init_app(app)
    app.register_blueprint(bp)
