"""The video templates of seeds/002, kept in the ``templates`` table. Each is a recipe of the
local renderer; remote providers map the same keys onto their own styles."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Template
from ..providers.base import ProviderError, ProviderNotConfigured, TemplateInfo
from ..providers.local import TEMPLATE_CATALOG
from ..providers.registry import default_provider_name, get_provider

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


PICKER_FAILED = "Failed to load video templates. The provider may be offline."


def picker_templates() -> list[Template]:
    """The templates the generate form offers for the configured provider.

    The local renderer, the task API and Kie.ai make the six seed templates (rows of this
    table). A provider with its own catalog (RCK) is asked for it — the provider caches the
    answer five minutes — and what it offers is added to the table (provider = its name), so
    validation and titles treat those templates like the seed ones. Raises ProviderError
    (ProviderNotConfigured when the provider has no settings) whose message the picker shows:
    PICKER_FAILED followed by the provider's reason.
    """
    name = default_provider_name()
    provider = get_provider(name)
    if not getattr(provider, "has_template_catalog", False):
        return all_templates()
    try:
        offered = [info for info in provider.templates() if 0 < len(info.key) <= 64]
    except ProviderError as error:
        kind = ProviderNotConfigured if isinstance(error, ProviderNotConfigured) else ProviderError
        raise kind(f"{PICKER_FAILED} {error}", retryable=error.retryable) from error
    try:
        rows = _store_offered(name, offered)
    except IntegrityError:  # another request added the same template at the same moment
        db.session.rollback()
        rows = _store_offered(name, offered)
    return [rows[info.key] for info in offered]


def _store_offered(provider: str, offered: list[TemplateInfo]) -> dict[str, Template]:
    rows = {t.key: t for t in db.session.scalars(select(Template).where(Template.key.in_([i.key for i in offered])))}
    for position, info in enumerate(offered):
        row = rows.get(info.key)
        if row is None:
            row = rows[info.key] = Template(key=info.key, provider=provider)
            db.session.add(row)
        if row.provider == provider:  # the seed templates keep their own names and previews
            row.name, row.description = info.name[:120], info.description
            row.preview_url, row.position = info.preview_url, 100 + position
    db.session.commit()
    return rows
