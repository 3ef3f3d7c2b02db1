"""The storefront endpoint: what a store's product page asks (``static/embed.js``) from a
shopper's browser, with the workspace's publishable key, and the media its answer links to.

Public (no token, no cookie), read only, never near the render queue. CORS answers only the
workspace's allowed origins (``Vary: Origin``). Answers are the same bytes on every call until
the video changes: a strong ETag turns repeats into 304s, and ``Cache-Control: public`` lets the
shopper's browser and any CDN in front of Reelboard keep them a minute. An unknown key and an
unknown product get the same 404.

``GET /storefront/v1/products/<external key>/video`` carries a store's whole traffic (every
product page view), so it is served in front of Flask (``ProductVideoEndpoint``, a WSGI layer
around the app): none of the dashboard's per-request machinery (session, login, CSRF, rate
limits, templates) runs for it, and each process keeps each answer for STOREFRONT_CACHE_S
(5 s) before asking the database again — an answer may be that much older than a change, well
inside the minute browsers keep it anyway. bench/storefront.py measures it. The media files
its answers link to are ordinary Flask routes (``bp``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.http import parse_etags

from .. import media
from ..catalog import storefront
from ..extensions import limiter, sqlite_reads_only
from .errors import handle_errors_of
from .resources import iso

log = logging.getLogger(__name__)

bp = Blueprint("storefront", __name__)
handle_errors_of(bp)  # a file gone from storage is a JSON 404 too
# Shoppers behind one address (a mobile carrier's NAT, an office) must not be limited as one;
# a CDN or the browser cache absorbs repeats (Cache-Control: public).
limiter.exempt(bp)

PRODUCTS_PATH, VIDEO_SUFFIX = "/storefront/v1/products/", "/video"
MEDIA_PATH = "/storefront/v1/media/"
MAX_AGE_S = 60  # a new video shows on a store page within a minute
STALE_S = 600
MEDIA_MAX_AGE_S = 3600
PREFLIGHT_MAX_AGE_S = 86400
ANSWER_CACHING = f"public, max-age={MAX_AGE_S}, stale-while-revalidate={STALE_S}"
NOT_FOUND_BODY = json.dumps({"error": {"code": "not_found", "message": "Not found."}}).encode()
METHOD_NOT_ALLOWED_BODY = json.dumps(
    {"error": {"code": "method_not_allowed", "message": "This method is not allowed here."}}).encode()
MAX_CACHED_ANSWERS = 50_000


# ------------------------------------------------------------- answers ----


@dataclass(frozen=True)
class Answer:
    """What the endpoint says about one product under one key, whoever asks: the workspace's
    allowed origins (None: no such key) and the JSON (None: 404) with its version (the ETag)."""

    allowed_origins: list[str] | None
    body: bytes | None = None
    version: str | None = None


def _media_url(base: str, video: storefront.StorefrontVideo, kind: str, key: str) -> str:
    return f"{base}{MEDIA_PATH}{storefront.media_token(video.video_id, kind, key)}"  # URL-safe as it is


def find_answer(key: str, external_key: str) -> Answer:
    """The answer, from the database (in an app context)."""
    found = storefront.latest_video(key, external_key)
    video = found.video
    if video is None:
        return Answer(found.allowed_origins)
    base = current_app.config["PUBLIC_BASE_URL"]
    resource = {
        "videoUrl": _media_url(base, video, "video", key),
        "posterUrl": _media_url(base, video, "poster", key) if video.has_poster else None,
        "captionsUrl": _media_url(base, video, "captions", key) if video.has_captions else None,
        "width": video.width,
        "height": video.height,
        "title": video.title,
        "updatedAt": iso(video.updated_at),
    }
    body = json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()
    return Answer(found.allowed_origins, body, video.version(key))


class AnswerCache:
    """This process's answers, each kept ``ttl_s`` seconds. Nothing here has to agree with other
    processes: each asks the database again when its copy is older than that."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._answers: dict[tuple[str, str], tuple[float, Answer]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, external_key: str, find: Callable[[], Answer]) -> Answer:
        now = time.monotonic()
        kept = self._answers.get((key, external_key))
        if kept is not None and kept[0] > now:
            return kept[1]
        answer = find()
        if self.ttl_s > 0:
            with self._lock:
                if len(self._answers) >= MAX_CACHED_ANSWERS:
                    self._answers.pop(next(iter(self._answers)))  # the oldest stored
                self._answers[(key, external_key)] = (now + self.ttl_s, answer)
        return answer


def _cors_headers(allowed_origins: list[str] | None, origin: str | None) -> list[tuple[str, str]]:
    headers = [("Vary", "Origin")]
    if origin and allowed_origins and origin in allowed_origins:
        headers.append(("Access-Control-Allow-Origin", origin))
    return headers


