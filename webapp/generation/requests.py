"""What a provider is asked to make for a video: everything it needs, in plain values."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import media
from ..extensions import db
from ..models import Product, Video
from ..providers.base import Caption, GenerationRequest
from .brand import kit_for_provider


def load_for_request(video_id: int) -> Video | None:
    """The video with its product and images, as ``build_request`` reads them."""
    return db.session.scalar(
        select(Video)
        .options(selectinload(Video.product).selectinload(Product.images))
        .where(Video.id == video_id)
    )


def _caption(stored: str | dict) -> Caption:
    """A stored caption: {start, end, text}, or a line of text spread over the video."""
    if isinstance(stored, str):
        return Caption(None, None, stored)
    return Caption(stored["start"], stored["end"], stored["text"])


def build_request(video: Video) -> GenerationRequest:
    product: Product = video.product
    images = product.ready_images
    options = video.options or {}
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return GenerationRequest(
        video_id=video.id,
        reference=f"reelboard-{video.id}-{video.attempts}",
        template=video.template_key,
        title=product.title,
        sku=product.sku,
        description=product.description,
        price=product.price_label,
        image_files=tuple(image.file_path for image in images),
        image_urls=tuple(image.source_url or media.public_url(image.file_path, media.PROVIDER_LINK_S) for image in images),
        custom_instructions=video.custom_instructions,
        aspect_ratio=options.get("aspect_ratio", "16:9"),
        resolution=options.get("resolution"),
        duration=options.get("duration"),
        captions=tuple(_caption(c) for c in options.get("captions", [])),
        music=options.get("music", False),
        script=tuple(video.script or ()),
        voiceover=bool(options.get("voiceover", False)),
        model=video.model,
        compare_at_price=product.compare_at_label,
        product_url=product.url,
        brand=kit_for_provider(video.workspace_id),
        callback_url=f"{base_url}/webhooks/{video.provider}",
        workspace_id=video.workspace_id,
        user_id=video.user_id,
        product_id=product.id,
    )
