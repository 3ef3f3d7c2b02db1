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
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

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
    vendor: Mapped[str] = mapped_column(String(255), default="")
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
    def price_label(self) -> str | None:
        return f"${self.price:,.2f}" if self.price is not None else None


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
    preview_url: Mapped[str | None] = mapped_column(String(2048))  # a remote provider's sample
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Video(db.Model):
    """One generation job (the seed's AIVideo)."""

    __tablename__ = "videos"
    __table_args__ = (
        Index("ix_videos_workspace_created", "workspace_id", "created_at"),
        Index("ix_videos_workspace_status", "workspace_id", "status"),
        Index("ix_videos_product_created", "product_id", "created_at"),
        Index("ix_videos_status_next_poll", "status", "next_poll_at"),
        UniqueConstraint("workspace_id", "idempotency_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    template_key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    custom_instructions: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    status: Mapped[str] = mapped_column(String(16), default=VideoStatus.PENDING.value)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str] = mapped_column(String(255), default="")
    error: Mapped[str | None] = mapped_column(Text)

    provider: Mapped[str] = mapped_column(String(32))
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
