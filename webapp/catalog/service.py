"""Finding products: listing, search, and which templates each already has a video for."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Product, Video, VideoStatus, Workspace
from ..pagination import Page, paginate


def product_query(workspace: Workspace, search: str | None = None) -> Select:
    query = select(Product).where(Product.workspace_id == workspace.id)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(
            or_(Product.title.ilike(pattern), Product.sku.ilike(pattern), Product.external_key.ilike(pattern))
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
