"""The protocol every video provider implements, and the values that cross it.

Providers know nothing of Flask or the database: they get plain settings when built and
plain requests when called, so they run in worker threads and in any process.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..limits import ASPECT_RATIOS
from ..render.spec import (
    Caption,  # the one caption type: what the merchant wrote, timed or not
)


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
    """What a finished job made. A local provider fills the ``*_file`` fields (storage keys,
    ``webapp.storage``); a remote one the URLs, which are mirrored before the video completes."""

    video_file: str | None = None
    thumbnail_file: str | None = None
    video_url: str | None = None
    thumbnail_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None
    captions_file: str | None = None  # the WebVTT of the spoken words or captions


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
class BrandKit:
    """A workspace's brand, as a provider gets it: colours "#RRGGBB", a bundled font's key, the
    logo's storage key, the call to action and its URL, and whether to watermark the video."""

    primary: str
    accent: str
    font: str
    logo_key: str | None
    cta_text: str
    cta_url: str | None
    watermark: bool


def shop_link(product_url: str | None, brand: BrandKit | None) -> str | None:
    """Where a viewer of the video goes to buy it: the product's page, else the brand's call
    to action (the end card's QR code, the share page's button)."""
    return product_url or (brand.cta_url if brand else None)


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
    image_files: tuple[str, ...]  # storage keys of the product's images (``webapp.storage``)
    image_urls: tuple[str, ...]  # the same images as URLs a remote provider can fetch
    custom_instructions: str = ""
    aspect_ratio: str = "16:9"
    resolution: str | None = None  # "720p" | "1080p" (one of capabilities.resolutions); None: its standard size
    duration: int | None = None  # seconds; None: as long as the voiceover, or the provider's default
    captions: tuple[Caption, ...] = ()
    music: bool = False
    script: tuple[str, ...] = ()  # the lines the video says (the voiceover, or the prompt's words)
    voiceover: bool = False
    model: str | None = None  # the provider's model, where it offers several
    compare_at_price: str | None = None  # the "was" price of a discount
    product_url: str | None = None  # where the product is sold (the end card's QR code)
    brand: BrandKit | None = None
    callback_url: str | None = None
    workspace_id: int = 0
    user_id: int | None = None
    product_id: int = 0

    @property
    def shop_link(self) -> str | None:
        return shop_link(self.product_url, self.brand)


@dataclass(frozen=True)
class StagedFile:
    """An input file copied to a provider's temporary storage (Kie.ai deletes uploads after 3
    days). A provider with ``capabilities.staged_images`` copies them in ``stage_images``; the
    generation layer passes the copies it recorded and stores what comes back."""

    url: str
    expires_at: datetime  # naive UTC, like every time in the database


@dataclass(frozen=True)
class WebhookReport:
    """A callback, parsed: which job (our video id or the provider's job id) and its status —
    or no status, when the provider signs nothing but the job id (Kie.ai): then the callback
    only says "ask me now", and the status is fetched from the provider."""

    status: ProviderStatus | None
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


@dataclass(frozen=True)
class Capabilities:
    """What a provider does beyond the minimum. Callers look here, never at a provider's name."""

    own_templates: bool = False  # templates() asks the provider for its own catalog (RCK)
    callbacks: bool = False  # it reports back to /webhooks/<name> (verify_webhook, parse_webhook)
    staged_images: bool = False  # product images are copied to its storage first (stage_images)
    cancel: bool = False  # cancel() stops the job there (otherwise it runs on, unpolled)
    voiceover: bool = False  # it can speak the script (GenerationRequest.voiceover)
    resolutions: tuple[str, ...] = ()  # the resolutions a video may ask of it; (): its own size, not chosen
    # Jobs run inside the process that submitted them (the local renderer): the video stays
    # leased to that process while it runs; a job the process lost is restarted elsewhere;
    # jobs whose video was canceled by another process are stopped (active_jobs).
    in_process: bool = False