def respond(answer: Answer, method: str, origin: str | None, if_none_match: str | None
            ) -> tuple[str, list[tuple[str, str]], bytes]:
    """Status, headers and body for one request: 200, 304 (the ETag it holds is current), 404,
    or 204 for a CORS preflight."""
    headers = [("X-Content-Type-Options", "nosniff"), *_cors_headers(answer.allowed_origins, origin)]
    if method == "OPTIONS":
        headers += [("Access-Control-Allow-Methods", "GET"), ("Access-Control-Allow-Headers", "If-None-Match"),
                    ("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_S))]
        return "204 No Content", headers, b""
    if answer.body is None:
        headers += [("Content-Type", "application/json"), ("Cache-Control", f"public, max-age={MAX_AGE_S}")]
        return "404 Not Found", headers, NOT_FOUND_BODY
    headers += [("ETag", f'"{answer.version}"'), ("Cache-Control", ANSWER_CACHING)]
    if if_none_match and parse_etags(if_none_match).contains(answer.version):
        return "304 Not Modified", headers, b""
    return "200 OK", [*headers, ("Content-Type", "application/json")], answer.body


class ProductVideoEndpoint:
    """``GET|HEAD|OPTIONS /storefront/v1/products/<external key>/video?key=…`` in front of the
    Flask app; every other request goes on to the app."""

    def __init__(self, app: Flask, downstream: Callable[..., Iterable[bytes]]) -> None:
        self.app, self.downstream = app, downstream
        self.cache = AnswerCache(float(app.config["STOREFRONT_CACHE_S"]))

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not (path.startswith(PRODUCTS_PATH) and path.endswith(VIDEO_SUFFIX)
                and len(path) > len(PRODUCTS_PATH) + len(VIDEO_SUFFIX)):
            return self.downstream(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD", "OPTIONS"):
            start_response("405 Method Not Allowed", [("Allow", "GET, HEAD, OPTIONS"), ("Content-Type", "application/json")])
            return [METHOD_NOT_ALLOWED_BODY]
        # WSGI hands the path over as latin-1; a handle is UTF-8 text
        external_key = path[len(PRODUCTS_PATH):-len(VIDEO_SUFFIX)].encode("latin-1").decode("utf-8", "replace")
        key = _query_key(environ.get("QUERY_STRING", ""))
        try:
            answer = self.cache.get(key, external_key, lambda: self._find(key, external_key))
        except Exception:
            log.exception("storefront answer for %r failed", external_key[:100])
            start_response("500 Internal Server Error", [("Content-Type", "application/json")])
            return [b'{"error":{"code":"internal_error","message":"Something went wrong on our side."}}']
        status, headers, body = respond(answer, method, environ.get("HTTP_ORIGIN"), environ.get("HTTP_IF_NONE_MATCH"))
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [b""] if method == "HEAD" else [body]

    def _find(self, key: str, external_key: str) -> Answer:
        with self.app.app_context():
            reads_only = sqlite_reads_only.set(True)
            try:
                return find_answer(key, external_key)
            finally:
                sqlite_reads_only.reset(reads_only)


def _query_key(query: str) -> str:
    """The ``key`` parameter of the query string ("" without one)."""
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "key":
            return unquote_plus(value)
    return ""


def install(app: Flask) -> None:
    app.wsgi_app = ProductVideoEndpoint(app, app.wsgi_app)


# --------------------------------------------------------------- media ----


def _cors(response: Response, allowed_origins: list[str] | None) -> Response:
    for name, value in _cors_headers(allowed_origins, request.headers.get("Origin")):
        response.headers[name] = value
    return response


def _public(response: Response, max_age: int) -> Response:
    response.cache_control.private = False
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response


def _not_found(allowed_origins: list[str] | None) -> Response:
    response = Response(NOT_FOUND_BODY, 404, mimetype="application/json")
    return _cors(_public(response, MAX_AGE_S), allowed_origins)


@bp.route(f"{MEDIA_PATH}<token>", methods=["GET", "OPTIONS"], provide_automatic_options=False)
def media_file(token: str):
    """A file a storefront answer links to. Captions are served from here (a ``<track>`` on the
    store's origin must read them with CORS); the video and poster as all media are (a redirect
    to storage on S3)."""
    found = storefront.media_for_token(token)
    if found is None:
        return _not_found(None)
    if request.method == "OPTIONS":
        _, headers, _ = respond(Answer(found.allowed_origins), "OPTIONS", request.headers.get("Origin"), None)
        return Response(status=204, headers=headers)
    if found.kind == "captions":
        text = storefront.captions_text(found.file)
        if text is None:
            return _not_found(found.allowed_origins)
        response = Response(text, mimetype="text/vtt")
        response.add_etag()
        response = _public(response.make_conditional(request), MEDIA_MAX_AGE_S)
    else:
        response = media.send(found.file)
        if response.status_code in (200, 206, 304):  # a redirect keeps the storage's own caching
            _public(response, MEDIA_MAX_AGE_S)
    return _cors(response, found.allowed_origins)
