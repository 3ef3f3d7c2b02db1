"""The protocol every video provider implements, and the values that cross it.

Providers know nothing of Flask or the database: they get plain settings when built and
plain requests when called, so they run in worker threads and in any process.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable


class ProviderState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        return self in (ProviderState.SUCCEEDED, ProviderState.FAILED, ProviderState.CANCELED)


@dataclass(frozen=True)
class ProviderResult:
    """What a finished job made. A local provider fills the ``*_file`` fields (paths relative
    to MEDIA_DIR); a remote one the URLs, which are mirrored before the video completes."""

    video_file: str | None = None
    thumbnail_file: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True)
class ProviderStatus:
    state: ProviderState
    progress: int | None = None  # 0–100 where the provider reports it
    message: str = ""  # a stage name where it has no progress
    result: ProviderResult | None = None
    error: str | None = None


@dataclass(frozen=True)
class TemplateInfo:
    key: str
    name: str
    description: str = ""
    preview_url: str | None = None  # e.g. a YouTube sample of a remote provider


@dataclass(frozen=True)
class Caption:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a provider needs to make one video."""

    video_id: int
    reference: str  # stable per video and attempt: lets a provider recognise a repeated submit
    template: str
    title: str
    sku: str
    description: str
    price: str | None
    image_files: tuple[Path, ...]  # absolute paths of the product's images
    image_urls: tuple[str, ...]  # the same images as URLs a remote provider can fetch
    custom_instructions: str = ""
    aspect_ratio: str = "16:9"
    duration: int = 8
    captions: tuple[Caption, ...] = ()
    music: bool = False
    callback_url: str | None = None
    workspace_id: int = 0
    user_id: int | None = None
    product_id: int = 0


@dataclass(frozen=True)
class StagedFile:
    """An input file copied to a provider's temporary storage (Kie.ai deletes uploads after 3
    days). A provider that needs this has ``stage_images(files, known) -> list[StagedFile]``;
    the generation layer passes the copies it recorded and stores what comes back."""

    url: str
    expires_at: datetime  # naive UTC, like every time in the database


@dataclass(frozen=True)
class WebhookReport:
    """A callback, parsed: which job (our video id or the provider's job id) and its status."""

    status: ProviderStatus
    video_id: int | None = None
    external_id: str | None = None


class ProviderError(Exception):
    """A call to the provider failed. ``retryable``: worth trying again later (5xx, timeouts,
    429); otherwise the provider refused the request and the video fails with ``str(self)``."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class JobNotFound(ProviderError):
    """The provider does not know the job (a local render whose worker died, an expired task)."""


class ProviderNotConfigured(ProviderError):
    pass


# Reports pushed by a provider between polls (the local renderer's progress and completion).
Reporter = Callable[[str, ProviderStatus], None]


@runtime_checkable
class Provider(Protocol):
    name: str
    # Seconds between status polls of one job: starts at the first, backs off to the second.
    poll_interval: tuple[float, float]

    def templates(self) -> list[TemplateInfo]: ...

    def submit(self, request: GenerationRequest) -> str:
        """Starts the job; returns the provider's id for it."""

    def status(self, external_id: str) -> ProviderStatus: ...

    def cancel(self, external_id: str) -> None: ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookReport: ...

    def find_submitted(self, request: GenerationRequest) -> str | None:
        """The id of a job already submitted for ``request.reference``, if the provider can tell.

        Called before re-sending a submit whose answer was lost, so it is never sent twice."""

    def capacity(self) -> int:
        """How many more jobs this process may hand the provider now."""
