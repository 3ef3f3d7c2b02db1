"""seeds/002's request bodies and answers, as pydantic models (``racky`` serves them, ``openapi``
describes them).

Bodies are the input contract's ``VideoRequest`` with the seed's field names (``productId``,
``templateId``, ``productIds``), turned into ``CreateVideo`` or ``BulkCreate`` before any domain
function sees them. Ids are strings of digits, as the seed's ObjectIds are strings; numbers are
accepted too. Answers are ``{success, message, data}`` with the seed's VideoResponse.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from ..generation.contract import (
    NO_NUL,
    BulkCreate,
    Contract,
    CreateVideo,
    Text,
    VideoRequest,
)
from ..limits import MAX_BULK, MAX_INSTRUCTIONS
from ..numbers import MAX_ID, parse_id
from .schemas import ListVideos, Out, Pagination, Timestamp, Url

SEED_STATUSES = ("pending", "generating", "completed", "failed")
SeedStatus = Literal["pending", "generating", "completed", "failed"]
# The metadata keys the generation fills in (seeds/002's AIVideo.metadata): a client cannot set them.
OUR_METADATA = (
    "title", "duration", "format", "resolution", "fileSize", "videoUrl", "thumbnailUrl", "captionsUrl",
    "generationTime", "aiModel", "externalJobId", "completedAt", "failedAt",
)
MAX_METADATA_KEYS = 20
MAX_METADATA_KEY = 40
MAX_METADATA_TEXT = 500


def _required(value: Any) -> Any:
    """The seed refuses a missing, null or empty product id alike ("Product ID is required")."""
    if value is None or value == "":
        raise PydanticCustomError("missing", "Field required")
    return value


def _as_id(value: int | str) -> int:
    found = parse_id(value)
    if found is None:
        raise ValueError(f"an id is a whole number from 1 to {MAX_ID}")
    return found


SeedId = Annotated[
    Annotated[int, Field(ge=1, le=MAX_ID)] | Annotated[str, StringConstraints(pattern=r"^[0-9]{1,10}$")],
    BeforeValidator(_required), AfterValidator(_as_id),
    Field(description=f"An id as this API answers it: a string of digits (or a number), 1 to {MAX_ID}."),
]


def _not_ours(metadata: dict[str, Any]) -> dict[str, Any]:
    ours = [key for key in metadata if key in OUR_METADATA]
    if ours:
        raise ValueError(f"{ours[0]} is filled in by the generation and cannot be set")
    return metadata


MetadataValue = (bool | int | Annotated[float, Field(allow_inf_nan=False)]
                 | Annotated[str, StringConstraints(max_length=MAX_METADATA_TEXT, pattern=NO_NUL)] | None)
ClientMetadata = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=MAX_METADATA_KEY, pattern=NO_NUL)], MetadataValue],
    Field(max_length=MAX_METADATA_KEYS, json_schema_extra={"propertyNames": {
        "minLength": 1, "maxLength": MAX_METADATA_KEY, "pattern": NO_NUL, "not": {"enum": list(OUR_METADATA)}}},
        description=f"The client's own keys (at most {MAX_METADATA_KEYS}; text, numbers, true/false or null), kept "
                    "with the video and answered in its metadata beside the generation's own keys, which cannot be "
                    "set."),
    AfterValidator(_not_ours),
]
TemplateId = Annotated[Text, Field(min_length=1, max_length=64, alias="templateId",
                                   description="The template's id, as GET /api/videos/templates lists it.")]
TemplateName = Annotated[Text | None, Field(default=None, max_length=120,
                                            description="The template's name, as the seed's client sends it beside "
                                                        "its id; the template is the one templateId names.")]


# ------------------------------------------------------------------ bodies ----


class CreateBody(VideoRequest):
    """POST /api/videos: a video that waits, charged, for POST /api/videos/{id}/generate."""

    product_id: SeedId
    metadata: ClientMetadata | None = None

    def contract(self) -> CreateVideo:
        return CreateVideo.model_validate(self.model_dump(exclude={"metadata"}))


class GenerateForProductBody(VideoRequest):
    """POST /api/videos/generate-for-product: one product's video, queued at once."""

    template: TemplateId
    template_name: TemplateName
    product_id: SeedId

    def contract(self) -> CreateVideo:
        return CreateVideo.model_validate(self.model_dump(exclude={"template_name"}))


