"""Webhook endpoints (filled in by the providers issue)."""

from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)
