"""Product images: checking and re-encoding what a person uploads or what we download, and the
background download of images imported by URL.

Every stored image is decoded by Pillow and written again as a JPEG under
``products/<workspace_id>/`` in the media storage (MEDIA_DIR or S3): what reaches the renderer
is always a plain RGB image, whatever was uploaded (metadata, colour profiles and trailing bytes
are dropped). A download's size limit holds while it streams; the image (at most
IMAGE_MAX_BYTES) is then decoded in memory.

Downloads run in the background (the ``images`` job): each tick leases a batch of pending
images in their rows — FOR UPDATE SKIP LOCKED on PostgreSQL, a compare-and-set UPDATE on
SQLite, like the videos — and fetches them in a bounded thread pool, so any number of
processes share the work and no image is fetched by two of them at once.
"""

from __future__ import annotations

import io
import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update

from .. import leases, media
from ..extensions import db
from ..fetch import FetchError, download
from ..models import ImageStatus, Product, ProductImage, utcnow

log = logging.getLogger(__name__)

ACCEPTED_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
# Refuse before decoding: a small file can declare a huge canvas (a decompression bomb).
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90
LEASE = timedelta(minutes=5)
BATCH_PER_WORKER = 4
TICK_BUDGET_S = 20
CONNECT_TIMEOUT_S = 5.0


class ImageRejected(ValueError):
    """The file cannot be used as a product image; the message says why, for a person."""


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    width: int
    height: int


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def encode(data: bytes, max_bytes: int) -> EncodedImage:
    """Checks that ``data`` is a JPEG, PNG or WebP image of at most ``max_bytes`` by decoding
    it, and returns it re-encoded as an upright RGB JPEG."""
    if len(data) > max_bytes:
        raise ImageRejected(f"The image is larger than the {megabytes(max_bytes)} limit.")
    if not data:
        raise ImageRejected("The file is empty.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in ACCEPTED_FORMATS:
                raise ImageRejected(f"Only JPEG, PNG and WebP images are accepted, not {image.format or 'this format'}.")
            if image.width * image.height > MAX_PIXELS:
                raise ImageRejected(
                    f"The image is {image.width}×{image.height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels are accepted."
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            rgb = _flatten(upright)
    except ImageRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        log.info("image refused: %s", error)
        raise ImageRejected("The file is not a readable JPEG, PNG or WebP image.") from error
    buffer = io.BytesIO()
    rgb.save(buffer, "JPEG", quality=JPEG_QUALITY)
    return EncodedImage(buffer.getvalue(), rgb.width, rgb.height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB; transparent parts become white (a product shot's usual backdrop)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale (some PNGs): scale to 8 bits first, Pillow cannot convert it directly
        image = image.point(lambda value: value / 256).convert("L")
    return image.convert("RGB")


def store(workspace_id: int, encoded: EncodedImage) -> str:
    """Stores the image under the workspace's product folder; returns its key."""
    relative = media.new_path(f"products/{workspace_id}", ".jpg")
    media.write_atomically(relative, encoded.data)
    return relative


# ------------------------------------------------------------- downloads ----


def download_pending(owner: str, budget_s: float = TICK_BUDGET_S) -> int:
    """Downloads pending images batch after batch until none is left or ``budget_s`` has
    passed; returns how many it settled (stored or failed)."""
    workers = max(1, current_app.config["IMAGE_DOWNLOAD_WORKERS"])
    deadline = time.monotonic() + budget_s
    settled = 0
    while time.monotonic() < deadline:
        claimed = _claim(owner, workers * BATCH_PER_WORKER)
        if not claimed:
            break
        settled += _download_batch(owner, claimed, workers)
    return settled


def _claim(owner: str, limit: int) -> list[tuple[int, str, int]]:
    """Leases up to ``limit`` pending images to ``owner``: (image id, URL, workspace id)."""
    ids = [row.id for row in leases.claim(
        ProductImage, owner=owner, lease_for=LEASE, limit=limit, order_by=(ProductImage.id,),
        conditions=(ProductImage.status == ImageStatus.PENDING.value, ProductImage.source_url.is_not(None),
                    leases.free(ProductImage, utcnow())),
    )]
    if not ids:
        return []
    rows = db.session.execute(
        select(ProductImage.id, ProductImage.source_url, Product.workspace_id)
        .join(Product, Product.id == ProductImage.product_id)
        .where(ProductImage.id.in_(ids))
    ).all()
    db.session.commit()  # hold no transaction while the downloads run
    return [tuple(row) for row in rows]


@dataclass(frozen=True)
class _Fetched:
    image: EncodedImage | None = None
    error: str | None = None


def _fetch(url: str, max_bytes: int, allow_private: bool, read_timeout: float) -> _Fetched:
    """Runs in a pool thread: network and Pillow only, no database and no app context."""
    try:
        downloaded = download(
            url, max_bytes=max_bytes, allowed_types=("image/",), allow_private=allow_private,
            timeout=(CONNECT_TIMEOUT_S, read_timeout),
        )
        return _Fetched(image=encode(downloaded.content, max_bytes))
    except (FetchError, ImageRejected) as error:
        return _Fetched(error=str(error))
    except Exception as error:  # a bug must fail this image, not the whole batch
        log.exception("downloading %s failed", url)
        return _Fetched(error=f"Unexpected error: {error.__class__.__name__}.")


def _download_batch(owner: str, claimed: list[tuple[int, str, int]], workers: int) -> int:
    config = current_app.config
    settings = (config["IMAGE_MAX_BYTES"], config["ALLOW_PRIVATE_MEDIA_HOSTS"], float(config["IMAGE_DOWNLOAD_TIMEOUT_S"]))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="image-download") as pool:
        futures = {pool.submit(_fetch, url, *settings): (image_id, workspace_id) for image_id, url, workspace_id in claimed}
        for future in as_completed(futures):
            image_id, workspace_id = futures[future]
            _record(owner, image_id, workspace_id, future.result())
    return len(claimed)


def _record(owner: str, image_id: int, workspace_id: int, fetched: _Fetched) -> None:
    """Stores the outcome if ``owner`` still holds the lease (the image may have been deleted,
    or its lease expired and another process took it over)."""
    values: dict = {"lease_owner": None, "lease_expires_at": None}
    relative = None
    if fetched.image is not None:
        relative = store(workspace_id, fetched.image)
        values.update(status=ImageStatus.OK.value, file_path=relative, error=None,
                      width=fetched.image.width, height=fetched.image.height)
    else:
        values.update(status=ImageStatus.FAILED.value, error=fetched.error)
    updated = db.session.execute(
        update(ProductImage)
        .where(ProductImage.id == image_id, ProductImage.status == ImageStatus.PENDING.value,
               ProductImage.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if updated != 1:
        media.remove(relative)
