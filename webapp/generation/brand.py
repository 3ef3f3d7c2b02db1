"""A workspace's brand kit: colours, one of the bundled fonts, a logo, the call to action and its
URL, and an optional corner watermark. Every template wears it (the local renderer draws it; a
remote provider gets it in the request)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select

from .. import media
from ..extensions import db
from ..models import BrandKit, Workspace, utcnow
from ..providers import base
from .contract import BrandUpdate
from .errors import GenerationError, NotFound

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 2000
LOGO_FORMATS = {"PNG": ".png", "JPEG": ".jpg"}


def brand_of(workspace: Workspace) -> BrandKit:
    """The workspace's brand kit; the defaults (not yet saved) when it never set one."""
    kit = db.session.get(BrandKit, workspace.id)
    if kit is None:
        kit = BrandKit(workspace_id=workspace.id, primary_color="#1E2A44", accent_color="#F2B33D", font="manrope",
                       cta_text="Shop now", watermark=False)
    return kit


def _saved(kit: BrandKit) -> BrandKit:
    kit.updated_at = utcnow()
    if kit not in db.session:  # the defaults, saved for the first time
        db.session.add(kit)
    db.session.commit()
    return kit


def update_brand(workspace: Workspace, update: BrandUpdate) -> BrandKit:
    """Changes what ``update`` names; the rest stays."""
    kit = brand_of(workspace)
    fields = update.model_dump(exclude_unset=True)
    for name, value in fields.items():
        setattr(kit, {"primary": "primary_color", "accent": "accent_color"}.get(name, name),
                str(value) if name == "cta_url" and value is not None else value)
    return _saved(kit)


def set_logo(workspace: Workspace, data: bytes) -> BrandKit:
    """Stores a PNG or JPEG logo (a transparent PNG stays transparent), re-encoded so that no
    metadata or trailing bytes are kept; the previous logo is removed."""
    if not data:
        raise GenerationError("Choose a PNG or JPEG file for the logo.", "logo")
    if len(data) > LOGO_MAX_BYTES:
        raise GenerationError(f"The logo is larger than {LOGO_MAX_BYTES // (1024 * 1024)} MB.", "logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in LOGO_FORMATS:
                raise GenerationError(f"The logo must be a PNG or JPEG image, not {image.format or 'this'}.", "logo")
            if max(image.size) > 8000:
                raise GenerationError("The logo is too large an image: at most 8000 pixels a side.", "logo")
            image.load()
            suffix = LOGO_FORMATS[image.format]
            clean = image.convert("RGBA" if suffix == ".png" else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise GenerationError("The logo is not a readable PNG or JPEG image.", "logo") from error
    clean.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
    buffer = io.BytesIO()
    clean.save(buffer, "PNG" if suffix == ".png" else "JPEG", **({"optimize": True} if suffix == ".png" else {"quality": 92}))
    key = media.new_path(f"brand/{workspace.id}", suffix)
    media.write_atomically(key, buffer.getvalue())
    kit = brand_of(workspace)
    previous, kit.logo_path = kit.logo_path, key
    saved = _saved(kit)
    media.remove(previous)
    return saved


def remove_logo(workspace: Workspace) -> BrandKit:
    kit = brand_of(workspace)
    previous, kit.logo_path = kit.logo_path, None
    saved = _saved(kit)
    media.remove(previous)
    return saved


def logo_file(workspace: Workspace) -> media.MediaFile:
    kit = db.session.get(BrandKit, workspace.id)
    if kit is None or not kit.logo_path:
        raise NotFound("This workspace has no logo.", "logo")
    return media.MediaFile(kit.logo_path)


def call_to_action(workspace_id: int) -> str:
    """The words a video ends on (spoken and on the end card)."""
    return db.session.scalar(select(BrandKit.cta_text).where(BrandKit.workspace_id == workspace_id)) or "Shop now"


def kit_for_provider(workspace_id: int) -> base.BrandKit:
    """The brand as a provider gets it, in plain values."""
    kit = db.session.get(BrandKit, workspace_id) or brand_of(Workspace(id=workspace_id))  # defaults
    return base.BrandKit(primary=kit.primary_color, accent=kit.accent_color, font=kit.font, logo_key=kit.logo_path,
                         cta_text=kit.cta_text, cta_url=kit.cta_url, watermark=kit.watermark)
