"""Webhook endpoints: /webhooks/<provider>, and RCK's legacy /internal/videos/success|failure
(seeds/002). Thin: the work is in ``service``; every error is JSON {"error": {code, message}}."""

from __future__ import annotations

from flask import Blueprint, request

from ..extensions import csrf
from . import service

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)

MAX_BODY_BYTES = 1024 * 1024  # a callback is a small JSON document


def _receive(provider: str, outcome: str | None = None):
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return {"error": {"code": "too_large", "message": "A callback body is at most 1 MB."}}, 413
    try:
        receipt = service.receive(provider, request.headers, request.get_data(cache=False), outcome)
    except service.WebhookRefused as refused:
        return {"error": {"code": refused.code, "message": refused.message}}, refused.http_status
    return receipt.as_json(), 200


@bp.post("/webhooks/<provider>")
def provider_callback(provider: str):
    return _receive(provider)


@bp.post("/internal/videos/success")
def rck_success():
    return _receive("rck", "success")


@bp.post("/internal/videos/failure")
def rck_failure():
    return _receive("rck", "failure")
