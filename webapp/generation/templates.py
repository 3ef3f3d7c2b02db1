"""The video templates of seeds/002, kept in the ``templates`` table. Each is a recipe of the
local renderer; remote providers map the same keys onto their own styles."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Template
from ..providers.local import TEMPLATE_CATALOG

TEMPLATE_KEYS = tuple(key for key, _, _ in TEMPLATE_CATALOG)


def ensure_templates() -> int:
    """Creates the seed templates that are missing; returns how many it created."""
    existing = set(db.session.scalars(select(Template.key)))
    created = 0
    for position, (key, name, description) in enumerate(TEMPLATE_CATALOG):
        if key not in existing:
            db.session.add(Template(key=key, name=name, description=description, position=position, provider="local"))
            created += 1
    db.session.commit()
    return created


def all_templates() -> list[Template]:
    return list(db.session.scalars(select(Template).order_by(Template.position, Template.id)))


def template_by_key(key: str) -> Template | None:
    return db.session.scalar(select(Template).filter_by(key=key))
