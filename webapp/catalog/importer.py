"""Importing products from CSV: Reelboard's own columns, or a Shopify product export.

Reelboard's columns: external_key, title (required), sku, description, price, vendor,
compare_at_price, url (the product's page), image_urls (``|``-separated). Shopify's export:
rows grouped by Handle (the external key); Title, Body (HTML) as plain text, Vendor, the first
variant's Variant SKU, Variant Price and Variant Compare At Price, every distinct Image Src
ordered by Image Position, then the Variant Images; with the store's address typed beside it,
each product's page (``<address>/products/<handle>``). Other columns are ignored. A file changes
only the fields it has columns for: a product's page typed by hand stays through a Shopify
export imported without the address.

An import is planned first (read the file, compare with the catalog, nothing written), which
is what the preview shows, then applied in one transaction with a constant number of
statements per chunk of products. Re-importing a file updates products by external key,
never duplicates them. Images are only recorded as pending here; the ``images`` job
downloads them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import quote

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import media
from ..addresses import HTTP_URL, with_scheme
from ..extensions import db
from ..models import (
    ImageStatus,
    Product,
    ProductImage,
    Workspace,
    compare_at_unshown,
    utcnow,
)
from ..numbers import parse_int
from .products import (
    MAX_URL,
    CatalogError,
    ProductFields,
    check_fields,
)

# Shopify bodies can be long; the csv module's default limit (128 KiB a field) is too small.
csv.field_size_limit(16 * 1024 * 1024)

REELBOARD = "reelboard"
SHOPIFY = "shopify"
FORMAT_NAMES = {REELBOARD: "Reelboard CSV", SHOPIFY: "Shopify product export"}
REELBOARD_REQUIRED = ("external_key", "title")
REELBOARD_OPTIONAL = ("sku", "description", "price", "vendor", "compare_at_price", "url", "image_urls")
SHOPIFY_REQUIRED = ("handle", "title")
SHOPIFY_COLUMNS = {
    "handle": "Handle", "title": "Title", "body": "Body (HTML)", "vendor": "Vendor", "sku": "Variant SKU",
    "price": "Variant Price", "image": "Image Src", "image_position": "Image Position", "variant_image": "Variant Image",
    "option": "Option1 Value", "compare_at": "Variant Compare At Price",
}
# Which column an error about a product field is reported against, in a Shopify export.
SHOPIFY_FIELD_COLUMNS = {
    "external_key": "Handle", "title": "Title", "description": "Body (HTML)", "vendor": "Vendor",
    "sku": "Variant SKU", "price": "Variant Price", "compare_at_price": "Variant Compare At Price", "image": "Image Src",
}
# A product's own fields, as ProductFields names them; a file changes those it has a column for.
FIELDS = tuple(name for name in ProductFields.__dataclass_fields__)
# The product field each of Shopify's columns gives. The export has no store address, so no
# product page: without the address typed beside it, the page typed here stays.
SHOPIFY_FIELDS = {"handle": "external_key", "title": "title", "body": "description", "vendor": "vendor",
                  "sku": "sku", "price": "price", "compare_at": "compare_at_price"}
DELIMITERS = (",", ";", "\t")
CHUNK = 500  # keys per IN (...) query


class ImportRefused(Exception):
    """The whole file is refused (not CSV, no known header): nothing was imported."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str
    key: str = ""


@dataclass(frozen=True)
class Note:
    """Something imported differently from the file, e.g. images over the limit left out."""

    line: int
    message: str


@dataclass(slots=True)
class ParsedProduct:
    line: int
    fields: ProductFields
    # None: the file has no image column, so the product's images are left as they are.
    image_urls: tuple[str, ...] | None
    marketplace: str


@dataclass
class ParsedFile:
    format: str
    products: list[ParsedProduct]
    rejected: list[Rejected]
    notes: list[Note]
    rows: int
    carried: frozenset[str]  # the fields the file has columns for; it leaves the others as they are


# --------------------------------------------------------------- reading ----


_SHOP_PATH = re.compile(r"/(?:products|collections)(?:/|$)", re.IGNORECASE)