class BulkGenerateBody(VideoRequest):
    """POST /api/videos/bulk-generate: a video for each product, queued at once."""

    template: TemplateId
    template_name: TemplateName
    product_ids: list[SeedId] = Field(min_length=1, max_length=MAX_BULK)
    skip_existing: bool = Field(default=False, description="Skip products that already have a completed video with "
                                                           "this template (the seed generates for every product).")

    def contract(self) -> BulkCreate:
        return BulkCreate.model_validate(self.model_dump(exclude={"template_name"}))


class UpdateBody(Contract):
    """PUT /api/videos/{id}: the template and custom instructions of a video still waiting for
    its generate call; the client's metadata of any video. Its status and error are the
    generation's to set."""

    template: Text | None = Field(default=None, min_length=1, max_length=64)
    custom_instructions: Text | None = Field(default=None, max_length=MAX_INSTRUCTIONS)
    metadata: ClientMetadata | None = None


class ListQuery(ListVideos):
    status: SeedStatus | None = Field(default=None, description="pending: waiting for its generate call; generating: "
                                                                "asked to generate, queued or in progress.")


# ----------------------------------------------------------------- answers ----


class SeedProduct(Out):
    id: str
    title: str
    sku: str
    external_key: str = Field(description="The storefront's key (a Shopify handle, a SKU…).")


class SeedMetadata(Out):
    """The seed's AIVideo.metadata: the generation's keys, and the client's own beside them."""

    model_config = ConfigDict(extra="allow")

    title: str
    duration: float | None = Field(description="Seconds.")
    format: str | None
    resolution: str | None = Field(examples=["1280x720"])
    file_size: int | None = Field(description="Bytes.")
    video_url: Url | None
    thumbnail_url: Url | None
    captions_url: Url | None
    generation_time: int | None = Field(description="Milliseconds from start to finish.")
    ai_model: str = Field(description="Which provider (and model) made it.")
    external_job_id: str | None
    completed_at: Timestamp | None
    failed_at: Timestamp | None


class SeedVideo(Out):
    """The seed's VideoResponse."""

    mongo_id: str = Field(alias="_id", description="The same as id (the seed's documents have an _id).")
    id: str
    user_id: str | None
    workspace_id: str
    product_id: str
    product: SeedProduct
    template: str
    template_name: str
    custom_instructions: str
    status: SeedStatus
    progress: int = Field(ge=0, le=100)
    stage: str = Field(description="What the generation is doing now, for a person.")
    generated_date: Timestamp | None = Field(description="When generation started.")
    metadata: SeedMetadata
    error: str | None
    provider: str
    model: str | None
    created_at: Timestamp
    updated_at: Timestamp


class SeedTemplate(Out):
    id: str = Field(description="Send it as templateId (or template).")
    name: str
    description: str
    provider: str = Field(description="Whose template it is: 'local' for the six seed templates.")
    providers: list[str] = Field(description="The providers here that make it (a video's provider).")
    preview_url: Url | None = Field(description="A sample clip, or a provider's sample (YouTube).")
    thumbnail_url: Url | None


class SeedBulkOutcome(Out):
    product_id: str
    result: Literal["queued", "skipped_existing", "over_quota", "invalid"]
    video_id: str | None
    product_title: str | None
    reason: str | None


class SeedBulkSummary(Out):
    queued: int = Field(ge=0)
    skipped_existing: int = Field(ge=0)
    over_quota: int = Field(ge=0)
    invalid: int = Field(ge=0)


class SeedBulkResult(Out):
    results: list[SeedBulkOutcome]
    summary: SeedBulkSummary


class SeedVideoPage(Out):
    videos: list[SeedVideo]
    pagination: Pagination


T = TypeVar("T")


class SeedAnswer(Out, Generic[T]):
    success: Literal[True]
    message: str | None
    data: T


class SeedDone(Out):
    success: Literal[True]
    message: str


class SeedTemplates(Out):
    """The RCK shape the seed's template modal reads."""

    success: Literal[True]
    message: str
    templates: list[SeedTemplate]
    error: str | None = Field(description="Why a provider's own catalog (RCK) is missing from the list, if it is.")


class SeedError(Out):
    success: Literal[False]
    message: str = Field(description="For a person; the seed's words where the seed has them.")
    error: str = Field(description="Stable, machine-readable: invalid, invalid_parameter, unauthorized, not_found, "
                                   "quota_exceeded, …")
    field: str | None = Field(description="The input at fault, when there is one.")
