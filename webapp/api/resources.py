"""Models as the API's JSON resources (``schemas``: camelCase, ISO-8601 UTC times, media URLs that
the same bearer token can read)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import url_for

from ..generation.choice import makers
from ..generation.service import VIDEO_FILES, BulkOutcome
from ..generation.templates import PREVIEW_FILES
from ..models import Product, ProductImage, Template, Video
from ..pagination import Page
from . import schemas


def iso(moment: datetime | None) -> str | None:
    """Stored times are naive UTC."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


def _money(amount: Any) -> str | None:
    return f"{amount:.2f}" if amount is not None else None


def pagination(page: Page) -> schemas.Pagination:
    return schemas.Pagination(total=page.total, page=page.page, limit=page.per_page, total_pages=page.pages,
                              has_next=page.has_next, has_prev=page.has_prev)


def image(image: ProductImage) -> schemas.ProductImage:
    return schemas.ProductImage(
        id=image.id,
        url=url_for("api.image_media", image_id=image.id, _external=True) if image.file_path else None,
        source_url=image.source_url, position=image.position, status=image.status, error=image.error,
        width=image.width, height=image.height,
    )


def product(product: Product, video_templates: Iterable[str]) -> schemas.Product:
    return schemas.Product(
        id=product.id, external_key=product.external_key, title=product.title, sku=product.sku,
        description=product.description, price=_money(product.price),
        compare_at_price=_money(product.compare_at_price), vendor=product.vendor, url=product.url,
        marketplace=product.marketplace, images=[image(i) for i in product.images], video_templates=sorted(video_templates),
        created_at=iso(product.created_at), updated_at=iso(product.updated_at),
    )


def _preview_url(template: Template, kind: str) -> str | None:
    if not getattr(template, PREVIEW_FILES[kind]):
        return None
    return url_for("api.template_media", key=template.key, kind=kind, _external=True)


def template(template: Template) -> schemas.Template:
    return schemas.Template(
        key=template.key, name=template.name, description=template.description, provider=template.provider,
        providers=[p.name for p in makers(template)],
        preview_video_url=_preview_url(template, "preview") or template.preview_url,
        preview_thumbnail_url=_preview_url(template, "poster"),
    )


def _options(options: dict[str, Any]) -> schemas.VideoOptions:
    return schemas.VideoOptions(
        aspect_ratio=options.get("aspect_ratio", "16:9"), duration=options.get("duration"),
        music=bool(options.get("music", False)), voiceover=bool(options.get("voiceover", False)),
        captions=options.get("captions", []),
    )


def video_file_url(video: Video, kind: str) -> str | None:
    if not getattr(video, VIDEO_FILES[kind]):
        return None
    return url_for("api.video_media", video_id=video.id, kind=kind, _external=True)


def video_file_urls(video: Video) -> tuple[str | None, str | None]:
    """Our copy when we have one, else the provider's URL (mirroring may still be under way)."""
    return (
        video_file_url(video, "video") or video.remote_video_url,
        video_file_url(video, "poster") or video.remote_thumbnail_url,
    )


def video(video: Video, queue_position: int | None = None) -> schemas.Video:
    video_url, thumbnail_url = video_file_urls(video)
    return schemas.Video(
        id=video.id, product_id=video.product_id, title=video.title, template=video.template_key,
        status=video.status, progress=video.progress, stage=video.progress_message, queue_position=queue_position,
        error=video.error, custom_instructions=video.custom_instructions, options=_options(video.options or {}),
        script=list(video.script or []), provider=video.provider, model=video.model, video_url=video_url,
        thumbnail_url=thumbnail_url, captions_url=video_file_url(video, "captions"), duration=video.duration_s,
        resolution=video.resolution, created_at=iso(video.created_at), updated_at=iso(video.updated_at),
        generated_at=iso(video.started_at), completed_at=iso(video.completed_at),
    )


def bulk_result(outcomes: list[BulkOutcome]) -> schemas.BulkResult:
    counts = {kind: sum(1 for o in outcomes if o.result == kind)
              for kind in ("queued", "skipped_existing", "over_quota", "invalid")}
    return schemas.BulkResult(
        results=[schemas.BulkOutcome(product_id=o.product_id, result=o.result, video_id=o.video_id,
                                     product_title=o.product_title, reason=o.reason) for o in outcomes],
        summary=schemas.BulkSummary(**counts),
    )


def generation_record(video: Video) -> schemas.GenerationRecord:
    """A record of seeds/000's /api/video-generations/all (string ids, as that API has)."""
    video_url, thumbnail_url = video_file_urls(video)
    return schemas.GenerationRecord(
        id=str(video.id), clothing_key=str(video.product.external_key), product_id=str(video.product_id),
        status=video.status, template=video.template_key, video_url=video_url, thumbnail_url=thumbnail_url,
        created_at=iso(video.created_at), updated_at=iso(video.updated_at),
    )
