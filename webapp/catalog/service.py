"""Finding products: listing, search, and which templates each already has a video for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from ..extensions import db
from ..models import Product, Video, VideoStatus, Workspace
from ..pagination import Page, paginate


def product_query(workspace: Workspace, search: str | None = None) -> Select:
    query = select(Product).where(Product.workspace_id == workspace.id)
    if search:
        text = search.strip()
        query = query.where(
            or_(
                Product.title.icontains(text, autoescape=True),
                Product.sku.icontains(text, autoescape=True),
                Product.external_key.icontains(text, autoescape=True),
            )
        )
    return query.order_by(Product.title, Product.id)


def list_products(workspace: Workspace, page: int, per_page: int, search: str | None = None) -> Page:
    return paginate(product_query(workspace, search).options(selectinload(Product.images)), page, per_page)


def completed_templates(product_ids: Iterable[int]) -> dict[int, set[str]]:
    """For each product, the templates it has a completed video with (the cache of seeds/000)."""
    ids = list(product_ids)
    found: dict[int, set[str]] = defaultdict(set)
    if ids:
        rows = db.session.execute(
            select(Video.product_id, Video.template_key)
            .where(Video.product_id.in_(ids), Video.status == VideoStatus.COMPLETED.value)
            .distinct()
        )
        for product_id, template_key in rows:
            found[product_id].add(template_key)
    return found


def product_videos(product: Product, limit: int = 20) -> list[Video]:
    return list(
        db.session.scalars(
            select(Video).where(Video.product_id == product.id).order_by(Video.created_at.desc(), Video.id.desc()).limit(limit)
        )
    )


GENERATION_ORDER = {"created_at": Video.created_at, "updated_at": Video.updated_at}


def video_generations(
    workspace: Workspace,
    page: int,
    per_page: int,
    *,
    statuses: Iterable[str] = (),
    order_by: str = "created_at",
    descending: bool = True,
) -> Page:
    """Every video of the workspace with its product (for its external key): the listing a
    storefront widget reads to learn which products already have a video (seeds/000)."""
    query = (
        select(Video)
        .join(Video.product)
        .options(contains_eager(Video.product))
        .where(Video.workspace_id == workspace.id)
    )
    statuses = list(statuses)
    if statuses:
        query = query.where(Video.status.in_(statuses))
    column = GENERATION_ORDER[order_by]
    order = (column.desc(), Video.id.desc()) if descending else (column.asc(), Video.id.asc())
    return paginate(query.order_by(*order), page, per_page)
