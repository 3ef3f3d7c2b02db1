"""JSON API endpoints: /api/v1 and the seeds/000 listing. Each parses its input (checked
against the OpenAPI description), calls one domain function, and renders the result."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for
from werkzeug.routing import IntegerConverter

from .. import accounts
from ..catalog import service as catalog
from ..extensions import csrf
from ..generation import quota, service
from ..generation.templates import all_templates
from ..models import IN_FLIGHT
from ..web.media import may_read, send_media
from . import resources
from .errors import ApiError, handle_errors_of
from .openapi import LEGACY_STATUSES, MAX_ID, SPEC
from .validation import json_body, parameters

bp = Blueprint("api", __name__)
csrf.exempt(bp)
handle_errors_of(bp)

PUBLIC_ENDPOINTS = {"api.openapi"}
ID = "api_id"  # see IdConverter
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
}


class IdConverter(IntegerConverter):
    """An id in a path. Only digits match (so /videos/bulk is never taken for a video id); a
    number too big to be an id becomes 0, which is no id, so the lookup answers 404 instead
    of a query failing on a number the column cannot hold."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


@bp.before_request
def _authenticate():
    """Bearer token → g.workspace and g.api_user. CORS preflights carry no token."""
    if request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise ApiError(401, "unauthorized", "Send your API token as 'Authorization: Bearer <token>' (make one in Settings).")
    token = accounts.token_for(plain.strip())
    if token is None or accounts.membership(token.user, token.workspace_id) is None:
        raise ApiError(401, "unauthorized", "The API token is invalid or has been revoked.")
    g.workspace, g.api_user = token.workspace, token.user


@bp.after_request
def _cors(response):
    # Bearer tokens are not cookies: letting any origin read the answers leaks nothing.
    response.headers.update(CORS_HEADERS)
    return response


def _data(payload, status: int = 200, headers: dict | None = None):
    response = jsonify({"data": payload})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _page_args(operation_id: str) -> tuple[dict, int, int]:
    args = parameters(operation_id)
    return args, args["page"], args["limit"]


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(SPEC)


@bp.get("/api/v1/products")
def list_products():
    args, page, limit = _page_args("listProducts")
    products = catalog.list_products(g.workspace, page, limit, args["search"])
    templates = catalog.completed_templates(p.id for p in products.items)
    return _data({
        "products": [resources.product(p, templates.get(p.id, ())) for p in products.items],
        "pagination": products.as_dict(),
    })


@bp.get(f"/api/v1/products/<{ID}:product_id>")
def get_product(product_id: int):
    product = service.get_product(g.workspace, product_id)
    return _data(resources.product(product, catalog.completed_templates([product.id]).get(product.id, ())))


@bp.get("/api/v1/templates")
def list_templates():
    return _data({"templates": [resources.template(t) for t in all_templates()]})


@bp.get("/api/v1/usage")
def usage():
    return _data(quota.usage(g.workspace).as_dict())


def _video(video, status: int = 200, headers: dict | None = None):
    position = service.queue_positions([video]).get(video.id)
    return _data(resources.video(video, position), status, headers)


@bp.get("/api/v1/videos")
def list_videos():
    args, page, limit = _page_args("listVideos")
    videos = service.list_videos(
        g.workspace, page, limit, status=args["status"], search=args["search"], product_id=args["productId"],
        sort=args["sortBy"], order=args["sortOrder"],
    )
    positions = service.queue_positions(videos.items)
    return _data({
        "videos": [resources.video(v, positions.get(v.id)) for v in videos.items],
        "pagination": videos.as_dict(),
    })


@bp.post("/api/v1/videos")
def create_video():
    idempotency_key = parameters("createVideo")["Idempotency-Key"]
    body = json_body("createVideo")
    video, created = service.create_video(
        g.workspace, g.api_user, product_id=body["productId"], template=body["template"],
        custom_instructions=body.get("customInstructions"), options=body.get("options"),
        idempotency_key=idempotency_key,
    )
    location = {"Location": url_for("api.get_video", video_id=video.id)}
    return _video(video, 202 if created else 200, location)


@bp.post("/api/v1/videos/bulk")
def create_videos_bulk():
    body = json_body("createVideosBulk")
    outcomes = service.create_bulk(
        g.workspace, g.api_user, product_ids=body["productIds"], template=body["template"],
        options=body.get("options"), custom_instructions=body.get("customInstructions"),
        skip_existing=body.get("skipExisting", True),
    )
    kinds = {"queued": "queued", "skipped_existing": "skippedExisting", "over_quota": "overQuota", "invalid": "invalid"}
    summary = dict.fromkeys(kinds.values(), 0)
    for outcome in outcomes:
        summary[kinds[outcome.result]] += 1
    return _data({"results": [resources.bulk_outcome(o) for o in outcomes], "summary": summary}, 202)


@bp.get(f"/api/v1/videos/<{ID}:video_id>")
def get_video(video_id: int):
    return _video(service.get_video(g.workspace, video_id))


@bp.delete(f"/api/v1/videos/<{ID}:video_id>")
def delete_video(video_id: int):
    service.delete_video(g.workspace, video_id)
    return "", 204


@bp.post(f"/api/v1/videos/<{ID}:video_id>/cancel")
def cancel_video(video_id: int):
    return _video(service.cancel_video(g.workspace, video_id))


@bp.post(f"/api/v1/videos/<{ID}:video_id>/retry")
def retry_video(video_id: int):
    return _video(service.retry_video(g.workspace, video_id), 202)


@bp.get("/api/v1/media/<path:relative>")
def media(relative: str):
    """The files behind videoUrl, thumbnailUrl and image URLs, for the token's workspace."""
    if not may_read(relative, g.workspace.id):
        raise ApiError(404, "not_found", "No such file in this workspace.")
    return send_media(relative)


@bp.get("/api/video-generations/all")
def video_generations():
    args, page, limit = _page_args("listVideoGenerations")
    status = args["status"]
    statuses = IN_FLIGHT if status == "processing" else [status] if status in LEGACY_STATUSES else []
    records = catalog.video_generations(
        g.workspace, page, limit, statuses=statuses,
        order_by="updated_at" if args["orderBy"] in ("updatedAt", "updated_at") else "created_at",
        descending=args["orderDirection"].lower() == "desc",
    )
    return jsonify({
        "status": "success",
        "data": {"records": [resources.generation_record(v) for v in records.items], "pagination": records.as_dict()},
    })
