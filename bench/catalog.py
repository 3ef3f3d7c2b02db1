"""The catalog several benchmarks start from: one workspace, many products sharing one photo."""

from __future__ import annotations

from sqlalchemy import insert

from webapp import media
from webapp.catalog.demo import demo_photo
from webapp.extensions import db
from webapp.generation.templates import ensure_templates
from webapp.models import Membership, Product, ProductImage, User, Workspace, utcnow

PASSWORD = "bench-password"


def bench_catalog(products: int) -> tuple[Workspace, User, list[int]]:
    """A workspace on the "bench" plan (set its limit in PLAN_LIMITS), its owner, and ``products``
    products, each with the same real photo; returns the workspace, the owner and the ids."""
    ensure_templates()
    user = User(email="bench@example.com")
    user.set_password(PASSWORD)
    workspace = Workspace(name="Bench", plan="bench")
    db.session.add_all([user, workspace, Membership(user=user, workspace=workspace, role="owner")])
    db.session.commit()
    photo = f"products/{workspace.id}/shared.jpg"
    media.write_atomically(photo, demo_photo("nimbus-mug", 0))
    now = utcnow()
    ids = db.session.execute(
        insert(Product).returning(Product.id, sort_by_parameter_order=True),
        [{"workspace_id": workspace.id, "external_key": f"p{n}", "title": f"Product {n:05d}", "sku": f"SKU{n:05d}",
          "description": "A sturdy mug.", "vendor": "", "marketplace": "", "created_at": now, "updated_at": now}
         for n in range(products)],
    ).scalars().all()
    db.session.execute(
        insert(ProductImage),
        [{"product_id": product_id, "position": 0, "file_path": photo, "status": "ok", "width": 1200, "height": 1200,
          "created_at": now} for product_id in ids],
    )
    db.session.commit()
    return workspace, user, list(ids)
