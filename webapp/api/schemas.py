"""What the JSON API answers, and the query parameters it reads, as pydantic models.

Resources are built as these models (``resources``), the OpenAPI description is generated from
them (``openapi``), and query strings are validated by them (``validation``): the description
and the behaviour cannot drift apart. Request bodies are the domain's input contract
(``generation.contract``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from ..generation.contract import NO_NUL, AspectRatio, TimedCaption
from ..models import ImageStatus, VideoStatus
from ..numbers import MAX_ID

MAX_PAGE = 100_000
PER_PAGE_MAX = 100
LEGACY_PER_PAGE_MAX = 1000
VideoStatusName = Literal[tuple(status.value for status in VideoStatus)]  # type: ignore[valid-type]
ImageStatusName = Literal[tuple(status.value for status in ImageStatus)]  # type: ignore[valid-type]
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"}, description="ISO-8601, UTC (ends in Z).")]
Url = Annotated[str, Field(json_schema_extra={"format": "uri"})]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Out(BaseModel):
    """A resource as JSON: camelCase, every field always present (null when empty)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True,
                              json_schema_serialization_defaults_required=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


# ------------------------------------------------------------------ errors ----


class Problem(BaseModel):
    field: str | None = Field(default=None, description="The input at fault (absent: the body as a whole).")
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable: invalid, invalid_parameter, unauthorized, not_found, "
                                  "method_not_allowed, invalid_state, idempotency_conflict, quota_exceeded, "
                                  "payload_too_large, unsupported_media_type, internal_error.")
    message: str = Field(description="For a person; names the field at fault.")
    field: str | None = Field(default=None, description="The input at fault, when there is one (e.g. options.duration).")
    problems: list[Problem] | None = Field(
        default=None, description="Every input at fault, the first being `field`, when a body has more than one.")


class Error(BaseModel):
    error: ErrorDetail


# --------------------------------------------------------------- resources ----


class Pagination(Out):
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    limit: int = Field(ge=1)
    total_pages: int = Field(ge=1)
    has_next: bool
    has_prev: bool


class ProductImage(Out):
    id: Id
    url: Url | None = Field(description="Served by Reelboard (same bearer token); null until downloaded.")
    source_url: Url | None = Field(description="Where the image was imported from; null when uploaded.")
    position: int = Field(ge=0)
    status: ImageStatusName
    error: str | None = Field(description="Why the download failed.")
    width: int | None
    height: int | None


Price = Annotated[str, StringConstraints(pattern=r"^[0-9]+\.[0-9]{2}$")]


class Product(Out):
    id: Id
    external_key: str = Field(description="The storefront's key (a Shopify handle, a SKU…).")
    title: str
    sku: str
    description: str = Field(description="Plain text.")
    price: Price | None = Field(description="A decimal, as a string.")
    compare_at_price: Price | None = Field(description="The price before a discount, when there is one.")
    vendor: str
    url: str | None = Field(description="The product's page in the store: the end card's QR code and the share "
                                        "page's button lead there.")
    marketplace: str
    images: list[ProductImage]
    video_templates: list[str] = Field(description="Templates this product has a completed video with.")
    created_at: Timestamp
    updated_at: Timestamp


class Template(Out):
    key: str
    name: str
    description: str
    provider: str = Field(description="'local' for the six seed templates; a provider's name for its own templates.")
    providers: list[str] = Field(description="The providers here that make it (a video's `provider`).")
    preview_video_url: Url | None
    preview_thumbnail_url: Url | None


class Usage(Out):
    used: int = Field(ge=0)
    limit: int = Field(ge=0)
    remaining: int = Field(ge=0)
    percentage: int = Field(ge=0, le=100)


class VideoOptions(Out):
    aspect_ratio: AspectRatio
    duration: int | None = Field(description="Seconds chosen; null: as long as the voiceover.")
    music: bool
    voiceover: bool
    captions: list[TimedCaption | str]


class Video(Out):
    id: Id
    product_id: Id
    title: str
    template: str
    status: VideoStatusName
    progress: int = Field(ge=0, le=100)
    stage: str = Field(description="What the generation is doing now, for a person.")
    queue_position: int | None = Field(ge=1, description="1 = next to start in this workspace; null unless queued.")
    error: str | None
    custom_instructions: str
    options: VideoOptions
    script: list[str] = Field(description="What the video says, line by line.")
    provider: str
    model: str | None
    video_url: Url | None = Field(description="Served by Reelboard (same bearer token) once completed.")
    thumbnail_url: Url | None
    captions_url: Url | None = Field(description="WebVTT of what is said and shown, once completed.")
    duration: float | None = Field(description="Seconds.")
    resolution: str | None = Field(examples=["1280x720"])
    created_at: Timestamp
    updated_at: Timestamp
    generated_at: Timestamp | None = Field(description="When generation started (the seed's generatedDate).")
    completed_at: Timestamp | None


