"""The data model (DESIGN.md §3) as SQLAlchemy 2.x typed models.

Times are stored as naive UTC (``utcnow()``) so SQLite and PostgreSQL compare them the same way.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class VideoStatus(enum.StrEnum):
    PENDING = "pending"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


IN_FLIGHT = (VideoStatus.PENDING.value, VideoStatus.GENERATING.value)


class Role(enum.StrEnum):
    OWNER = "owner"
    MEMBER = "member"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    # Part of the id in every session and remember cookie: raising it ends them all at once
    # (logout, a password change, removal from a workspace).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        """Flask-Login's alternative id: a cookie issued before the version changed loads no one."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def display_name(self) -> str:
        return self.name or self.email


class Workspace(db.Model):
    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    plan: Mapped[str] = mapped_column(String(32), default="junior")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The storefront embed's publishable key (in every store page's HTML: not a secret, but
    # rotatable) and the store origins whose pages may read the storefront endpoint.
    storefront_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    allowed_origins: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Webhooks to a video's own webhookUrl are signed with a secret derived from this seed and
    # SECRET_KEY (generation/outbound.py): the database alone cannot sign.
    webhook_secret_seed: Mapped[str | None] = mapped_column(String(64))

    memberships: Mapped[list[Membership]] = relationship(back_populates="workspace", cascade="all, delete-orphan")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.MEMBER.value)

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship(back_populates="memberships")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough to
    # make a leaked table useless while keeping each API request one indexed lookup.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    workspace: Mapped[Workspace] = relationship()


