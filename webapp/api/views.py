"""JSON API endpoints: /api/v1 and the seeds/000 listing (seeds/002's /api/videos… are
``racky``, nested here). Each parses its input (checked against the OpenAPI description), calls
one domain function, and renders the result."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request, url_for

from .. import accounts, media
from ..catalog import service as catalog
from ..catalog.products import image_file
from ..extensions import csrf
from ..generation import choice, queue, quota, service
from ..generation.templates import all_templates, preview_file
from ..models import IN_FLIGHT
from . import racky, resources, schemas, validation
from .errors import ApiError, handle_errors_of
from .openapi import Offered, spec

bp = Blueprint("api", __name__)
csrf.exempt(bp)
handle_errors_of(bp)
bp.register_blueprint(racky.bp)  # seeds/002's /api/videos…: authenticated by _authenticate below

PUBLIC_ENDPOINTS = {"api.openapi"}
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Max-Age": "600",
}


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


def _data(payload: Any, status: int = 200, headers: dict | None = None):
    response = jsonify(schemas.Data[type(payload)](data=payload).dump())
    response.status_code = status
    response.headers.update(headers or {})
    return response


@bp.get("/api/v1/openapi.json")
def openapi():
    offers = choice.offers()
    return jsonify(spec(Offered(
        templates=tuple(t.key for t in all_templates()),
        providers=tuple(offer.name for offer in offers),
        models=tuple(model for offer in offers for model in offer.models),
    )))


@bp.get("/api/v1/products")
def list_products():
    args = validation.query("listProducts")
    products = catalog.list_products(g.workspace, args.page, args.limit, args.search)
    templates = catalog.completed_templates(p.id for p in products.items)
    return _data(schemas.ProductPage(
        products=[resources.product(p, templates.get(p.id, ())) for p in products.items],
        pagination=resources.pagination(products),
    ))


@bp.get("/api/v1/products/<int:product_id>")
def get_product(product_id: int):
    product = service.get_product(g.workspace, product_id)
    return _data(resources.product(product, catalog.completed_templates([product.id]).get(product.id, ())))


@bp.get("/api/v1/templates")
def list_templates():
    return _data(schemas.TemplateList(templates=[resources.template(t) for t in all_templates()]))


@bp.get("/api/v1/usage")
def usage():
    return _data(schemas.Usage(**quota.usage(g.workspace).as_dict()))


def _video(video, status: int = 200, headers: dict | None = None):
    position = queue.queue_positions([video]).get(video.id)
    return _data(resources.video(video, position), status, headers)


@bp.get("/api/v1/videos")
def list_videos():
    args = validation.query("listVideos")
    videos = service.list_videos(
        g.workspace, args.page, args.limit, status=args.status, search=args.search, product_id=args.product_id,
        sort=args.sort_by, order=args.sort_order,
    )
    positions = queue.queue_positions(videos.items)
    return _data(schemas.VideoPage(
        videos=[resources.video(v, positions.get(v.id)) for v in videos.items],
        pagination=resources.pagination(videos),
    ))


@bp.post("/api/v1/videos")
def create_video():
    key = validation.headers("createVideo").idempotency_key
    video, created = service.create_video(g.workspace, g.api_user, validation.body("createVideo"), idempotency_key=key)
    location = {"Location": url_for("api.get_video", video_id=video.id)}
    return _video(video, 202 if created else 200, location)


@bp.post("/api/v1/videos/bulk")
def create_videos_bulk():
    key = validation.headers("createVideosBulk").idempotency_key
    outcomes = service.create_bulk(g.workspace, g.api_user, validation.body("createVideosBulk"), idempotency_key=key)
    return _data(resources.bulk_result(outcomes), 202)


@bp.get("/api/v1/videos/<int:video_id>")
def get_video(video_id: int):
    return _video(service.get_video(g.workspace, video_id))


@bp.delete("/api/v1/videos/<int:video_id>")
def delete_video(video_id: int):
    service.delete_video(g.workspace, video_id)
    return "", 204


@bp.post("/api/v1/videos/<int:video_id>/cancel")
def cancel_video(video_id: int):
    return _video(service.cancel_video(g.workspace, video_id))


@bp.post("/api/v1/videos/<int:video_id>/retry")
def retry_video(video_id: int):
    return _video(service.retry_video(g.workspace, video_id), 202)


# The files behind videoUrl, thumbnailUrl, captionsUrl and image URLs, found by their record in
# the token's workspace (never by a path from the request).


@bp.get("/api/v1/media/videos/<int:video_id>/<any(video, poster, captions):kind>")
def video_media(video_id: int, kind: str):
    return media.send(service.video_file(g.workspace, video_id, kind), request.args.get("download") == "1")


@bp.get("/api/v1/media/images/<int:image_id>")
def image_media(image_id: int):
    return media.send(image_file(g.workspace, image_id))


@bp.get("/api/v1/media/templates/<key>/<any(preview, poster):kind>")
def template_media(key: str, kind: str):
    return media.send(preview_file(key, kind, validation.query("getTemplatePreview").aspect))


@bp.get("/api/video-generations/all")
def video_generations():
    args = validation.query("listVideoGenerations")
    statuses = IN_FLIGHT if args.status == "processing" else [args.status] if args.status else []
    records = catalog.video_generations(
        g.workspace, args.page, args.limit, statuses=statuses,
        order_by="updated_at" if args.order_by in ("updatedAt", "updated_at") else "created_at",
        descending=args.order_direction.lower() == "desc",
    )
    return jsonify(schemas.GenerationsAnswer(status="success", data=schemas.GenerationPage(
        records=[resources.generation_record(v) for v in records.items], pagination=resources.pagination(records),
    )).dump())
