"""seeds/002's API, as the Racky app's own client calls it: /api/videos… with the seed's
``{success, data}`` envelope, messages and statuses, so that a client written against that
document works unchanged. /api/v1 stays the documented, versioned API; both are thin layers
over the same domain functions.

The blueprint is nested in /api/v1's (``views.bp``): the same bearer tokens, checked by the
same ``before_request``, and the same CORS headers. Its errors are the seed's shape
``{success: false, message, error, field}``.

Statuses: the seed has four. A video made by POST /api/videos waits, charged, for its generate
call: ``pending``. Once asked to generate it is ``generating``, whether it waits in our queue
or renders. ``completed`` and ``failed`` are ours; a canceled video is ``failed``, saying so.

Templates: GET /api/videos/templates answers the RCK shape ``{success, message, templates,
error}``. The seed answers 503 "RCK Description Server is not configured" because RCK is its
only source of templates; here the six seed templates are always made by the built-in renderer,
so the list never depends on RCK: RCK's own templates are added when it is configured, and when
it does not answer they are left out and ``error`` says why — never a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import BaseConverter

from ..extensions import csrf
from ..generation import choice, quota, service
from ..generation.errors import GenerationError
from ..generation.service import BulkOutcome
from ..models import Video, VideoStatus
from . import racky_schemas as seed
from . import validation
from .errors import HTTP_CODES, MESSAGES, ApiError
from .openapi import Operation, register
from .resources import iso, pagination, video_file_url, video_file_urls
from .schemas import Usage

log = logging.getLogger(__name__)
bp = Blueprint("racky", __name__)


class SeedIdConverter(BaseConverter):
    """A video's id in seeds/002's paths: any segment but the names of its other routes, so that
    those answer alone (an OPTIONS request's Allow header names their methods only). An id this
    API never gave (the seed's ObjectIds are text) is a video not found."""

    regex = r"(?!(?:templates|usage|bulk-generate|generate-for-product)$)[^/]+"
    part_isolating = True


csrf.exempt(bp)  # bearer tokens, not cookies (exempting /api/v1's blueprint does not cover a nested one)

CANCELED = "The video was canceled."
# The domain's words where the seed has its own for the same refusal.
SEED_WORDS = {
    "productId is required.": "Product ID is required",
    "Product not found.": "Product not found",
    "Video not found.": "Video not found",
}
SET_BY_GENERATION = ("{field} is set by the generation, not by a request: POST /api/videos/{{id}}/generate starts a "
                     "pending video.")
# Seed status -> our statuses and whether the video waits for its generate call.
STATUS_FILTERS: dict[str, tuple[tuple[str, ...], bool | None]] = {
    "pending": ((VideoStatus.PENDING.value,), True),
    "generating": ((VideoStatus.PENDING.value, VideoStatus.GENERATING.value), False),
    "completed": ((VideoStatus.COMPLETED.value,), None),
    "failed": ((VideoStatus.FAILED.value, VideoStatus.CANCELED.value), None),
}


# ------------------------------------------------------------------ errors ----


def _error(status: int, code: str, message: str, field: str | None = None):
    response = jsonify(seed.SeedError(success=False, message=message, error=code, field=field).dump())
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="Reelboard API"'
    return response


def _api_error(error: ApiError):
    return _error(error.status, error.code, error.message, error.field)


def _generation_error(error: GenerationError):
    message = SEED_WORDS.get(error.message, error.message)
    if error.field in ("status", "error") and error.message.endswith("is not a field this request accepts."):
        message = SET_BY_GENERATION.format(field=error.field)
    return _error(error.http_status, error.code, message, error.field)


def _http_error(error: HTTPException):
    status = error.code or 500
    if isinstance(error, InternalServerError) and error.original_exception is not None:
        log.error("API request %s %s failed", request.method, request.path, exc_info=error.original_exception)
    return _error(status, HTTP_CODES.get(status, "error"), MESSAGES.get(status) or error.description or "Refused.")


bp.register_error_handler(ApiError, _api_error)
bp.register_error_handler(GenerationError, _generation_error)
for _code in HTTP_CODES:
    bp.register_error_handler(_code, _http_error)


# --------------------------------------------------------------- resources ----


def status_of(video: Video) -> str:
    """The seed's status of ``video`` (see the module's docstring)."""
    if video.status == VideoStatus.PENDING.value:
        return "pending" if video.on_hold else "generating"
    if video.status == VideoStatus.CANCELED.value:
        return "failed"
    return video.status


def video_resource(video: Video) -> seed.SeedVideo:
    video_url, thumbnail_url = video_file_urls(video)
    ours = seed.SeedMetadata(
        title=video.title, duration=video.duration_s, format="mp4" if video_url else None,
        resolution=video.resolution, file_size=video.size_bytes, video_url=video_url, thumbnail_url=thumbnail_url,
        captions_url=video_file_url(video, "captions"), generation_time=video.generation_time_ms,
        ai_model=f"{video.provider}/{video.model}" if video.model else video.provider,
        external_job_id=video.external_job_id, completed_at=iso(video.completed_at),
        failed_at=iso(video.failed_at or video.canceled_at),
    )
    metadata = {**(video.client_metadata or {}), **ours.dump()}  # the generation's keys win
    canceled = video.status == VideoStatus.CANCELED.value
    product = video.product
    return seed.SeedVideo(
        mongo_id=str(video.id), id=str(video.id), user_id=str(video.user_id) if video.user_id else None,
        workspace_id=str(video.workspace_id), product_id=str(video.product_id),
        product=seed.SeedProduct(id=str(product.id), title=product.title, sku=product.sku,
                                    external_key=product.external_key),
        template=video.template_key, template_name=video.template.name if video.template else video.template_key,
        custom_instructions=video.custom_instructions, status=status_of(video), progress=video.progress,
        stage=video.progress_message, generated_date=iso(video.started_at), metadata=seed.SeedMetadata(**metadata),
        error=CANCELED if canceled and not video.error else video.error, provider=video.provider, model=video.model,
        created_at=iso(video.created_at), updated_at=iso(video.updated_at),
    )


def _answer(data: Any, message: str | None = None, status: int = 200):
    response = jsonify(seed.SeedAnswer[type(data)](success=True, message=message, data=data).dump())
    response.status_code = status
    return response


def _video(video: Video, message: str | None = None, status: int = 200):
    return _answer(video_resource(video), message, status)


def _bulk(outcomes: list[BulkOutcome]) -> seed.SeedBulkResult:
    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    counts = {kind: sum(1 for o in outcomes if o.result == kind)
              for kind in ("queued", "skipped_existing", "over_quota", "invalid")}
    return seed.SeedBulkResult(
        results=[seed.SeedBulkOutcome(product_id=str(o.product_id), result=o.result, video_id=text(o.video_id),
                                  product_title=o.product_title, reason=o.reason) for o in outcomes],
        summary=seed.SeedBulkSummary(**counts),
    )


# ------------------------------------------------------------------ routes ----


@bp.get("/api/videos")
def list_videos():
    args = validation.query("rackyListVideos")
    statuses, held = STATUS_FILTERS[args.status] if args.status else (None, None)
    videos = service.list_videos(
        g.workspace, args.page, args.limit, status=statuses, held=held, search=args.search,
        product_id=args.product_id, sort=args.sort_by, order=args.sort_order,
    )
    return _answer(seed.SeedVideoPage(videos=[video_resource(v) for v in videos.items], pagination=pagination(videos)))


@bp.get("/api/videos/templates")
def templates():
    offered = choice.catalog()
    listed = [
        seed.SeedTemplate(
            id=template.key, name=template.name, description=template.description, provider=template.provider,
            providers=[provider.name for provider in makers],
            preview_url=url_for("api.template_media", key=template.key, kind="preview", _external=True)
            if template.preview_video_path else template.preview_url,
            thumbnail_url=url_for("api.template_media", key=template.key, kind="poster", _external=True)
            if template.preview_thumbnail_path else None,
        )
        for template, makers in offered.templates
    ]
    error = " ".join(offered.problems) or None
    message = "Templates retrieved" + (", without a provider's own catalog" if error else "")
    return jsonify(seed.SeedTemplates(success=True, message=message, templates=listed, error=error).dump())


@bp.get("/api/videos/usage/stats")
def usage_stats():
    return _answer(Usage(**quota.usage(g.workspace).as_dict()))


@bp.post("/api/videos")
def create_video():
    body: seed.CreateBody = validation.body("rackyCreateVideo")
    video, _ = service.create_video(g.workspace, g.api_user, body.contract(), on_hold=True,
                                    client_metadata=body.metadata)
    return _video(video, "Video created: POST /api/videos/{id}/generate starts it", 201)


@bp.post("/api/videos/generate-for-product")
def generate_for_product():
    body: seed.GenerateForProductBody = validation.body("rackyGenerateForProduct")
    video, _ = service.create_video(g.workspace, g.api_user, body.contract())
    return _video(video, "Video generation started")


@bp.post("/api/videos/bulk-generate")
def bulk_generate():
    body: seed.BulkGenerateBody = validation.body("rackyBulkGenerate")
    outcomes = service.create_bulk(g.workspace, g.api_user, body.contract())
    result = _bulk(outcomes)
    summary = result.summary
    if summary.queued == summary.skipped_existing == 0:  # its client says "Failed to generate videos: <message>"
        first = next(o for o in outcomes if o.reason)
        over = summary.invalid == 0
        raise ApiError(429 if over else 400, "quota_exceeded" if over else "invalid",
                       f"No video was queued. {first.reason}", "productIds")
    message = f"{summary.queued} video{'' if summary.queued == 1 else 's'} queued" + "".join(
        f", {count} {words}" for count, words in ((summary.skipped_existing, "skipped (already made)"),
                                                   (summary.over_quota, "over the monthly limit"),
                                                   (summary.invalid, "not possible")) if count)
    return _answer(result, message)


@bp.get("/api/videos/<seed_id:video_id>")
def get_video(video_id: str):
    return _video(service.get_video(g.workspace, video_id))


@bp.put("/api/videos/<seed_id:video_id>")
def update_video(video_id: str):
    body: seed.UpdateBody = validation.body("rackyUpdateVideo")
    video = service.update_held(g.workspace, video_id, template=body.template,
                                custom_instructions=body.custom_instructions, client_metadata=body.metadata)
    return _video(video, "Video updated")


@bp.delete("/api/videos/<seed_id:video_id>")
def delete_video(video_id: str):
    service.delete_video(g.workspace, video_id)
    return jsonify(seed.SeedDone(success=True, message="Video deleted successfully").dump())


@bp.post("/api/videos/<seed_id:video_id>/generate")
def generate(video_id: str):
    return _video(service.start_held(g.workspace, video_id), "Video generation started")


# ------------------------------------------------------------- description ----

# Any text: an id this API never gave (the seed's ObjectIds are text too) is a video not found.
ID = {"id": {"type": "string", "description": "The video's id."}}
E = seed.SeedError
register(
    Operation("rackyListVideos", "get", "/api/videos", "seeds/002: list videos",
              {200: (seed.SeedAnswer[seed.SeedVideoPage], "A page of videos")}, query=seed.ListQuery, error_model=E),
    Operation("rackyTemplates", "get", "/api/videos/templates", "seeds/002: the templates, in RCK's shape",
              {200: (seed.SeedTemplates, "Every template a video may use here, and which providers make each")},
              error_model=E, description="Never 503: the built-in renderer's templates need no RCK server. RCK's "
                                         "own templates are listed when it is configured and answers."),
    Operation("rackyUsage", "get", "/api/videos/usage/stats", "seeds/002: this month's video quota",
              {200: (seed.SeedAnswer[Usage], "Used, limit, remaining, percentage")}, error_model=E),
    Operation("rackyCreateVideo", "post", "/api/videos", "seeds/002: a pending video, charged, that waits for its "
              "generate call", {201: (seed.SeedAnswer[seed.SeedVideo], "Created (pending)")}, body=seed.CreateBody,
              errors=(404, 413, 415, 429), error_model=E,
              description="Reserves one video of the monthly quota now; POST /api/videos/{id}/generate starts it."),
    Operation("rackyGenerateForProduct", "post", "/api/videos/generate-for-product", "seeds/002: queue a product's "
              "video at once", {200: (seed.SeedAnswer[seed.SeedVideo], "Queued (generating)")},
              body=seed.GenerateForProductBody, errors=(404, 413, 415, 429), error_model=E),
    Operation("rackyBulkGenerate", "post", "/api/videos/bulk-generate", "seeds/002: queue a video for each product",
              {200: (seed.SeedAnswer[seed.SeedBulkResult], "What became of each product")}, body=seed.BulkGenerateBody,
              errors=(413, 415, 429), error_model=E,
              description="Not atomic: what fits the quota is queued. When nothing could be queued the answer is an "
                          "error naming the first reason (429 when the monthly limit is reached)."),
    Operation("rackyGetVideo", "get", "/api/videos/{id}", "seeds/002: one video",
              {200: (seed.SeedAnswer[seed.SeedVideo], "The video")}, path_params=ID, errors=(404,), error_model=E),
    Operation("rackyUpdateVideo", "put", "/api/videos/{id}", "seeds/002: change a pending video",
              {200: (seed.SeedAnswer[seed.SeedVideo], "The video as it is now")}, body=seed.UpdateBody, path_params=ID,
              errors=(404, 413, 415), error_model=E,
              description="template and customInstructions only while the video waits for its generate call "
                          "(otherwise 400); metadata at any time; status and error are the generation's to set."),
    Operation("rackyDeleteVideo", "delete", "/api/videos/{id}", "seeds/002: delete a video and its files (canceled "
              "first if in flight)", {200: (seed.SeedDone, "Deleted")}, path_params=ID, errors=(404,), error_model=E),
    Operation("rackyGenerate", "post", "/api/videos/{id}/generate", "seeds/002: start a pending video",
              {200: (seed.SeedAnswer[seed.SeedVideo], "Started (generating)")}, path_params=ID, error_model=E,
              description="400 \"Video not found or already generating\" for a video that is not waiting for this "
                          "call (unknown, started, or finished), as the seed answers."),
)