def store_address(value: Any) -> str | None:
    """The store's address typed beside a Shopify export (``https://shop.example.com``, or with
    a market's path, ``https://shop.example.com/en-ca``); empty is None. What a merchant may
    paste with it goes: a query, a trailing slash, and a ``/products…`` or ``/collections…``
    part, which ``/products/<handle>`` would otherwise repeat. A CatalogError for anything else."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    text = with_scheme(text)
    address = _SHOP_PATH.split(text.split("?")[0].split("#")[0], maxsplit=1)[0].rstrip("/")
    if len(address) > MAX_URL // 2 or not HTTP_URL.fullmatch(address):
        raise CatalogError(f"The store address {text[:80]!r} is not an http(s) address, e.g. "
                           "https://shop.example.com.", "store_url")
    return address


def read(data: bytes, store_url: str | None = None) -> ParsedFile:
    """Parses the file without touching the database; raises ImportRefused for a file that is
    not CSV or has neither header. ``store_url`` (``store_address``) gives a Shopify export's
    products their pages, ``<store_url>/products/<handle>``: the export has no store address."""
    text = _decode(data)
    delimiter, header = _header(text)
    columns = {name.strip().lower(): index for index, name in reversed(list(enumerate(header)))}
    if all(name in columns for name in REELBOARD_REQUIRED):
        parsed = _read_reelboard(text, delimiter, columns)
        if store_url:
            parsed.notes.insert(0, Note(1, "The store address is for a Shopify export and was not used: in a "
                                           "Reelboard file, a url column gives each product's page."))
        return _with_unshown_discounts(parsed)
    if all(name in columns for name in SHOPIFY_REQUIRED):
        return _with_unshown_discounts(_read_shopify(text, delimiter, columns, store_url))
    found = ", ".join(name.strip() for name in header[:12] if name.strip()) or "nothing"
    raise ImportRefused(
        "The file's first line must name the columns: Reelboard's (external_key, title, and optionally "
        f"{', '.join(REELBOARD_OPTIONAL)}) or a Shopify product export's (Handle, Title, …). Found: {found}."
    )


def _with_unshown_discounts(parsed: ParsedFile) -> ParsedFile:
    """A note for each compare-at price no video will show: kept as the store has it, but the
    merchant likely meant a discount."""
    for product in parsed.products:
        fields = product.fields
        if compare_at_unshown(fields.price, fields.compare_at_price):
            parsed.notes.append(Note(product.line, f"Compare-at price {fields.compare_at_price} is not above the "
                                                   "price: videos show no was-price."))
    parsed.notes.sort(key=lambda note: note.line)
    return parsed


def _decode(data: bytes) -> str:
    if not data.strip():
        raise ImportRefused("The file is empty.")
    if b"\x00" in data[:65536]:
        raise ImportRefused("This is not a CSV file: it contains binary data (a spreadsheet? Export it as CSV first).")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportRefused(
            f"The file is not UTF-8 text (line {line} has a byte UTF-8 does not allow). Save it as “CSV UTF-8” and try again."
        ) from None


def _header(text: str) -> tuple[str, list[str]]:
    """The delimiter that splits the first record into the most columns, and that record."""
    best: tuple[str, list[str]] | None = None
    for delimiter in DELIMITERS:
        try:
            header = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
        except csv.Error as error:
            raise ImportRefused(f"This is not a readable CSV file: {error}.") from None
        if best is None or len(header) > len(best[1]):
            best = (delimiter, header)
    return best


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, fields) for every non-blank record after the header."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next(reader, None)
    last_line = reader.line_num
    try:
        for row in reader:
            start, last_line = last_line + 1, reader.line_num
            if any(value.strip() for value in row):
                yield start, row
    except csv.Error as error:
        raise ImportRefused(f"Line {last_line + 1} is not valid CSV: {error}. Nothing was imported.") from None


def _cell(row: Sequence[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index] if index is not None and index < len(row) else ""


def _check_urls(urls: Iterable[str], column: str) -> tuple[str, ...]:
    """Distinct, in order; each an http(s) URL with a host (fetching checks the address)."""
    distinct = tuple(dict.fromkeys(url.strip() for url in urls if url.strip()))
    for url in distinct:
        if len(url) > MAX_URL or not HTTP_URL.fullmatch(url):
            raise CatalogError(f"{url[:80]!r} is not an http(s) URL.", column)
    return distinct


def _limit_images(parsed: ParsedProduct, notes: list[Note]) -> None:
    limit = current_app.config["IMAGES_PER_PRODUCT"]
    if parsed.image_urls is not None and len(parsed.image_urls) > limit:
        notes.append(Note(parsed.line, f"{parsed.fields.external_key}: only the first {limit} of "
                                             f"{len(parsed.image_urls)} images are kept."))
        parsed.image_urls = parsed.image_urls[:limit]


def _reason(error: CatalogError, columns: dict[str, str]) -> str:
    """Every field the row has wrong, each after its column's name."""
    said = []
    for name, message in error.problems:
        column = columns.get(name or "", name)
        said.append(f"{column}: {message}" if column else message)
    return "\n".join(said)


