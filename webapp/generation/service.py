"""Creating, listing, canceling, retrying and deleting videos: the rules views and the API call."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from .. import media
from ..extensions import db
from ..models import (
    ImageStatus,
    Product,
    ProductImage,
    Template,
    User,
    Video,
    VideoEvent,
    VideoStatus,
    Workspace,
    utcnow,
)
from ..pagination import Page, paginate
from ..providers.base import ProviderError
from ..providers.registry import default_provider_name, get_provider
from . import quota
from .errors import (
    GenerationError,
    IdempotencyConflict,
    InvalidState,
    NotFound,
    QuotaExceeded,
)
from .lifecycle import transition
from .templates import template_by_key

log = logging.getLogger(__name__)

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 5, 30, 8
MAX_INSTRUCTIONS = 500
MAX_CAPTIONS = 20
MAX_CAPTION_CHARS = 120
MAX_BULK = 10_000
MAX_ID = 2**31 - 1
SORTS = {"createdAt": Video.created_at, "generatedDate": Video.started_at}


# ---------------------------------------------------------------- input ----


def normalize_options(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Checks generation options; returns them in the stored form. Accepts the API's camelCase.

    captions: a list of {start, end, text} (seeds/004 subtitles) or of plain strings, which are
    spread evenly over the video.
    """
    raw = dict(raw or {})
    if not isinstance(raw, dict):
        raise GenerationError("Options must be an object.", "options")
    aspect = raw.get("aspectRatio", raw.get("aspect_ratio")) or "16:9"
    if aspect not in ASPECT_RATIOS:
        raise GenerationError(f"Aspect ratio must be one of {', '.join(ASPECT_RATIOS)}.", "options.aspectRatio")
    duration = raw.get("duration", DEFAULT_DURATION)
    if isinstance(duration, str) and duration.strip().isdigit():
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration != int(duration):
        raise GenerationError("Duration must be a whole number of seconds.", "options.duration")
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise GenerationError(
            f"Duration must be between {MIN_DURATION} and {MAX_DURATION} seconds.", "options.duration"
        )
    music = raw.get("music", False)
    if not isinstance(music, bool):
        raise GenerationError("Music must be true or false.", "options.music")
    return {
        "aspect_ratio": aspect,
        "duration": int(duration),
        "music": music,
        "captions": _normalize_captions(raw.get("captions") or [], int(duration)),
    }


def _normalize_captions(captions: Any, duration: int) -> list[dict[str, Any]]:
    if not isinstance(captions, list):
        raise GenerationError("Captions must be a list.", "options.captions")
    if len(captions) > MAX_CAPTIONS:
        raise GenerationError(f"At most {MAX_CAPTIONS} captions.", "options.captions")
    if all(isinstance(c, str) for c in captions):
        lines = [c.strip() for c in captions if c.strip()]
        step = duration / max(1, len(lines))
        captions = [{"start": round(i * step, 2), "end": round((i + 1) * step, 2), "text": t} for i, t in enumerate(lines)]
    normalized = []
    for index, caption in enumerate(captions):
        field = f"options.captions[{index}]"
        if not isinstance(caption, dict):
            raise GenerationError("Each caption needs start, end and text.", field)
        start, end, text = caption.get("start", caption.get("startTime")), caption.get("end", caption.get("endTime")), caption.get("text")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end)):
            raise GenerationError("Caption start and end are numbers of seconds.", field)
        if not 0 <= start < end <= duration:
            raise GenerationError(f"Caption times must lie within the video (0–{duration} s), start before end.", field)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_CAPTION_CHARS:
            raise GenerationError(f"Caption text is 1–{MAX_CAPTION_CHARS} characters.", field)
        normalized.append({"start": float(start), "end": float(end), "text": text.strip()})
    return normalized


def _check_template(key: Any) -> Template:
    template = template_by_key(key) if isinstance(key, str) else None
    if template is None:
        from .templates import all_templates

        keys = ", ".join(t.key for t in all_templates())
        raise GenerationError(f"Unknown template {key!r}. Choose one of: {keys}.", "template")
    return template


