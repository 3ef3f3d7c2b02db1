"""Creating, editing and deleting products and their images: the rules the product pages and
the importer share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from .. import media
from ..addresses import HTTP_URL, with_scheme
from ..errors import AppError, NotFound, every_check
from ..extensions import db
from ..models import (
    IN_FLIGHT,
    ImageStatus,
    Product,
    ProductImage,
    Video,
    Workspace,
    utcnow,
)
from ..numbers import parse_id
from . import images

MAX_PRICE = Decimal("9999999999.99")  # products.price is NUMERIC(12, 2)
MAX_DESCRIPTION = 50_000
MAX_URL = 2048  # products.url
PRODUCT_BUSY = (
    "This product has a video being generated. Cancel it or wait until it finishes, then delete the product."
)
# C0 control characters other than tab and newline; PostgreSQL refuses NUL in text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CatalogError(AppError):
    """Bad input for a catalog change: nothing was changed. ``field`` names the input at fault.
    A missing product or image is ``webapp.errors.NotFound``, as everywhere else."""


@dataclass(frozen=True)
class ProductFields:
    """A product's own fields, checked and normalized."""

    external_key: str
    title: str
    sku: str = ""
    description: str = ""
    price: Decimal | None = None
    vendor: str = ""
    compare_at_price: Decimal | None = None
    url: str | None = None

    def as_values(self) -> dict[str, Any]:
        return {
            "external_key": self.external_key, "title": self.title, "sku": self.sku,
            "description": self.description, "price": self.price, "vendor": self.vendor,
            "compare_at_price": self.compare_at_price, "url": self.url,
        }


def clean_text(value: Any, field: str, label: str, max_length: int, *, required: bool = False, multiline: bool = False) -> str:
    text = "" if value is None else str(value)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.strip() if multiline else " ".join(text.split())
    if required and not text:
        raise CatalogError(f"{label} is required.", field)
    if len(text) > max_length:
        raise CatalogError(f"{label} is at most {max_length:,} characters (this one has {len(text):,}).", field)
    return text


_SPACES = re.compile(r"[\s\u00a0\u202f']")  # thousands as "1 299,00" (fr) or "1'299.00" (ch)
_COMMA_GROUPS = re.compile(r"-?\d{1,3}(,\d{3})+")  # 1,299 or 12,500: thousands
_DECIMAL_COMMA = re.compile(r"-?\d*,\d{1,2}")  # 12,5 or 12,50: cents


def parse_price(value: Any, field: str = "price", label: str = "Price") -> Decimal | None:
    """A price as merchants write it — ``19.99``, ``1,299.00``, ``1.299,00``, ``12,50``,
    ``1 299,00 €`` — (a currency sign is ignored); empty is None. Of a comma and a point, the last
    is the decimal mark; a lone comma is one when 1 or 2 digits follow it, else it groups thousands.
    ``label`` names the price in the messages."""
    shown = "" if value is None else str(value).strip()
    text = _SPACES.sub("", shown.strip("$€£"))
    if not text:
        return None
    comma, point = text.rfind(","), text.rfind(".")
    if comma >= 0 and point >= 0:
        decimal_mark, grouping = (",", ".") if comma > point else (".", ",")
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    elif comma >= 0:
        if _COMMA_GROUPS.fullmatch(text):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.fullmatch(text):
            text = text.replace(",", ".")
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise CatalogError(f"{label} {shown[:40]!r} is not a number.", field) from None
    if not price.is_finite() or price < 0:
        raise CatalogError(f"{label} must be zero or more.", field)
    if price > MAX_PRICE:  # before quantize, which cannot hold 1e400 in two decimals
        raise CatalogError(f"{label} is at most {MAX_PRICE:,}.", field)
    if price != price.quantize(Decimal("0.01")):
        raise CatalogError(f"{label} has at most two decimals.", field)
    return price.quantize(Decimal("0.01"))


def clean_url(value: Any, field: str = "url") -> str | None:
    """The product's page in the store, an http(s) URL (``https://`` may be left out); empty is
    None. Its address is not fetched, only shown (the end card's QR code, the share page's
    button), so any host will do."""
    url = "" if value is None else with_scheme(str(value).strip())
    if not url:
        return None
    if len(url) > MAX_URL or not HTTP_URL.fullmatch(url) or _CONTROL.search(url):
        raise CatalogError(f"The product page {url[:80]!r} is not an http(s) URL, e.g. "
                           "https://shop.example.com/products/mug.", field)
    return url