class Product(db.Model):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("workspace_id", "external_key"),
        Index("ix_products_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    sku: Mapped[str] = mapped_column(String(120), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The "was" price of a discount (Shopify's Variant Compare At Price), shown struck through.
    compare_at_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    vendor: Mapped[str] = mapped_column(String(255), default="")
    url: Mapped[str | None] = mapped_column(String(2048))  # the product's page in the store (end card QR)
    marketplace: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    @property
    def ready_images(self) -> list[ProductImage]:
        return [image for image in self.images if image.status == ImageStatus.OK.value and image.file_path]

    @property
    def photos_waiting(self) -> str | None:
        """Why a product without a ready photo has none: "downloading", "failed" (every download
        failed), or None (no photo at all)."""
        statuses = {image.status for image in self.images}
        if ImageStatus.PENDING.value in statuses:
            return "downloading"
        return "failed" if ImageStatus.FAILED.value in statuses else None

    @property
    def price_label(self) -> str | None:
        return price_label(self.price)

    @property
    def compare_at_label(self) -> str | None:
        return compare_at_label(self.price, self.compare_at_price)

    @property
    def compare_at_unshown(self) -> bool:
        return compare_at_unshown(self.price, self.compare_at_price)


def price_label(price: Decimal | None) -> str | None:
    return f"${price:,.2f}" if price is not None else None


def compare_at_label(price: Decimal | None, compare_at_price: Decimal | None) -> str | None:
    """The "was" price, only when it is really higher than the price."""
    if compare_at_price is None or price is None or compare_at_price <= price:
        return None
    return price_label(compare_at_price)


def compare_at_unshown(price: Decimal | None, compare_at_price: Decimal | None) -> bool:
    """A compare-at price that videos do not show: not above the price, or with no price."""
    return compare_at_price is not None and compare_at_label(price, compare_at_price) is None


class ImageStatus(enum.StrEnum):
    OK = "ok"
    PENDING = "pending"
    FAILED = "failed"


class ProductImage(db.Model):
    __tablename__ = "product_images"
    __table_args__ = (Index("ix_product_images_product_position", "product_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    source_url: Mapped[str | None] = mapped_column(String(2048))
    file_path: Mapped[str | None] = mapped_column(String(512))  # relative to MEDIA_DIR
    status: Mapped[str] = mapped_column(String(16), default=ImageStatus.OK.value, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # A copy uploaded to a provider's temporary storage (Kie.ai keeps files 3 days).
    provider_file_url: Mapped[str | None] = mapped_column(String(2048))
    provider_file_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A pending download is leased to one process at a time (catalog.images.download_pending).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")


class Template(db.Model):
    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(32), default="local")
    position: Mapped[int] = mapped_column(Integer, default=0)
    preview_video_path: Mapped[str | None] = mapped_column(String(512))  # relative to MEDIA_DIR
    preview_thumbnail_path: Mapped[str | None] = mapped_column(String(512))
    # the local renderer's previews in each aspect ratio: {"9:16": {"preview": key, "poster": key}, ...}
    preview_files: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preview_url: Mapped[str | None] = mapped_column(String(2048))  # a remote provider's sample
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Its missing clips are rendered by one process at a time (generation.previews).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)


class Video(db.Model):
    """One generation job (the seed's AIVideo)."""

    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_workspace_created", "workspace_id", "created_at"),
        # A workspace's queue in its order (queue.WORKSPACE_QUEUE_ORDER): its next singles, and its
        # next bulk videos, are each one seek however long the queue is; and counts by status.
        Index("ix_videos_workspace_queue", "workspace_id", "status", "bulk_id", "created_at", "id"),
        # When a workspace last had a video started: the queue's round-robin turn, one seek.
        Index("ix_videos_workspace_started", "workspace_id", "started_at"),
        Index("ix_videos_product_created", "product_id", "created_at"),
        Index("ix_videos_status_next_poll", "status", "next_poll_at"),
        # "Is any video of this bulk still in flight?" after each of its videos ends: one seek.
        Index("ix_videos_bulk_status", "bulk_id", "status"),
        UniqueConstraint("workspace_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    bulk_id: Mapped[int | None] = mapped_column(ForeignKey("bulks.id", ondelete="SET NULL"), index=True)
    template_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    custom_instructions: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # What the voiceover says (and remote providers are told), line by line: fixed at creation.
    script: Mapped[list[str]] = mapped_column(JSON, default=list)
    # seeds/002's POST /api/videos makes a video that waits, charged, until /generate is called.
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    webhook_url: Mapped[str | None] = mapped_column(String(2048))  # also told when the video ends
    # A seeds/002 client's own "metadata" keys (POST and PUT /api/videos), shown beside ours.
    client_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    status: Mapped[str] = mapped_column(String(16), default=VideoStatus.PENDING.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str | None] = mapped_column(Text)

    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))  # the provider's model, where it has several
    external_job_id: Mapped[str | None] = mapped_column(String(255), index=True)
    submit_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    next_poll_at: Mapped[datetime | None] = mapped_column(DateTime)
    poll_interval_s: Mapped[float] = mapped_column(default=2.0)

    quota_period: Mapped[str] = mapped_column(String(7))
    quota_refunded: Mapped[bool] = mapped_column(Boolean, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))

    video_path: Mapped[str | None] = mapped_column(String(512))  # relative to MEDIA_DIR
    thumbnail_path: Mapped[str | None] = mapped_column(String(512))
    captions_path: Mapped[str | None] = mapped_column(String(512))  # WebVTT of what is said and shown
    remote_video_url: Mapped[str | None] = mapped_column(String(2048))
    remote_thumbnail_url: Mapped[str | None] = mapped_column(String(2048))
    duration_s: Mapped[float | None] = mapped_column()
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    generation_time_ms: Mapped[int | None] = mapped_column(Integer)

    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)  # the seed's generatedDate
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(DateTime)

    product: Mapped[Product] = relationship()
    template: Mapped[Template | None] = relationship(
        primaryjoin="foreign(Video.template_key) == Template.key", viewonly=True
    )
    user: Mapped[User | None] = relationship()
    events: Mapped[list[VideoEvent]] = relationship(
        back_populates="video", order_by="VideoEvent.id", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT

    @property
    def resolution(self) -> str | None:
        return f"{self.width}x{self.height}" if self.width and self.height else None


class Bulk(db.Model):
    """One bulk request: what it asked for and what came of each product. Its videos point at
    it: the queue serves a workspace's single videos before its bulk ones, a retried request
    (same Idempotency-Key) gets the same answer, and ``finished_at`` marks when its last video
    ended."""

    __tablename__ = "bulks"
    __table_args__ = (UniqueConstraint("workspace_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    template_key: Mapped[str] = mapped_column(String(64))
    queued: Mapped[int] = mapped_column(Integer, default=0)
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


class BrandKit(db.Model):
    """A workspace's brand, worn by every video it makes: colours, font, logo, call to action."""

    __tablename__ = "brand_kits"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    primary_color: Mapped[str] = mapped_column(String(7), default="#1E2A44")
    accent_color: Mapped[str] = mapped_column(String(7), default="#F2B33D")
    font: Mapped[str] = mapped_column(String(32), default="manrope")
    logo_path: Mapped[str | None] = mapped_column(String(512))  # a storage key
    cta_text: Mapped[str] = mapped_column(String(40), default="Shop now")
    cta_url: Mapped[str | None] = mapped_column(String(2048))
    watermark: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class VideoEvent(db.Model):
    """Append-only timeline of a video: status changes, provider messages, webhooks."""

    __tablename__ = "video_events"
    __table_args__ = (Index("ix_video_events_video_id", "video_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # status | provider | webhook | progress
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")

    video: Mapped[Video] = relationship(back_populates="events")


class UsagePeriod(db.Model):
    __tablename__ = "usage_periods"
    __table_args__ = (UniqueConstraint("workspace_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM'
    used: Mapped[int] = mapped_column(Integer, default=0)
    # How many the last reservation granted: set in the same UPDATE as ``used``, so a
    # partial (bulk) reservation learns its grant in one statement.
    last_grant: Mapped[int] = mapped_column(Integer, default=0)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(255), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class WorkerHeartbeat(db.Model):
    """Each scheduler process writes its beat here; /readyz reads the newest."""

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ShareLink(db.Model):
    """A public page of one completed video at an unguessable address, until revoked or expired."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    video_id: Mapped[int] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    video: Mapped[Video] = relationship()


class WebhookEndpoint(db.Model):
    """A workspace's URL that is sent the events it subscribed to, signed per Standard Webhooks."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The signing secret is derived from this seed and SECRET_KEY (generation/outbound.py).
    secret_seed: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set at the first failed attempt after a success; three days of failures disable the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class OutboundDelivery(db.Model):
    """One event for one destination (an endpoint, or a video's webhookUrl): written in the same
    transaction as the change it reports (an outbox), sent by the worker until it succeeds or
    its retries run out. ``body`` is the exact JSON signed on every attempt."""

    __tablename__ = "outbound_deliveries"
    __table_args__ = (
        Index("ix_outbound_deliveries_due", "status", "next_attempt_at"),
        Index("ix_outbound_deliveries_workspace_created", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    endpoint_id: Mapped[int | None] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # webhook-id: the same on every attempt
    event_type: Mapped[str] = mapped_column(String(32))
    video_id: Mapped[int | None] = mapped_column(ForeignKey("videos.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # in the current round (a resend starts a new one)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    endpoint: Mapped[WebhookEndpoint | None] = relationship()
    attempt_log: Mapped[list[OutboundAttempt]] = relationship(
        order_by="OutboundAttempt.id", cascade="all, delete-orphan", passive_deletes=True
    )


class OutboundAttempt(db.Model):
    """One try of a delivery: what the destination answered, and how fast."""

    __tablename__ = "outbound_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("outbound_deliveries.id", ondelete="CASCADE"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    response_excerpt: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)


class ProviderHealth(db.Model):
    """A circuit breaker per provider, in the database so every process shares it."""

    __tablename__ = "provider_health"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="closed")  # closed | open | half_open
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
