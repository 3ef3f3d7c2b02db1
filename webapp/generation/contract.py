"""The input contract: what a request to make videos may say, declared once.

The JSON API, the HTML forms and the command line all validate through these models; the
OpenAPI description is generated from them; the renderer checks its input against the same
numbers (``webapp.limits``). Field names are snake_case in Python and in stored options, and
camelCase in JSON (``aspectRatio``, ``customInstructions``); both spellings are accepted, and
seeds/004's timed subtitles (``startTime``, ``endTime``) are accepted as captions.

A refused input raises ``GenerationError`` with a sentence for a person and the dotted path of
the field at fault (``options.duration``, ``options.captions[2]``), the same for every way in.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ..addresses import with_scheme
from ..limits import (
    MAX_BULK,
    MAX_CAPTION_CHARS,
    MAX_CAPTIONS,
    MAX_CTA_TEXT,
    MAX_DURATION,
    MAX_INSTRUCTIONS,
    MAX_SCRIPT_CHARS,
    MAX_SCRIPT_LINES,
    MIN_DURATION,
)
from ..numbers import MAX_ID
from ..render.brand import FONTS
from ..render.spec import RESOLUTIONS
from .errors import GenerationError

NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL characters
COLOUR = r"^#[0-9a-fA-F]{6}$"
PATTERN_WORDS = {NO_NUL: "must not contain NUL characters", COLOUR: "must be a colour like #1E2A44"}
MAX_SCRIPT_LINE_CHARS = 200
AspectRatio = Literal["16:9", "9:16", "1:1"]
Resolution = Literal[RESOLUTIONS]  # type: ignore[valid-type]
Text = Annotated[str, StringConstraints(pattern=NO_NUL)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Contract(BaseModel):
    """camelCase in JSON, snake_case in Python; unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True,
        json_schema_serialization_defaults_required=True,
    )


class TimedCaption(Contract):
    """A caption shown from ``start`` to ``end`` seconds (seeds/004's subtitles)."""

    start: float = Field(ge=0, le=MAX_DURATION, validation_alias=AliasChoices("start", "startTime"))
    end: float = Field(gt=0, le=MAX_DURATION, validation_alias=AliasChoices("end", "endTime"))
    text: Text = Field(min_length=1, max_length=MAX_CAPTION_CHARS)

    @model_validator(mode="after")
    def _starts_before_it_ends(self) -> TimedCaption:
        if self.start >= self.end:
            raise ValueError("a caption must start before it ends")
        return self


CaptionLine = Annotated[Text, StringConstraints(min_length=1, max_length=MAX_CAPTION_CHARS)]
ScriptLine = Annotated[Text, StringConstraints(min_length=1, max_length=MAX_SCRIPT_LINE_CHARS)]
# A guard on the text as typed; the rule a person is told is _speakable_lines's, on its lines
# (a bound just above the rule answered "at most 536 characters", a number nobody can use).
ScriptText = Annotated[Text, StringConstraints(max_length=4 * MAX_SCRIPT_CHARS)]


def script_lines(text: str) -> list[tuple[int, str]]:
    """The lines a script typed in a text box has to say, each with its number there (blank
    lines are not said, and leave no gap in what counts)."""
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]


def spoken_chars(text: str) -> int:
    """The characters of a typed script that count towards its limit: its lines, trimmed."""
    return sum(len(line) for _, line in script_lines(text))


class VideoOptions(Contract):
    aspect_ratio: AspectRatio = "16:9"
    resolution: Resolution | None = Field(
        default=None,
        description="The short side of the frame: 720p (1280x720, 720x1280, 720x720) or 1080p (1920x1080, "
                    "1080x1920, 1080x1080). Empty: the provider's standard size (the local renderer's: 1280x720, "
                    "720x1280, 1080x1080).",
    )
    duration: int | None = Field(
        default=None, ge=MIN_DURATION, le=MAX_DURATION,
        description="Seconds. Empty: the video is as long as its voiceover (or the provider's default).",
    )
    music: bool = False
    voiceover: bool | None = Field(
        default=None, description="Speak the script. Empty: on where the provider makes a voiceover.",
    )
    captions: list[TimedCaption | CaptionLine] = Field(
        default_factory=list, max_length=MAX_CAPTIONS,
        description="Timed captions ({start, end, text} or seeds/004's {startTime, endTime, text}), which replace "
                    "the word-by-word captions, or lines of text spread evenly over the video.",
    )
    script: Annotated[list[ScriptLine], Field(max_length=MAX_SCRIPT_LINES)] | ScriptText | None = Field(
        default=None,
        description="What the voiceover says: a hook, benefits, a call to action, as a list of lines or as text with "
                    "one line per line. Empty: written from the custom instructions, or from the product.",
    )

    @field_validator("script")
    @classmethod
    def _speakable_lines(cls, script: list[str] | str | None) -> list[str] | None:
        """A script typed in a text box becomes its lines (blank ones dropped), held to the same
        rules as a list of lines."""
        numbered = script_lines(script) if isinstance(script, str) else list(enumerate(script or (), 1))
        lines = [line for _, line in numbered]
        if not lines:
            return None
        problems = []  # every one at once: a merchant fixes them in one go
        if len(lines) > MAX_SCRIPT_LINES:
            problems.append(f"the script has {len(lines)} lines, at most {MAX_SCRIPT_LINES}")
        long = [str(number) for number, line in numbered if len(line) > MAX_SCRIPT_LINE_CHARS]
        if long:
            problems.append(f"line {long[0]} has more than {MAX_SCRIPT_LINE_CHARS} characters: split it" if len(long) == 1
                            else f"lines {', '.join(long)} have more than {MAX_SCRIPT_LINE_CHARS} characters: split them")
        total = sum(len(line) for line in lines)
        if total > MAX_SCRIPT_CHARS:
            problems.append(f"the script has {total} characters, at most {MAX_SCRIPT_CHARS} "
                            "(about 27 seconds of speech)")
        if problems:
            raise ValueError("; ".join(problems))
        return lines

    @model_validator(mode="after")
    def _captions_inside_the_video(self) -> VideoOptions:
        end = self.duration or MAX_DURATION
        for index, caption in enumerate(self.captions):
            if isinstance(caption, TimedCaption) and caption.end > end:
                raise CaptionOutside(index, end)
        return self

    def stored(self) -> dict[str, Any]:
        """As kept in ``Video.options`` (snake_case; timed captions as {start, end, text})."""
        return self.model_dump(mode="json")


