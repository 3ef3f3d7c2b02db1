"""Inbound provider callbacks: signature verification, de-duplication, applying reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .views import bp

    app.register_blueprint(bp)
