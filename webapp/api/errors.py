"""Every API error is JSON ``{"error": {"code", "message", "field"?, "problems"?}}`` with its
status: refused input, domain refusals, HTTP errors, and anything unexpected (a 500 without
details). ``problems`` lists every field refused, ``{"field", "message"}`` each, when a body has
more than one wrong: a client can mend them all before it sends again."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from ..generation.errors import GenerationError

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
HTTP_CODES = {
    400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 422: "unprocessable",
    429: "too_many_requests", 500: "internal_error",
}
MESSAGES = {
    404: "Not found.",
    405: "This method is not allowed here.",
    413: "The request body is too large.",
    500: "Something went wrong on our side. It has been logged; try again later.",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(status: int, code: str, message: str, field: str | None = None,
                   problems: tuple[tuple[str | None, str], ...] = ()):
    error: dict = {"code": code, "message": message}
    if field:
        error["field"] = field
    if len(problems) > 1:
        error["problems"] = [{"field": name, "message": text} if name else {"message": text} for name, text in problems]
    response = jsonify({"error": error})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="Reelboard API"'
    return response


def _api_error(error: ApiError):
    return error_response(error.status, error.code, error.message, error.field)


def _generation_error(error: GenerationError):
    return error_response(error.http_status, error.code, error.message, error.field, error.problems)


def _http_error(error: HTTPException):
    status = error.code or 500
    if isinstance(error, InternalServerError) and getattr(error, "original_exception", None) is not None:
        log.error("API request %s %s failed", request.method, request.path, exc_info=error.original_exception)
    message = MESSAGES.get(status) or error.description or "Request refused."
    response = error_response(status, HTTP_CODES.get(status, "error"), message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def _routing_error(error: HTTPException):
    """405 is decided before any blueprint is chosen: JSON on /api/ paths, a page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return _http_error(error)
    message = "This address does not take that kind of request. Go back and use the page's buttons and forms."
    return render_template("error.html", title="Not available here", message=message), 405


def handle_errors_of(bp: Blueprint) -> None:
    """Called once, where the blueprint is defined."""
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(GenerationError, _generation_error)
    # By code, so they win over any HTML handler the app registers for the same code.
    for code in HTTP_CODES:
        bp.register_error_handler(code, _http_error)


def init_app(app: Flask) -> None:
    app.register_error_handler(405, _routing_error)