class CaptionOutside(ValueError):
    def __init__(self, index: int, end: float) -> None:
        super().__init__(f"a caption must lie within the video (0–{end:g} s)")
        self.index = index


class VideoRequest(Contract):
    """What every way of asking for videos says about them."""

    template: Text = Field(min_length=1, max_length=64)
    custom_instructions: Text | None = Field(default="", max_length=MAX_INSTRUCTIONS)
    options: VideoOptions = Field(default_factory=VideoOptions)
    provider: Text | None = Field(
        default=None, max_length=32, description="Which provider makes it (GET /api/v1/templates says which offer "
                                                 "each template). Empty: the template's, or the installation's default.",
    )
    model: Text | None = Field(
        default=None, max_length=64, description="The provider's model, where it offers several (Kie.ai). Empty: its default.",
    )

    @field_validator("custom_instructions", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value


class CreateVideo(VideoRequest):
    product_id: Id
    webhook_url: AnyHttpUrl | None = Field(
        default=None, description="Also tell this URL when the video ends (signed like the workspace's webhooks).",
    )


class BulkCreate(VideoRequest):
    product_ids: list[Id] = Field(min_length=1, max_length=MAX_BULK)
    skip_existing: bool = Field(default=True, description="Skip products that already have a completed video with "
                                                          "this template.")


class PreviewRequest(VideoRequest):
    """An instant, low-resolution sample of the video: free, not counted in the quota."""

    product_id: Id


Colour = Annotated[str, StringConstraints(pattern=COLOUR)]
FontKey = Literal[tuple(FONTS)]  # type: ignore[valid-type]


def _kept(**constraints: Any) -> Any:
    """A field a change may leave out (then it keeps its value): no default in the schema."""
    return Field(default=None, json_schema_extra=lambda schema: schema.pop("default", None), **constraints)


class BrandUpdate(Contract):
    """A change of the brand kit: any subset of its fields (a PUT of the brand)."""

    # Left out, a field keeps its value; only ctaUrl can be removed (sent as null).
    primary: Colour = _kept(alias="primaryColor", description="#RRGGBB: backdrops and plates.")
    accent: Colour = _kept(alias="accentColor", description="#RRGGBB: the spoken word, buttons.")
    font: FontKey = _kept(description="One of the bundled open-licence fonts.")
    cta_text: Text = _kept(min_length=1, max_length=MAX_CTA_TEXT, description="The call to action, e.g. Shop now.")
    cta_url: AnyHttpUrl | None = Field(default=None, description="Where the call to action leads (the end card's "
                                       "QR code); https:// may be left out.")
    watermark: bool = _kept(description="The logo in a corner of the whole video.")

    @field_validator("cta_url", mode="before")
    @classmethod
    def _typed_address(cls, value: Any) -> Any:
        return with_scheme(value.strip()) if isinstance(value, str) else value


# ------------------------------------------------------------------- errors ----

M = TypeVar("M", bound=Contract)

TYPE_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "string": "text",
              "list": "a list", "dict": "an object", "model": "an object",
              "url": "an http(s) URL, e.g. https://shop.example.com"}


