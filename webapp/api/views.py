"""JSON API endpoints (filled in by the API issue)."""

from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)