def _check_instructions(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise GenerationError("Custom instructions must be text.", "customInstructions")
    text = text.strip()
    if len(text) > MAX_INSTRUCTIONS:
        raise GenerationError(
            f"Custom instructions are at most {MAX_INSTRUCTIONS} characters (you wrote {len(text)}).",
            "customInstructions",
        )
    return text


def as_id(value: Any) -> int | None:
    """An id from JSON or a form: a positive int or a string of digits; anything else is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        value = int(value)
    # ids are 32-bit on PostgreSQL: anything larger cannot exist (and must not reach the query)
    return value if isinstance(value, int) and 0 < value <= MAX_ID else None


def get_product(workspace: Workspace, product_id: Any) -> Product:
    if product_id in (None, ""):
        raise GenerationError("Choose a product.", "productId")
    product_id = as_id(product_id)
    product = None
    if product_id is not None:
        product = db.session.scalar(select(Product).filter_by(id=product_id, workspace_id=workspace.id))
    if product is None:
        raise NotFound("Product not found.", "productId")
    return product


def _fingerprint(product_id: int, template: str, instructions: str, options: dict[str, Any]) -> str:
    body = json.dumps([product_id, template, instructions, options], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


NO_IMAGES = "This product has no images yet. Add at least one image before generating a video."


# --------------------------------------------------------------- create ----


def create_video(
    workspace: Workspace,
    user: User | None,
    *,
    product_id: Any,
    template: Any,
    custom_instructions: Any = "",
    options: Mapping[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[Video, bool]:
    """Queues one video, reserving one video of quota. Returns (video, created).

    With an idempotency key already used in this workspace: the same input returns the first
    video (created False); different input is refused. Bad input changes nothing.
    """
    chosen = _check_template(template)
    product = get_product(workspace, product_id)
    instructions = _check_instructions(custom_instructions)
    normalized = normalize_options(options)
    fingerprint = _fingerprint(product.id, chosen.key, instructions, normalized)
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= 255:
            raise GenerationError("Idempotency-Key must be 1–255 characters.", "Idempotency-Key")
        earlier = _video_for_key(workspace, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, False
    if not product.ready_images:
        raise GenerationError(NO_IMAGES, "productId")
    if quota.reserve(workspace, 1) != 1:
        db.session.rollback()
        raise QuotaExceeded(quota.limit_message(workspace))
    video = _new_video(workspace, user, product, chosen, instructions, normalized)
    video.idempotency_key, video.request_fingerprint = idempotency_key, fingerprint
    db.session.add(video)
    try:
        db.session.flush()
    except IntegrityError:  # the same key, sent twice at once: the other request won
        db.session.rollback()
        return _video_for_key(workspace, idempotency_key, fingerprint), False
    db.session.add(VideoEvent(video_id=video.id, kind="status", to_status="pending", message="Queued"))
    db.session.commit()
    return video, True


def _video_for_key(workspace: Workspace, key: str, fingerprint: str) -> Video | None:
    video = db.session.scalar(select(Video).filter_by(workspace_id=workspace.id, idempotency_key=key))
    if video is not None and video.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request.", "Idempotency-Key"
        )
    return video


def _new_video(
    workspace: Workspace, user: User | None, product: Product, template: Template, instructions: str, options: dict
) -> Video:
    return Video(**_video_values(workspace, user, product.id, product.title, template, instructions, options))


def _video_values(
    workspace: Workspace, user: User | None, product_id: int, product_title: str, template: Template,
    instructions: str, options: dict,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "workspace_id": workspace.id,
        "user_id": user.id if user else None,
        "product_id": product_id,
        "template_key": template.key,
        "title": f"{product_title} · {template.name}"[:255],
        "custom_instructions": instructions,
        "options": options,
        "status": VideoStatus.PENDING.value,
        "progress": 0,
        "progress_message": "Queued",
        "provider": default_provider_name(),
        "quota_period": quota.current_period(),
        "quota_refunded": False,
        "attempts": 0,
        "poll_interval_s": 2.0,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class BulkOutcome:
    product_id: Any
    result: str  # queued | skipped_existing | over_quota | invalid
    product_title: str | None = None
    video_id: int | None = None
    reason: str | None = None


def _sort_bulk(
    workspace: Workspace, product_ids: Any, template: Template, skip_existing: bool
) -> tuple[list[BulkOutcome | None], list[Product]]:
    """Splits a bulk request: an outcome for each product that will not be queued (None where it
    will), and the products to queue, in request order. Three statements, whatever the size."""
    if not isinstance(product_ids, list | tuple) or not product_ids:
        raise GenerationError("Choose at least one product.", "productIds")
    if len(product_ids) > MAX_BULK:
        raise GenerationError(f"At most {MAX_BULK} products in one bulk request.", "productIds")
    if not all(isinstance(p, int | str) for p in product_ids):
        raise GenerationError("productIds must be a list of product ids.", "productIds")

    wanted = list(dict.fromkeys(product_ids))  # drop repeats, keep order
    ids = {raw: as_id(raw) for raw in wanted}
    known_ids = [i for i in ids.values() if i is not None]
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.workspace_id == workspace.id, Product.id.in_(known_ids))
        )
    }
    with_images = set(
        db.session.scalars(
            select(ProductImage.product_id)
            .where(ProductImage.product_id.in_(list(products)), ProductImage.status == ImageStatus.OK.value)
            .distinct()
        )
    )
    existing = set()
    if skip_existing:
        existing = set(
            db.session.scalars(
                select(Video.product_id).where(
                    Video.workspace_id == workspace.id,
                    Video.product_id.in_(list(products)),
                    Video.template_key == template.key,
                    Video.status == VideoStatus.COMPLETED.value,
                ).distinct()
            )
        )

    outcomes: list[BulkOutcome | None] = []
    candidates: list[Product] = []
    for raw_id in wanted:
        product = products.get(ids[raw_id])
        if product is None:
            outcomes.append(BulkOutcome(raw_id, "invalid", reason="Product not found."))
        elif product.id not in with_images:
            outcomes.append(BulkOutcome(product.id, "invalid", product.title, reason=NO_IMAGES))
        elif product.id in existing:
            outcomes.append(
                BulkOutcome(product.id, "skipped_existing", product.title,
                            reason="Already has a completed video with this template.")
            )
        else:
            outcomes.append(None)
            candidates.append(product)
    return outcomes, candidates


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk request would do now, for the confirmation: nothing is reserved."""

    to_queue: int
    skipped_existing: int
    invalid: int


def plan_bulk(workspace: Workspace, *, product_ids: Sequence[Any], template: Any, skip_existing: bool = True) -> BulkPlan:
    outcomes, candidates = _sort_bulk(workspace, product_ids, _check_template(template), skip_existing)
    skipped = sum(1 for o in outcomes if o is not None and o.result == "skipped_existing")
    return BulkPlan(len(candidates), skipped, sum(1 for o in outcomes if o is not None) - skipped)


def create_bulk(
    workspace: Workspace,
    user: User | None,
    *,
    product_ids: Sequence[Any],
    template: Any,
    options: Mapping[str, Any] | None = None,
    custom_instructions: Any = "",
    skip_existing: bool = True,
) -> list[BulkOutcome]:
    """Queues one video per product; not atomic: what fits the quota is queued.

    A constant number of statements whatever the number of products: three to sort the request
    (_sort_bulk), one quota reservation, one insert of videos and one of their events.
    """
    chosen = _check_template(template)
    instructions = _check_instructions(custom_instructions)
    normalized = normalize_options(options)
    outcomes, candidates = _sort_bulk(workspace, product_ids, chosen, skip_existing)

    granted = quota.reserve(workspace, len(candidates))
    queued, over = candidates[:granted], candidates[granted:]
    video_ids: dict[int, int] = {}
    if queued:
        rows = [_video_values(workspace, user, p.id, p.title, chosen, instructions, normalized) for p in queued]
        result = db.session.execute(insert(Video).returning(Video.id, Video.product_id), rows)
        video_ids = {product_id: video_id for video_id, product_id in result}
        db.session.execute(
            insert(VideoEvent),
            [{"video_id": vid, "kind": "status", "to_status": "pending", "message": "Queued (bulk)",
              "created_at": utcnow()} for vid in video_ids.values()],
        )
    over_reason = quota.limit_message(workspace) if over else None
    by_candidate = {p.id: BulkOutcome(p.id, "queued", p.title, video_ids[p.id]) for p in queued}
    by_candidate.update({p.id: BulkOutcome(p.id, "over_quota", p.title, reason=over_reason) for p in over})
    candidate_iter = iter(candidates)
    answer = [outcome if outcome is not None else by_candidate[next(candidate_iter).id] for outcome in outcomes]
    db.session.commit()  # after reading the products: the commit expires them (one SELECT each to reload)
    return answer


# -------------------------------------------------------------- actions ----


def get_video(workspace: Workspace, video_id: Any) -> Video:
    video_id = as_id(video_id)
    video = None
    if video_id is not None:
        video = db.session.scalar(
            select(Video).options(joinedload(Video.product)).filter_by(id=video_id, workspace_id=workspace.id)
        )
    if video is None:
        raise NotFound("Video not found.", "id")
    return video


def cancel_video(workspace: Workspace, video_id: Any, reason: str = "Canceled by user") -> Video:
    video = get_video(workspace, video_id)
    if not video.in_flight:
        raise InvalidState("Only a pending or generating video can be canceled.")
    external_id, provider_name = video.external_job_id, video.provider
    if not transition(video, VideoStatus.CANCELED, reason):
        raise InvalidState("The video finished before it could be canceled.")
    if external_id:
        cancel_at_provider(provider_name, external_id)
    return video


def cancel_at_provider(provider_name: str, external_id: str) -> None:
    """Best effort: the video is already canceled here, whatever the provider answers."""
    try:
        get_provider(provider_name).cancel(external_id)
    except ProviderError as error:
        log.warning("cancel of %s at %s failed: %s", external_id, provider_name, error)


def retry_video(workspace: Workspace, video_id: Any) -> Video:
    """A failed or canceled video goes back to pending, charged again (it was refunded)."""
    video = get_video(workspace, video_id)
    if video.status not in (VideoStatus.FAILED.value, VideoStatus.CANCELED.value):
        raise InvalidState("Only a failed or canceled video can be retried.")
    if not video.product.ready_images:
        raise GenerationError(NO_IMAGES, "productId")
    changes: dict[str, Any] = {
        # attempts count the tries of this generation; the timeline keeps the earlier ones
        "attempts": 0, "error": None, "progress": 0, "progress_message": "Queued", "external_job_id": None,
        "submit_started_at": None, "next_poll_at": None, "poll_interval_s": 2.0, "started_at": None,
        "completed_at": None, "failed_at": None, "canceled_at": None, "provider": default_provider_name(),
    }
    if video.quota_refunded:
        if quota.reserve(workspace, 1) != 1:
            db.session.rollback()
            raise QuotaExceeded(quota.limit_message(workspace))
        changes.update(quota_refunded=False, quota_period=quota.current_period())
    if not transition(video, VideoStatus.PENDING, "Retry requested", **changes):
        raise InvalidState("The video changed while it was being retried. Reload and try again.")
    return video


def delete_video(workspace: Workspace, video_id: Any) -> None:
    """Deletes the video and its files; one still in flight is canceled (and refunded) first."""
    video = get_video(workspace, video_id)
    if video.in_flight:
        try:
            cancel_video(workspace, video.id, "Canceled because the video was deleted")
        except InvalidState:
            pass  # it finished meanwhile: delete it all the same
        video = get_video(workspace, video.id)
    files = (video.video_path, video.thumbnail_path)
    db.session.delete(video)
    db.session.commit()
    media.remove(*files)


# -------------------------------------------------------------- queries ----


def _video_conditions(workspace: Workspace, status: str | None, search: str | None, product_id: int | None) -> list:
    conditions = [Video.workspace_id == workspace.id]
    if status:
        conditions.append(Video.status == status)
    if product_id:
        conditions.append(Video.product_id == product_id)
    if search:
        text = search.strip()
        # products first: scanning the products table beats joining every video to its product
        matching_products = select(Product.id).where(
            Product.workspace_id == workspace.id,
            or_(Product.title.icontains(text, autoescape=True), Product.sku.icontains(text, autoescape=True)),
        )
        conditions.append(or_(Video.product_id.in_(matching_products), Video.title.icontains(text, autoescape=True)))
    return conditions


def list_videos(
    workspace: Workspace,
    page: int = 1,
    per_page: int = 20,
    *,
    status: str | None = None,
    search: str | None = None,
    product_id: int | None = None,
    sort: str = "createdAt",
    order: str = "desc",
) -> Page:
    """A page of the workspace's videos with product and template, filtered and sorted: two
    statements (the count, and the rows with their product and template joined)."""
    conditions = _video_conditions(workspace, status, search, product_id)
    count = select(func.count(Video.id)).where(*conditions)
    column = SORTS.get(sort, Video.created_at)
    direction = column.asc() if order == "asc" else column.desc()
    tie = Video.id.asc() if order == "asc" else Video.id.desc()
    # generatedDate is empty until a video starts: those come last either way
    ordering = (column.is_(None), direction, tie) if column is Video.started_at else (direction, tie)
    rows = (
        select(Video)
        .join(Video.product)
        .outerjoin(Video.template)
        .options(contains_eager(Video.product), contains_eager(Video.template))
        .where(*conditions)
        .order_by(*ordering)
    )
    return paginate(rows, page, per_page, count_query=count)


def videos_by_ids(workspace: Workspace, video_ids: list[int]) -> list[Video]:
    """The workspace's videos among ``video_ids``, with product and template, oldest first."""
    if not video_ids:
        return []
    return list(
        db.session.scalars(
            select(Video)
            .options(joinedload(Video.product), joinedload(Video.template))
            .where(Video.workspace_id == workspace.id, Video.id.in_(video_ids))
            .order_by(Video.id)
        )
    )


def queue_positions(videos: Iterable[Video]) -> dict[int, int]:
    """Place in the render queue (1 = next) of the pending videos among ``videos``: one query."""
    pending_ids = [v.id for v in videos if v.status == VideoStatus.PENDING.value]
    if not pending_ids:
        return {}
    ranked = (
        select(Video.id, func.row_number().over(order_by=(Video.created_at, Video.id)).label("position"))
        .where(Video.status == VideoStatus.PENDING.value)
        .subquery()
    )
    rows = db.session.execute(select(ranked.c.id, ranked.c.position).where(ranked.c.id.in_(pending_ids)))
    return {video_id: position for video_id, position in rows}


def product_choices(workspace: Workspace, limit: int = 500) -> list[Product]:
    """Products offered in the generate form's selector."""
    return list(
        db.session.scalars(select(Product).where(Product.workspace_id == workspace.id).order_by(Product.title).limit(limit))
    )
