"""The video templates of seeds/002, kept in the ``templates`` table. Each is a recipe of the
local renderer; remote providers map the same keys onto their own styles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import media
from ..extensions import db
from ..models import Template
from ..providers.base import (
    Provider,
    ProviderError,
    ProviderNotConfigured,
    TemplateInfo,
)
from ..providers.registry import default_provider_name, get_provider
from ..video_templates import SEED_BY_KEY, SEED_TEMPLATES
from .errors import NotFound


def ensure_templates() -> int:
    """Creates the seed templates that are missing; returns how many it created."""
    existing = set(db.session.scalars(select(Template.key)))
    created = 0
    for position, seed in enumerate(SEED_TEMPLATES):
        if seed.key not in existing:
            db.session.add(Template(key=seed.key, name=seed.name, description=seed.description, position=position,
                                    provider="local"))
            created += 1
    db.session.commit()
    return created


def all_templates() -> list[Template]:
    return list(db.session.scalars(select(Template).order_by(Template.position, Template.id)))


def template_by_key(key: str) -> Template | None:
    return db.session.scalar(select(Template).filter_by(key=key))


PREVIEW_FILES = {"preview": "preview_video_path", "poster": "preview_thumbnail_path"}


def preview_file(key: Any, kind: str, aspect_ratio: str | None = None) -> media.MediaFile:
    """A template's preview clip or its poster (shared by every workspace), in ``aspect_ratio``
    when it was rendered in that shape (else the 16:9 one); NotFound otherwise."""
    template = template_by_key(key) if isinstance(key, str) and len(key) <= 64 else None
    if template is None or kind not in PREVIEW_FILES:
        raise NotFound("This template has no preview.", "template")
    shaped = (template.preview_files or {}).get(aspect_ratio or "") or {}
    path = shaped.get(kind) or getattr(template, PREVIEW_FILES[kind])
    if not path:
        raise NotFound("This template has no preview.", "template")
    return media.MediaFile(path)


PICKER_FAILED = "Failed to load video templates. The provider may be offline."


def picker_templates(provider_name: str | None = None) -> list[Template]:
    """The templates the generate form offers for a provider (the installation's default when
    it names none).

    The local renderer, the task API and Kie.ai make the six seed templates (rows of this
    table). A provider with its own catalog (RCK) is asked for it — the provider caches the
    answer five minutes — and what it offers is added to the table (provider = its name), so
    validation and titles treat those templates like the seed ones. Raises ProviderError
    (ProviderNotConfigured when the provider has no settings) whose message the picker shows:
    PICKER_FAILED followed by the provider's reason.
    """
    provider = get_provider(provider_name or default_provider_name())
    if not provider.capabilities.own_templates:
        return [t for t in all_templates() if t.key in SEED_BY_KEY]
    try:
        return provider_catalog(provider)
    except ProviderError as error:
        kind = ProviderNotConfigured if isinstance(error, ProviderNotConfigured) else ProviderError
        raise kind(f"{PICKER_FAILED} {error}", retryable=error.retryable) from error


def provider_catalog(provider: Provider) -> list[Template]:
    """The templates of a provider with a catalog of its own (RCK), asked of it and kept in the
    table (provider = its name), in its order. Raises ProviderError."""
    offered = [info for info in provider.templates() if 0 < len(info.key) <= 64]
    try:
        rows = _store_offered(provider.name, offered)
    except IntegrityError:  # another request added the same template at the same moment
        db.session.rollback()
        rows = _store_offered(provider.name, offered)
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