def _read_reelboard(text: str, delimiter: str, columns: dict[str, int]) -> ParsedFile:
    has_images = "image_urls" in columns
    products: list[ParsedProduct] = []
    rejected: list[Rejected] = []
    notes: list[Note] = []
    first_line: dict[str, int] = {}
    rows = 0
    for line, row in _records(text, delimiter):
        rows += 1
        values = {name: _cell(row, columns, name) for name in (*REELBOARD_REQUIRED, *REELBOARD_OPTIONAL)}
        key = values["external_key"].strip()
        try:
            fields = check_fields(
                external_key=key, title=values["title"], sku=values["sku"], description=values["description"],
                price=values["price"], vendor=values["vendor"], compare_at_price=values["compare_at_price"],
                url=values["url"],
            )
            urls = _check_urls(values["image_urls"].split("|"), "image_urls") if has_images else None
        except CatalogError as error:
            rejected.append(Rejected(line, _reason(error, {}), key))
            continue
        if fields.external_key in first_line:
            rejected.append(Rejected(line, f"external_key {key!r} already appears on line {first_line[fields.external_key]}.", key))
            continue
        first_line[fields.external_key] = line
        parsed = ParsedProduct(line, fields, urls, "")
        _limit_images(parsed, notes)
        products.append(parsed)
    return ParsedFile(REELBOARD, products, rejected, notes, rows, frozenset(FIELDS).intersection(columns))


@dataclass(slots=True)
class _ShopifyGroup:
    line: int
    title: str = ""
    body: str = ""
    vendor: str = ""
    variant: tuple[str, str, str] | None = None  # (sku, price, compare-at price) of the first variant row
    variant_line: int = 0
    images: list[tuple[int, int, str]] = field(default_factory=list)  # (position, order, url)
    variant_images: list[str] = field(default_factory=list)


def _read_shopify(text: str, delimiter: str, columns: dict[str, int], store_url: str | None) -> ParsedFile:
    named = {key: SHOPIFY_COLUMNS[key].lower() for key in SHOPIFY_COLUMNS}
    groups: dict[str, _ShopifyGroup] = {}
    rejected: list[Rejected] = []
    rows = 0
    for line, row in _records(text, delimiter):
        rows += 1
        value = {key: _cell(row, columns, name) for key, name in named.items()}
        handle = value["handle"].strip()
        if not handle:
            rejected.append(Rejected(line, "Handle is empty: every row needs its product's handle."))
            continue
        group = groups.get(handle)
        if group is None:
            group = groups[handle] = _ShopifyGroup(line)
        group.title = group.title or value["title"]
        group.body = group.body or value["body"]
        group.vendor = group.vendor or value["vendor"]
        if group.variant is None and (value["sku"].strip() or value["price"].strip() or value["option"].strip()):
            group.variant, group.variant_line = (value["sku"], value["price"], value["compare_at"]), line
        if value["image"].strip():
            position = value["image_position"].strip()
            order = len(group.images)
            group.images.append((parse_int(position, maximum=1 << 30) or 1 << 30, order, value["image"]))
        if value["variant_image"].strip():
            group.variant_images.append(value["variant_image"])

    products: list[ParsedProduct] = []
    notes: list[Note] = []
    for handle, group in groups.items():
        sku, price, compare_at = group.variant or ("", "", "")
        try:
            if not group.title.strip():
                raise CatalogError("Title is empty on every row of this product.", "title")
            fields = check_fields(
                external_key=handle, title=group.title, sku=sku, description=html_to_text(group.body),
                price=price, vendor=group.vendor, compare_at_price=compare_at,
                url=f"{store_url}/products/{quote(handle, safe='')}" if store_url else None,
            )
            ordered = [url for _, _, url in sorted(group.images)]
            urls = _check_urls([*ordered, *group.variant_images], "image")
        except CatalogError as error:
            line = group.variant_line if error.field in ("price", "compare_at_price") else group.line
            rejected.append(Rejected(line, _reason(error, SHOPIFY_FIELD_COLUMNS), handle))
            continue
        parsed = ParsedProduct(group.line, fields, urls, SHOPIFY)
        _limit_images(parsed, notes)
        products.append(parsed)
    rejected.sort(key=lambda r: r.line)
    carried = {field for key, field in SHOPIFY_FIELDS.items() if named[key] in columns} | ({"url"} if store_url else set())
    return ParsedFile(SHOPIFY, products, rejected, notes, rows, frozenset(carried))