def field_path(loc: tuple[Any, ...]) -> str:
    """pydantic's location as our field path: ``options.captions[2]`` (camelCase, union arms dropped)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _arm(part) is not None:
            continue  # which arm of a union was tried
        else:
            name = to_camel(str(part)) if "_" in str(part) else str(part)
            path += f".{name}" if path else name
    return path


# Bounds said as the rule they are, where a person types the value into a form.
RANGE_WORDS = {"options.duration": f"must be between {MIN_DURATION} and {MAX_DURATION} seconds"}


# what a list's entries are called, by the list's name
LIST_ITEMS = {"captions": "caption", "script": "line", "productIds": "product"}


def sentence(error: dict[str, Any], field: str) -> str:
    """A pydantic error as a sentence for a person that names the field."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return f"{field} is required."
    if kind == "extra_forbidden":
        return f"{field} is not a field this request accepts."
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than") and field in RANGE_WORDS:
        return f"{field} {RANGE_WORDS[field]}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"{field} must be {'at least' if kind.endswith('equal') else 'more than'} {ctx.get('ge', ctx.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"{field} must be {'at most' if kind.endswith('equal') else 'less than'} {ctx.get('le', ctx.get('lt'))}."
    if kind == "string_too_long":
        return f"{field} must be at most {ctx['max_length']} characters."
    if kind == "string_too_short":
        return f"{field} must not be empty."
    if kind in ("too_long", "too_short"):
        count = ctx["max_length" if kind == "too_long" else "min_length"]
        noun = LIST_ITEMS.get(field.rsplit(".", 1)[-1], "item")
        bound = "at most" if kind == "too_long" else "at least"
        return f"{field} must have {bound} {count} {noun}{'' if count == 1 else 's'}."
    if kind == "literal_error":
        return f"{field} must be one of: {ctx['expected'].replace(chr(39), '')}."
    if kind == "string_pattern_mismatch":
        return f"{field} {PATTERN_WORDS.get(ctx.get('pattern'), 'does not have the expected form')}."
    if kind.startswith("url_"):
        return f"{field} must be an http(s) URL."
    if kind == "value_error":
        return f"{field}: {str(ctx.get('error', error['msg'])).rstrip('.')}."
    for stem, words in TYPE_WORDS.items():
        if kind.startswith(stem) or kind in (f"{stem}_type", f"{stem}_parsing"):
            return f"{field} must be {words}."
    return f"{field}: {error['msg']}"


def _arm(part: Any) -> type | None:
    """The type a union arm's name in an error location stands for (None: not an arm)."""
    if not isinstance(part, str):
        return None
    if "TimedCaption" in part:  # "TimedCaption", or "function-after[…, TimedCaption]"
        return dict
    if part.startswith("list["):
        return list
    return str if part in ("str", "constrained-str") else None


def _value_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part, data.get(to_camel(part)))
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _meant(errors: list[dict[str, Any]], data: Any) -> dict[str, Any]:
    """The error to report: where a value failed every arm of a union (a caption that is
    neither text nor a timed caption), the arm of the value's own type."""
    for error in errors:
        loc = error["loc"]
        arm = next((i for i, part in enumerate(loc) if _arm(part) is not None), None)
        if arm is None or isinstance(_value_at(data, loc[:arm]), _arm(loc[arm])):
            return error
    return errors[0]


def _refusal(error: ValidationError, data: Any) -> GenerationError:
    """Every problem, one per input in the order pydantic found them, as the GenerationError
    every way in shows beside its fields: the first is its message and field."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in error.errors():
        loc = item["loc"]
        arm = next((i for i, part in enumerate(loc) if _arm(part) is not None), len(loc))
        groups.setdefault(field_path(loc[:arm]), []).append(item)  # a union's arms: one input
    problems: dict[str | None, str] = {}
    for group in groups.values():
        field, message = _problem(_meant(group, data))
        problems.setdefault(field, message)
    field, message = next(iter(problems.items()))
    return GenerationError(message, field, tuple(problems.items()))


def _problem(error: dict[str, Any]) -> tuple[str | None, str]:
    """The field an error is about (None: the body) and the sentence that says it."""
    loc = error["loc"]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, CaptionOutside):  # found on the options, said of the caption
        loc = (*loc, "captions", cause.index)
    field = field_path(loc)
    return field or None, sentence(error, field or "The body")


def parse(model: type[M], data: Any, *, strict: bool = False) -> M:
    """``data`` (a dict from JSON, a form or a command line) as ``model``, or GenerationError.

    ``strict``: JSON input, where "8" is not a number and "yes" is not true; forms and the
    command line send text, which is converted."""
    if not isinstance(data, dict):
        raise GenerationError("The body must be an object.", None)
    try:
        return model.model_validate(data, strict=strict)
    except ValidationError as error:
        raise _refusal(error, data) from None


def parse_json(model: type[M], raw: bytes) -> M:
    """A JSON request body as ``model`` (strict), or GenerationError saying what is wrong."""
    if not raw.strip():
        raise GenerationError("Send a JSON object as the request body.", None)
    try:
        data = json.loads(raw, parse_float=_number)
        json.dumps(data, ensure_ascii=False).encode()  # lone surrogates ("\ud800") cannot be stored
    except (ValueError, RecursionError) as error:
        raise GenerationError(f"The body is not valid JSON: {error}.", None) from None
    return parse(model, data, strict=True)


def _number(text: str) -> int | float:
    """JSON Schema counts 3.0 as an integer; so do we."""
    value = float(text)
    return int(value) if value.is_integer() else value
