"""Share links: a public page of one completed video at an unguessable address.

A link is a random 256-bit token (``secrets.token_urlsafe(32)``), looked up through a unique
index; nothing in it is derived from the video or the workspace. A video has at most one link
in force: sharing again returns it (with the expiry asked for now). Revoking or expiring ends it
at once: every public route looks the link up on every request.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from ..extensions import db
from ..media import MediaFile
from ..models import (
    Product,
    ShareLink,
    User,
    Video,
    VideoStatus,
    Workspace,
    compare_at_label,
    price_label,
    utcnow,
)
from ..numbers import parse_int
from ..providers.base import shop_link
from ..render.brand import hex_to_rgb, readable_ink, rgb_to_hex
from .brand import kit_for_provider
from .errors import GenerationError, InvalidState
from .service import VIDEO_FILES, get_video

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
MAX_EXPIRY_DAYS = 365
EXPIRY_CHOICES = (1, 7, 30, 90)  # offered in the share panel; the API takes any 1–365, or none


def _in_force(now: datetime):
    return (ShareLink.revoked_at.is_(None), or_(ShareLink.expires_at.is_(None), ShareLink.expires_at > now))


def check_expiry(expires_in_days: Any) -> int | None:
    """None (never expires) or a whole number of days, 1–365."""
    if expires_in_days in (None, ""):
        return None
    days = parse_int(expires_in_days, minimum=1, maximum=MAX_EXPIRY_DAYS)
    if days is None:
        raise GenerationError(f"The link can last 1 to {MAX_EXPIRY_DAYS} days, or never expire.", "expiresInDays")
    return days


def active_link(workspace: Workspace, video_id: Any) -> ShareLink | None:
    """The link in force for the workspace's video; NotFound for another workspace's video."""
    video = get_video(workspace, video_id)
    return db.session.scalar(
        select(ShareLink).where(ShareLink.video_id == video.id, *_in_force(utcnow())).order_by(ShareLink.id.desc())
    )


def share_video(workspace: Workspace, user: User | None, video_id: Any, expires_in_days: Any = None) -> ShareLink:
    """The video's link in force (made now if there is none), expiring in ``expires_in_days``
    from now or never. Only a completed video with its file can be shared."""
    days = check_expiry(expires_in_days)
    video = get_video(workspace, video_id)
    if video.status != VideoStatus.COMPLETED.value or not video.video_path:
        raise InvalidState("Only a completed video can be shared.")
    now = utcnow()
    link = active_link(workspace, video.id) or ShareLink(
        workspace_id=workspace.id, video_id=video.id, token=secrets.token_urlsafe(TOKEN_BYTES),
        created_by_id=user.id if user else None, created_at=now,
    )
    link.expires_at = now + timedelta(days=days) if days else None
    db.session.add(link)
    db.session.commit()
    return link


def revoke_share(workspace: Workspace, video_id: Any) -> bool:
    """Ends the video's link; False when there was none in force."""
    video = get_video(workspace, video_id)
    now = utcnow()
    revoked = db.session.execute(
        update(ShareLink).where(ShareLink.video_id == video.id, *_in_force(now)).values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return revoked > 0


def share_url(link: ShareLink) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/s/{link.token}"


@dataclass(frozen=True)
class SharedVideo:
    """What a share page shows: the video and its files, and what the video itself shows of
    its product and brand (title, price, logo, the call to action and where it leads)."""

    token: str
    title: str
    width: int | None
    height: int | None
    duration_s: float | None
    has_poster: bool
    has_captions: bool
    files: dict[str, str | None]  # video, poster, captions and the brand's logo: storage keys
    price: str | None = None
    compare_at_price: str | None = None
    cta_text: str = ""
    shop_url: str | None = None
    accent: str = "#F2B33D"  # the brand's accent (#RRGGBB): the call to action's colour, as on the end card

    @property
    def accent_hex(self) -> str:
        return rgb_to_hex(hex_to_rgb(self.accent))  # checked again: it is written into a stylesheet

    @property
    def accent_ink(self) -> str:
        """Near-black or white, whichever reads on the accent (the button's words)."""
        return rgb_to_hex(readable_ink(hex_to_rgb(self.accent)))


def shop_url_of(workspace: Workspace, video: Video) -> str | None:
    """Where the share page's button (and the end card's code) leads for ``video``."""
    return shop_link(video.product.url, kit_for_provider(workspace.id))


def _shared_row(token: str, *product_columns):
    """The video behind a link in force, with ``product_columns`` of its product; None for an
    unknown, revoked or expired link, or a video that is no longer completed."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        return None
    return db.session.execute(
        select(Video.workspace_id, Video.width, Video.height, Video.duration_s, *product_columns,
               *(getattr(Video, column).label(kind) for kind, column in VIDEO_FILES.items()))
        .select_from(ShareLink)
        .join(Video, Video.id == ShareLink.video_id)
        .join(Product, Product.id == Video.product_id)
        .where(ShareLink.token == token, *_in_force(utcnow()), Video.status == VideoStatus.COMPLETED.value,
               Video.video_path.is_not(None))
    ).one_or_none()


def shared_video(token: str) -> SharedVideo | None:
    """What the share page of a link in force shows; None as ``_shared_row``."""
    row = _shared_row(token, Product.title, Product.price, Product.compare_at_price, Product.url)
    if row is None:
        return None
    kit = kit_for_provider(row.workspace_id)
    files = {**{kind: getattr(row, kind) for kind in VIDEO_FILES}, "logo": kit.logo_key}
    return SharedVideo(token, row.title, row.width, row.height, row.duration_s, files["poster"] is not None,
                       files["captions"] is not None, files, price=price_label(row.price),
                       compare_at_price=compare_at_label(row.price, row.compare_at_price), cta_text=kit.cta_text,
                       shop_url=shop_link(row.url, kit), accent=kit.accent)


def shared_file(token: str, kind: str) -> MediaFile | None:
    """One of a shared video's files (video, poster, captions, the brand's logo) while its link
    is in force: one query (two for the logo) per request, a player's range requests included."""
    row = _shared_row(token)
    if row is None:
        return None
    path = kit_for_provider(row.workspace_id).logo_key if kind == "logo" else getattr(row, kind, None)
    return MediaFile(path) if path else None