def get_product(workspace: Workspace, product_id: Any) -> Product:
    """One of the workspace's products; NotFound for any other id."""
    if product_id in (None, ""):
        raise AppError("Choose a product.", "productId")
    product_id = parse_id(product_id)
    product = None
    if product_id is not None:
        product = db.session.scalar(select(Product).filter_by(id=product_id, workspace_id=workspace.id))
    if product is None:
        raise NotFound("Product not found.", "productId")
    return product


def check_fields(
    *, external_key: Any, title: Any, sku: Any = "", description: Any = "", price: Any = None, vendor: Any = "",
    compare_at_price: Any = None, url: Any = None,
) -> ProductFields:
    """The product's fields cleaned, or a CatalogError with every field's problem at once."""
    checks = {
        "external_key": lambda: clean_text(external_key, "external_key", "The external key", 255, required=True),
        "title": lambda: clean_text(title, "title", "The title", 255, required=True),
        "sku": lambda: clean_text(sku, "sku", "The SKU", 120),
        "description": lambda: clean_text(description, "description", "The description", MAX_DESCRIPTION,
                                          multiline=True),
        "price": lambda: price if isinstance(price, Decimal) else parse_price(price),
        "vendor": lambda: clean_text(vendor, "vendor", "The vendor", 255),
        "compare_at_price": lambda: (compare_at_price if isinstance(compare_at_price, Decimal)
                                     else parse_price(compare_at_price, "compare_at_price", "Compare-at price")),
        "url": lambda: clean_url(url),
    }
    return ProductFields(**dict(zip(checks, every_check(checks.values()), strict=True)))