# Shopify bodies are HTML written by its editor: regular expressions are enough, and ten times
# faster than an HTMLParser over a 10,000-product file.
_HIDDEN = re.compile(r"<!--.*?-->|<(script|style|template|iframe|noscript)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_LIST_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_BLOCK = re.compile(
    r"</?(?:p|div|br|ul|ol|li|tr|table|h[1-6]|section|article|blockquote|pre|hr|dd|dt)\b[^>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(html: str) -> str:
    """Shopify's Body (HTML) as plain text: tags dropped, entities decoded, one line per block."""
    if "<" in html:
        html = _TAG.sub("", _BLOCK.sub("\n", _LIST_ITEM.sub("\n• ", _HIDDEN.sub("", html))))
    lines = (_SPACES.sub(" ", line).strip() for line in unescape(html).splitlines())
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()


# -------------------------------------------------------------- planning ----

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class _Existing:
    id: int
    values: dict[str, Any]
    url_images: tuple[tuple[int, str, str | None], ...]  # (image id, source URL, file path) in order
    uploaded: int


@dataclass
class ImportPlan:
    """What importing the file would do; ``apply`` carries it out."""

    parsed: ParsedFile
    actions: list[str]  # one per parsed product
    existing: dict[str, _Existing]

    @property
    def format_name(self) -> str:
        return FORMAT_NAMES[self.parsed.format]

    def count(self, action: str) -> int:
        return self.actions.count(action)

    @property
    def images_to_download(self) -> int:
        total = 0
        for product, action in zip(self.parsed.products, self.actions, strict=True):
            before = self.existing.get(product.fields.external_key)
            urls = _wanted_urls(product, before)
            if urls is not None and action != UNCHANGED:
                known = {url for _, url, _ in before.url_images} if before else set()
                total += sum(1 for url in urls if url not in known)
        return total

    def preview(self, limit: int = 20) -> list[tuple[ParsedProduct, str]]:
        return list(zip(self.parsed.products[:limit], self.actions[:limit], strict=True))


def plan(workspace: Workspace, data: bytes, store_url: str | None = None) -> ImportPlan:
    parsed = read(data, store_url)
    if not parsed.rows:
        raise ImportRefused("The file has a header but no product rows.")
    existing = _existing(workspace, [p.fields.external_key for p in parsed.products])
    actions = [_action(product, existing.get(product.fields.external_key), parsed.carried) for product in parsed.products]
    return ImportPlan(parsed, actions, existing)


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _existing(workspace: Workspace, keys: list[str]) -> dict[str, _Existing]:
    names = [name for name in FIELDS if name != "external_key"]
    products: dict[int, tuple[str, dict[str, Any]]] = {}
    for chunk in _chunks(keys):
        rows = db.session.execute(
            select(Product.id, Product.external_key, *(getattr(Product, name) for name in names))
            .where(Product.workspace_id == workspace.id, Product.external_key.in_(chunk))
        )
        for product_id, key, *values in rows:
            products[product_id] = (key, dict(zip(names, values, strict=True)))
    images: dict[int, list[tuple[int, str, str | None]]] = {product_id: [] for product_id in products}
    uploaded: dict[int, int] = dict.fromkeys(products, 0)
    for chunk in _chunks(list(products)):
        rows = db.session.execute(
            select(ProductImage.product_id, ProductImage.id, ProductImage.source_url, ProductImage.file_path)
            .where(ProductImage.product_id.in_(chunk))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
        )
        for product_id, image_id, url, path in rows:
            if url:
                images[product_id].append((image_id, url, path))
            else:
                uploaded[product_id] += 1
    return {
        key: _Existing(product_id, values, tuple(images[product_id]), uploaded[product_id])
        for product_id, (key, values) in products.items()
    }


def _wanted_urls(product: ParsedProduct, existing: _Existing | None) -> tuple[str, ...] | None:
    """The file's image URLs that fit beside the images uploaded by hand (those stay)."""
    if product.image_urls is None:
        return None
    room = current_app.config["IMAGES_PER_PRODUCT"] - (existing.uploaded if existing else 0)
    return product.image_urls[: max(0, room)]


def _action(product: ParsedProduct, existing: _Existing | None, carried: frozenset[str]) -> str:
    if existing is None:
        return CREATE
    wanted = product.fields.as_values()
    if any(wanted[name] != value for name, value in existing.values.items() if name in carried):
        return UPDATE
    urls = _wanted_urls(product, existing)
    if urls is not None and urls != tuple(url for _, url, _ in existing.url_images):
        return UPDATE
    return UNCHANGED


# -------------------------------------------------------------- applying ----


@dataclass
class ImportReport:
    format: str
    created: int
    updated: int
    unchanged: int
    rejected: list[Rejected]
    notes: list[Note]
    images_queued: int

    def summary(self) -> str:
        total = self.created + self.updated + self.unchanged
        text = (
            f"{FORMAT_NAMES[self.format]}: {total} product{'' if total == 1 else 's'} imported — "
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged; {len(self.rejected)} rejected."
        )
        if self.images_queued:
            text += f" {self.images_queued} image{'' if self.images_queued == 1 else 's'} queued for download."
        return text


def apply(workspace: Workspace, import_plan: ImportPlan) -> ImportReport:
    """Writes the plan in one transaction: inserts, updates and image changes in bulk."""
    try:
        report, removed_files = _write(workspace, import_plan)
        db.session.commit()
    except IntegrityError:  # PostgreSQL: another import created one of these keys meanwhile
        db.session.rollback()
        raise ImportRefused("Another import changed these products at the same time. Import the file again.") from None
    media.remove(*removed_files)
    return report


def _write(workspace: Workspace, import_plan: ImportPlan) -> tuple[ImportReport, list[str]]:
    """The statements of ``apply``; returns its report and the files to remove once committed."""
    now = utcnow()
    parsed, existing = import_plan.parsed, import_plan.existing
    creates = [p for p, a in zip(parsed.products, import_plan.actions, strict=True) if a == CREATE]
    updates = [p for p, a in zip(parsed.products, import_plan.actions, strict=True) if a == UPDATE]
    new_images: list[dict[str, Any]] = []
    removed_files: list[str] = []

    for chunk in _chunks(creates):
        rows = [
            {"workspace_id": workspace.id, "marketplace": p.marketplace, "created_at": now, "updated_at": now, **p.fields.as_values()}
            for p in chunk
        ]
        ids = db.session.execute(
            insert(Product).returning(Product.id, sort_by_parameter_order=True), rows
        ).scalars().all()
        for product, product_id in zip(chunk, ids, strict=True):
            new_images += _image_rows(product_id, product.image_urls or (), now)

    if updates:
        db.session.execute(
            update(Product),
            [{"id": existing[p.fields.external_key].id, "updated_at": now,
              **{name: value for name, value in p.fields.as_values().items() if name in parsed.carried}}
             for p in updates],
        )
    stale_ids: list[int] = []
    repositioned: list[dict[str, Any]] = []
    for product in updates:
        before = existing[product.fields.external_key]
        urls = _wanted_urls(product, before)
        if urls is None:
            continue
        unlisted = {url: image_id for image_id, url, _ in before.url_images}
        for position, url in enumerate(urls):
            if url in unlisted:
                repositioned.append({"id": unlisted.pop(url), "position": position})
            else:
                new_images.append(_image_row(before.id, url, position, now))
        stale = set(unlisted.values())
        for image_id, _, path in before.url_images:
            if image_id in stale:
                stale_ids.append(image_id)
                if path:
                    removed_files.append(path)
        if before.uploaded:
            _move_uploads_after(before.id, len(urls))
    if repositioned:
        db.session.execute(update(ProductImage), repositioned)
    for chunk in _chunks(stale_ids):
        db.session.execute(delete(ProductImage).where(ProductImage.id.in_(chunk)))
    if new_images:
        db.session.execute(insert(ProductImage), new_images)
    report = ImportReport(
        parsed.format, len(creates), len(updates), import_plan.count(UNCHANGED), parsed.rejected, parsed.notes,
        len(new_images),
    )
    return report, removed_files


def _image_row(product_id: int, url: str, position: int, now: Any) -> dict[str, Any]:
    return {"product_id": product_id, "position": position, "source_url": url, "status": ImageStatus.PENDING.value,
            "created_at": now}


def _image_rows(product_id: int, urls: Iterable[str], now: Any) -> list[dict[str, Any]]:
    return [_image_row(product_id, url, position, now) for position, url in enumerate(urls)]


def _move_uploads_after(product_id: int, start: int) -> None:
    """Uploaded images keep their order, after the file's images."""
    uploads = db.session.scalars(
        select(ProductImage.id)
        .where(ProductImage.product_id == product_id, ProductImage.source_url.is_(None))
        .order_by(ProductImage.position, ProductImage.id)
    ).all()
    if uploads:
        db.session.execute(update(ProductImage), [{"id": image_id, "position": start + index} for index, image_id in enumerate(uploads)])


def import_file(workspace: Workspace, data: bytes, store_url: str | None = None) -> ImportReport:
    """Plans and applies an import; raises ImportRefused (nothing imported) for a bad file."""
    return apply(workspace, plan(workspace, data, store_url))