@dataclass(frozen=True)
class ModelInfo:
    """A generation model a provider offers (Kie.ai's image-to-video models), with the input it
    takes: a request for a length or a shape it does not make is refused before it is charged."""

    key: str
    name: str
    description: str = ""
    durations: tuple[int, ...] = ()  # the lengths it makes, in seconds, its default first; (): any
    # The shapes it makes. (): the shape of its first image, whatever the request says.
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    images: int = 1  # how many of the product's photos it is given (the first ones)
    sound: str = "optional"  # "optional": when music is asked for; "always": every video has sound

    @property
    def default_duration(self) -> int | None:
        return self.durations[0] if self.durations else None

    def rules(self) -> str:
        """What it makes, in a few words, for the form and the API description."""
        length = " or ".join(map(str, self.durations)) + " s" if self.durations else "any length"
        shape = " or ".join(self.aspect_ratios) if self.aspect_ratios else "the photo's shape"
        photos = f"{self.images} photo{'' if self.images == 1 else 's'}"
        sound = "always with sound" if self.sound == "always" else "sound on request"
        return f"{length}, {shape}, {photos}, {sound}"


@runtime_checkable
class Provider(Protocol):
    name: str
    label: str  # how messages name the provider
    capabilities: Capabilities
    configured: bool  # its settings are filled in: it is offered to videos
    # Seconds between status polls of one job: starts at the first, backs off to the second.
    poll_interval: tuple[float, float]

    def templates(self) -> list[TemplateInfo]: ...

    def models(self) -> list[ModelInfo]:
        """The models a video may ask for; empty when the provider has one way to make videos."""

    def submit(self, request: GenerationRequest) -> str:
        """Starts the job; returns the provider's id for it."""

    def status(self, external_id: str) -> ProviderStatus: ...

    def cancel(self, external_id: str) -> None: ...

    def find_submitted(self, request: GenerationRequest) -> str | None:
        """The id of a job already submitted for ``request.reference``, if the provider can tell.

        Called before re-sending a submit whose answer was lost, so it is never sent twice."""

    def capacity(self) -> int:
        """How many more jobs this process may hand the provider now."""

    def stage_images(self, files: Sequence[str], known: Sequence[StagedFile | None]) -> list[StagedFile]:
        """Copies the images to the provider's storage, reusing ``known`` copies that last
        (``capabilities.staged_images``)."""

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: float) -> str:
        """Checks a callback's signature the way this provider signs; returns a delivery id that
        names this delivery (for de-duplication). Raises BadSignature."""

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, outcome: str | None = None) -> WebhookReport:
        """A verified callback's report. ``outcome`` is set by a route that says it (RCK's
        legacy /internal/videos/success|failure)."""

    def active_jobs(self) -> list[str]:
        """Jobs running in this process (``capabilities.in_process``)."""

    def shutdown(self) -> None:
        """Stops this process's jobs and background threads."""


class BadSignature(ProviderError):
    """A callback that is not signed by the provider, or not now: refused before it is read."""


class BaseProvider:
    """What a provider that lacks a capability answers: the protocol's defaults."""

    name = ""
    label = ""
    capabilities = Capabilities()
    configured = True

    def models(self) -> list[ModelInfo]:
        return []

    def cancel(self, external_id: str) -> None:
        """No cancel call: the job runs on at the provider; its later reports are ignored."""

    def find_submitted(self, request: GenerationRequest) -> str | None:
        return None

    def stage_images(self, files: Sequence[str], known: Sequence[StagedFile | None]) -> list[StagedFile]:
        raise ProviderError(f"{self.label} takes images by URL; nothing is staged.")

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: float) -> str:
        raise ProviderError(f"{self.label} does not send callbacks; its videos are polled.")

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, outcome: str | None = None) -> WebhookReport:
        raise ProviderError(f"{self.label} does not send callbacks; its videos are polled.")

    def active_jobs(self) -> list[str]:
        return []

    def shutdown(self) -> None:
        pass