def _key_taken(workspace: Workspace, key: str, except_id: int | None = None) -> bool:
    query = select(Product.id).where(Product.workspace_id == workspace.id, Product.external_key == key)
    if except_id is not None:
        query = query.where(Product.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _key_from_title(workspace: Workspace, title: str) -> str:
    """A readable unused key for a product made by hand: its title as a slug, numbered if taken."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:200] or "product"
    taken = set(
        db.session.scalars(
            select(Product.external_key).where(Product.workspace_id == workspace.id, Product.external_key.like(f"{base}%"))
        )
    )
    key, number = base, 2
    while key in taken:
        key, number = f"{base}-{number}", number + 1
    return key


def create_product(workspace: Workspace, **raw: Any) -> Product:
    """A new product; without an external key one is made from the title."""
    if not str(raw.get("external_key") or "").strip():
        # a key from whatever title was typed; check_fields refuses a bad title with the rest
        raw["external_key"] = _key_from_title(workspace, str(raw.get("title") or ""))
    fields = check_fields(**raw)
    if _key_taken(workspace, fields.external_key):
        raise CatalogError(f"Another product already has the key {fields.external_key!r}.", "external_key")
    product = Product(workspace_id=workspace.id, **fields.as_values())
    db.session.add(product)
    _commit_unique_key(fields.external_key)
    return product


def update_product(workspace: Workspace, product_id: Any, **raw: Any) -> Product:
    product = get_product(workspace, product_id)
    fields = check_fields(**raw)
    if _key_taken(workspace, fields.external_key, except_id=product.id):
        raise CatalogError(f"Another product already has the key {fields.external_key!r}.", "external_key")
    for name, value in fields.as_values().items():
        setattr(product, name, value)
    _commit_unique_key(fields.external_key)
    return product


def _commit_unique_key(key: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:  # the same key saved at the same moment by another request
        db.session.rollback()
        raise CatalogError(f"Another product already has the key {key!r}.", "external_key") from None


def delete_product(workspace: Workspace, product_id: Any) -> str:
    """Deletes the product with its images and videos (files too); refused while one of its
    videos is being generated. Returns the deleted product's title."""
    product = get_product(workspace, product_id)
    title = product.title
    files = [image.file_path for image in product.images]
    files += [
        path
        for row in db.session.execute(
            select(Video.video_path, Video.thumbnail_path, Video.captions_path).where(Video.product_id == product.id)
        )
        for path in row
    ]
    # One statement decides: a video queued after the check above still blocks the delete.
    in_flight = exists().where(Video.product_id == product.id, Video.status.in_(IN_FLIGHT))
    deleted = db.session.execute(
        delete(Product).where(Product.id == product.id, ~in_flight).execution_options(synchronize_session=False)
    ).rowcount
    if deleted != 1:
        db.session.rollback()
        raise CatalogError(PRODUCT_BUSY, "product")
    # Images, videos and their events go with it (ON DELETE CASCADE; SQLite has foreign keys on).
    db.session.expunge(product)
    db.session.commit()
    media.remove(*files)
    return title


# ---------------------------------------------------------------- images ----


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def images_per_product() -> int:
    return current_app.config["IMAGES_PER_PRODUCT"]


def add_images(workspace: Workspace, product_id: Any, uploads: Iterable[Upload]) -> list[ProductImage]:
    """Adds uploaded images after the existing ones. All or nothing: one bad file refuses the
    upload, naming the file and the reason."""
    product = get_product(workspace, product_id)
    uploads = [upload for upload in uploads if upload.filename or upload.data]
    if not uploads:
        raise CatalogError("Choose at least one image to upload.", "images")
    limit = images_per_product()
    room = limit - len(product.images)
    if len(uploads) > room:
        have = f"it has {len(product.images)}" if product.images else "it has none yet"
        raise CatalogError(
            f"A product has at most {limit} images and {have}: you can add {max(room, 0)} more, not {len(uploads)}.",
            "images",
        )
    encoded = []
    for upload in uploads:
        try:
            encoded.append(images.encode(upload.data, current_app.config["IMAGE_MAX_BYTES"]))
        except images.ImageRejected as error:
            raise CatalogError(f"{upload.filename or 'The file'}: {error}", "images") from None
    paths = [images.store(workspace.id, image) for image in encoded]
    start = max((image.position for image in product.images), default=-1) + 1
    added = [
        ProductImage(position=start + index, file_path=path, status=ImageStatus.OK.value, width=image.width, height=image.height)
        for index, (path, image) in enumerate(zip(paths, encoded, strict=True))
    ]
    product.images.extend(added)
    product.updated_at = utcnow()
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        media.remove(*paths)
        raise
    return added


def image_file(workspace: Workspace, image_id: Any) -> media.MediaFile:
    """A stored image of one of the workspace's products; NotFound otherwise."""
    wanted = parse_id(image_id)
    path = None
    if wanted is not None:
        path = db.session.scalar(
            select(ProductImage.file_path)
            .join(Product, Product.id == ProductImage.product_id)
            .where(ProductImage.id == wanted, Product.workspace_id == workspace.id)
        )
    if not path:
        raise NotFound("Image not found.", "image")
    return media.MediaFile(path)


def _image_of(product: Product, image_id: Any) -> ProductImage:
    wanted = parse_id(image_id)
    for image in product.images:
        if image.id == wanted:
            return image
    raise NotFound("Image not found.", "image")


def remove_image(workspace: Workspace, product_id: Any, image_id: Any) -> None:
    product = get_product(workspace, product_id)
    image = _image_of(product, image_id)
    path = image.file_path
    product.images.remove(image)
    db.session.delete(image)
    _renumber(product)
    db.session.commit()
    media.remove(path)


def move_image(workspace: Workspace, product_id: Any, image_id: Any, offset: int) -> None:
    """Moves an image ``offset`` places earlier (negative) or later (positive) in the order."""
    product = get_product(workspace, product_id)
    image = _image_of(product, image_id)
    order = list(product.images)
    index = order.index(image)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    _renumber(product, order)
    db.session.commit()


def _renumber(product: Product, order: list[ProductImage] | None = None) -> None:
    for position, image in enumerate(order if order is not None else product.images):
        image.position = position
    product.updated_at = utcnow()


def retry_image(workspace: Workspace, product_id: Any, image_id: Any) -> None:
    """A failed download goes back to the queue."""
    product = get_product(workspace, product_id)
    image = _image_of(product, image_id)
    if image.status != ImageStatus.FAILED.value or not image.source_url:
        raise CatalogError("Only an image whose download failed can be retried.", "image")
    db.session.execute(
        update(ProductImage)
        .where(ProductImage.id == image.id, ProductImage.status == ImageStatus.FAILED.value)
        .values(status=ImageStatus.PENDING.value, error=None, lease_owner=None, lease_expires_at=None)
    )
    db.session.commit()
    db.session.refresh(image)

