"""Models as the API's JSON resources (camelCase, ISO-8601 UTC times, media URLs that the same
bearer token can read)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from flask import url_for

from ..generation.service import BulkOutcome
from ..models import Product, ProductImage, Template, Video


def iso(moment: datetime | None) -> str | None:
    """Stored times are naive UTC."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


def media_url(relative: str | None) -> str | None:
    return url_for("api.media", relative=relative, _external=True) if relative else None


def image(image: ProductImage) -> dict[str, Any]:
    return {
        "id": image.id,
        "url": media_url(image.file_path),
        "sourceUrl": image.source_url,
        "position": image.position,
        "status": image.status,
        "error": image.error,
        "width": image.width,
        "height": image.height,
    }


def product(product: Product, video_templates: Iterable[str]) -> dict[str, Any]:
    return {
        "id": product.id,
        "externalKey": product.external_key,
        "title": product.title,
        "sku": product.sku,
        "description": product.description,
        "price": f"{product.price:.2f}" if product.price is not None else None,
        "vendor": product.vendor,
        "marketplace": product.marketplace,
        "images": [image(i) for i in product.images],
        "videoTemplates": sorted(video_templates),
        "createdAt": iso(product.created_at),
        "updatedAt": iso(product.updated_at),
    }


def template(template: Template) -> dict[str, Any]:
    return {
        "key": template.key,
        "name": template.name,
        "description": template.description,
        "provider": template.provider,
        "previewVideoUrl": media_url(template.preview_video_path) or template.preview_url,
        "previewThumbnailUrl": media_url(template.preview_thumbnail_path),
    }


def _options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        "aspectRatio": options.get("aspect_ratio", "16:9"),
        "duration": options.get("duration", 8),
        "music": bool(options.get("music", False)),
        "captions": [{"start": c["start"], "end": c["end"], "text": c["text"]} for c in options.get("captions", [])],
    }


def video_file_urls(video: Video) -> tuple[str | None, str | None]:
    """Our copy when we have one, else the provider's URL (mirroring may still be under way)."""
    return (
        media_url(video.video_path) or video.remote_video_url,
        media_url(video.thumbnail_path) or video.remote_thumbnail_url,
    )


def video(video: Video, queue_position: int | None = None) -> dict[str, Any]:
    video_url, thumbnail_url = video_file_urls(video)
    return {
        "id": video.id,
        "productId": video.product_id,
        "title": video.title,
        "template": video.template_key,
        "status": video.status,
        "progress": video.progress,
        "stage": video.progress_message,
        "queuePosition": queue_position,
        "error": video.error,
        "customInstructions": video.custom_instructions,
        "options": _options(video.options or {}),
        "videoUrl": video_url,
        "thumbnailUrl": thumbnail_url,
        "duration": video.duration_s,
        "resolution": video.resolution,
        "provider": video.provider,
        "createdAt": iso(video.created_at),
        "updatedAt": iso(video.updated_at),
        "generatedAt": iso(video.started_at),
        "completedAt": iso(video.completed_at),
    }


def bulk_outcome(outcome: BulkOutcome) -> dict[str, Any]:
    return {
        "productId": outcome.product_id,
        "result": outcome.result,
        "videoId": outcome.video_id,
        "productTitle": outcome.product_title,
        "reason": outcome.reason,
    }


def generation_record(video: Video) -> dict[str, Any]:
    """A record of seeds/000's /api/video-generations/all (string ids, as that API has)."""
    video_url, thumbnail_url = video_file_urls(video)
    return {
        "id": str(video.id),
        "clothingKey": str(video.product.external_key),
        "productId": str(video.product_id),
        "status": video.status,
        "template": video.template_key,
        "videoUrl": video_url,
        "thumbnailUrl": thumbnail_url,
        "createdAt": iso(video.created_at),
        "updatedAt": iso(video.updated_at),
    }
