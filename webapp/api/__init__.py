"""The JSON API: /api/v1 with bearer tokens, and the seeds/000 listing."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