class BulkOutcome(Out):
    product_id: Id
    result: Literal["queued", "skipped_existing", "over_quota", "invalid"]
    video_id: Id | None
    product_title: str | None
    reason: str | None


class BulkSummary(Out):
    queued: int = Field(ge=0)
    skipped_existing: int = Field(ge=0)
    over_quota: int = Field(ge=0)
    invalid: int = Field(ge=0)


class GenerationRecord(Out):
    """A record of seeds/000's /api/video-generations/all (string ids, as that API has)."""

    id: str
    clothing_key: str = Field(description="The product's external key.")
    product_id: str
    status: VideoStatusName
    template: str
    video_url: Url | None
    thumbnail_url: Url | None
    created_at: Timestamp
    updated_at: Timestamp


# -------------------------------------------------------------- envelopes ----

T = TypeVar("T")


class Data(Out, Generic[T]):
    data: T


class ProductPage(Out):
    products: list[Product]
    pagination: Pagination


class VideoPage(Out):
    videos: list[Video]
    pagination: Pagination


class TemplateList(Out):
    templates: list[Template]


class BulkResult(Out):
    results: list[BulkOutcome]
    summary: BulkSummary


class GenerationPage(Out):
    records: list[GenerationRecord]
    pagination: Pagination


class GenerationsAnswer(Out):
    status: Literal["success"]
    data: GenerationPage


class OpenApiDocument(RootModel[dict[str, Any]]):
    """This description."""


# ---------------------------------------------------------- query strings ----

_WHOLE = re.compile(r"^-?[0-9]{1,30}$")


def _whole_number(value: Any) -> Any:
    """ASCII digits only (``int()`` would take "٣"); the bounds are checked after."""
    if isinstance(value, str):
        if not _WHOLE.match(value.strip()):
            raise PydanticCustomError("int_parsing", "not a whole number")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
SearchText = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]


class Query(BaseModel):
    """Query parameters: unknown ones are ignored, as browsers and proxies add their own."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class PageQuery(Query):
    page: WholeNumber = Field(default=1, ge=1, le=MAX_PAGE, description="Page number; a page past the end is empty.")
    limit: WholeNumber = Field(default=20, ge=1, le=PER_PAGE_MAX, description="Items per page.")


class ListProducts(PageQuery):
    search: SearchText | None = Field(default=None, description="Words in the title, SKU or key.")


class PreviewShape(Query):
    aspect: AspectRatio | None = Field(default=None, description="The preview in this aspect ratio (16:9 when left "
                                                                  "out, or when the template has none in it).")


class ListVideos(PageQuery):
    status: VideoStatusName | None = Field(default=None, description="Only videos in this status.")
    product_id: Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_whole_number)] | None = Field(
        default=None, description="Only videos of this product.")
    search: SearchText | None = Field(default=None, description="Words in the video's title or its product's title or SKU.")
    sort_by: Literal["createdAt", "generatedDate"] = Field(
        default="createdAt", description="createdAt, or generatedDate (when generation started; not started yet sorts last).")
    sort_order: Literal["asc", "desc"] = Field(default="desc", description="Sort direction.")


class ListGenerations(Query):
    page: WholeNumber = Field(default=1, ge=1, le=MAX_PAGE, description="Page number.")
    limit: WholeNumber = Field(default=50, ge=1, le=LEGACY_PER_PAGE_MAX, description="Records per page.")
    status: Literal[(*(s.value for s in VideoStatus), "processing")] | None = Field(  # type: ignore[valid-type]
        default=None, description="Only this status; processing = pending or generating.")
    order_by: Literal["createdAt", "created_at", "updatedAt", "updated_at"] = Field(
        default="created_at", description="Sort field.")
    order_direction: Annotated[str, StringConstraints(pattern="^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$")] = Field(
        default="DESC", description="ASC or DESC (any case).")


class IdempotencyKey(Query):
    """The ``Idempotency-Key`` header."""

    idempotency_key: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=NO_NUL)] | None = Field(
        default=None, alias="Idempotency-Key",
        description="Send the same key again (after a dropped connection) to get the first answer instead of a second "
                    "video.")
