"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json, assembled from
the models: request bodies are the domain's input contract (``generation.contract``), query
strings and answers are ``api.schemas``. Nothing here is a schema written by hand, so the
description, the validation (``validation``) and the answers (``resources``) say one thing.

Why our own assembly rather than spectree or flask-openapi3: both want to own routing and
validation through their own decorators and error formats; ours keeps Flask's routes, the
domain's error shape ``{"error": {code, message, field}}``, camelCase aliases, and one error
sentence per rule, with ~150 lines over pydantic's ``models_json_schema``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..generation.contract import BulkCreate, CreateVideo
from ..providers.base import ModelInfo
from . import schemas
from .schemas import Data

REF = "#/components/schemas/{model}"
MEDIA_TYPES = ("video/mp4", "video/webm", "video/quicktime", "image/jpeg", "image/png", "image/webp", "text/vtt")
ERRORS = {
    400: "Bad input; the message names the field.",
    401: "No bearer token, or an invalid or revoked one.",
    404: "No such resource in the token's workspace.",
    409: "The video is not in a state that allows this.",
    413: "The request body is too large.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "The monthly video limit is reached.",
    503: "The provider is not configured or not reachable.",
}
BODY_ERRORS = (413, 415)
FILE = "file"  # a response that is a media file, not JSON


@dataclass(frozen=True)
class Operation:
    """One endpoint, as data: what it reads and what it answers."""

    id: str
    method: str
    path: str  # OpenAPI form: /api/v1/videos/{id}
    summary: str
    answers: dict[int, tuple[Any, str]]  # status -> (model, FILE or None for no body; description)
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload: str | None = None  # a multipart/form-data body with this one file field
    errors: tuple[int, ...] = ()
    secured: bool = True
    description: str = ""
    error_model: type[BaseModel] = schemas.Error  # the body of its error answers


ID_PARAM = {"id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "description": "The resource's id."}}

OPERATIONS: list[Operation] = [
    Operation("getOpenApi", "get", "/api/v1/openapi.json", "This description",
              {200: (schemas.OpenApiDocument, "OpenAPI 3.1")}, secured=False),
    Operation("listProducts", "get", "/api/v1/products", "List products",
              {200: (Data[schemas.ProductPage], "A page of products")}, query=schemas.ListProducts),
    Operation("getProduct", "get", "/api/v1/products/{id}", "One product",
              {200: (Data[schemas.Product], "The product")}, path_params=ID_PARAM, errors=(404,)),
    Operation("listTemplates", "get", "/api/v1/templates", "Video templates, and which providers make each",
              {200: (Data[schemas.TemplateList], "All templates")}),
    Operation("getUsage", "get", "/api/v1/usage", "This month's video quota",
              {200: (Data[schemas.Usage], "Used, limit, remaining, percentage")}),
    Operation("listVideos", "get", "/api/v1/videos", "List videos",
              {200: (Data[schemas.VideoPage], "A page of videos")}, query=schemas.ListVideos),
    Operation("createVideo", "post", "/api/v1/videos", "Queue a video",
              {202: (Data[schemas.Video], "Queued"),
               200: (Data[schemas.Video], "An idempotent replay: the video the first request with this key made")},
              headers=schemas.IdempotencyKey, body=CreateVideo, errors=(404, 422, 429, *BODY_ERRORS),
              description="Reserves one video of the monthly quota. A product needs at least one image."),
    Operation("createVideosBulk", "post", "/api/v1/videos/bulk", "Queue a video for each of many products",
              {202: (Data[schemas.BulkResult], ("One result per distinct product id, in the order sent (a replay "
                                                "with the same Idempotency-Key answers the first request's results)"))},
              headers=schemas.IdempotencyKey, body=BulkCreate, errors=(422, *BODY_ERRORS),
              description="Not atomic: what fits the quota is queued (reserved in one statement), the rest is "
                          "reported as over_quota."),
    Operation("getVideo", "get", "/api/v1/videos/{id}", "One video",
              {200: (Data[schemas.Video], "The video")}, path_params=ID_PARAM, errors=(404,)),
    Operation("deleteVideo", "delete", "/api/v1/videos/{id}", "Delete a video and its files (canceled first if in "
              "flight)", {204: (None, "Deleted")}, path_params=ID_PARAM, errors=(404,)),
    Operation("cancelVideo", "post", "/api/v1/videos/{id}/cancel", "Cancel a pending or generating video (its quota "
              "is refunded)", {200: (Data[schemas.Video], "Canceled")}, path_params=ID_PARAM, errors=(404, 409)),
    Operation("retryVideo", "post", "/api/v1/videos/{id}/retry", "Queue a failed or canceled video again",
              {202: (Data[schemas.Video], "Queued again")}, path_params=ID_PARAM, errors=(404, 409, 429)),
    Operation("getVideoFile", "get", "/api/v1/media/videos/{id}/{kind}", "A file of a video: the video, its poster "
              "or its captions (the URLs in resources)", {200: (FILE, "The file")},
              path_params={**ID_PARAM, "kind": {"enum": ["video", "poster", "captions"], "description": "Which file"}},
              errors=(404,)),
    Operation("getImageFile", "get", "/api/v1/media/images/{id}", "A product image of the workspace",
              {200: (FILE, "The file")}, path_params=ID_PARAM, errors=(404,)),
    Operation("getTemplatePreview", "get", "/api/v1/media/templates/{key}/{kind}", "A template's preview clip or "
              "its poster", {200: (FILE, "The file")}, query=schemas.PreviewShape,
              path_params={"key": {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$",
                                   "description": "Template key"},
                           "kind": {"enum": ["preview", "poster"], "description": "Which file"}},
              errors=(404,)),
    Operation("listVideoGenerations", "get", "/api/video-generations/all", "Every video of the workspace, in the "
              "shape of the storefront widget's API", {200: (schemas.GenerationsAnswer, "A page of records")},
              query=schemas.ListGenerations,
              description="For a storefront widget: each record's clothingKey is its product's external key, so the "
                          "widget learns which products already have a (completed) video."),
]


def register(*operations: Operation) -> None:
    """Adds the operations of another API module (before the first request)."""
    OPERATIONS.extend(operations)
    spec.cache_clear()
    operations_by_id.cache_clear()


@cache
def operations_by_id() -> dict[str, Operation]:
    return {operation.id: operation for operation in OPERATIONS}


def _models() -> list[tuple[type[BaseModel], str]]:
    found: dict[tuple[type[BaseModel], str], None] = {(schemas.Error, "serialization"): None}
    for operation in OPERATIONS:
        found[(operation.error_model, "serialization")] = None
        for model, _ in operation.answers.values():
            if isinstance(model, type):
                found[(model, "serialization")] = None
        if operation.body is not None:
            found[(operation.body, "validation")] = None
    return list(found)


def _inline(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema with local $refs replaced by what they name (parameters are flat)."""
    if "$ref" in schema:
        return _inline(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    return {key: ([_inline(s, defs) for s in value] if key in ("anyOf", "oneOf") else value)
            for key, value in schema.items() if key != "title"}


def _parameters(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    schema = model.model_json_schema(by_alias=True)
    defs = schema.get("$defs", {})
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = _inline(prop, defs)
        description = prop.pop("description", "")
        if "anyOf" in prop and {"type": "null"} in prop["anyOf"]:  # optional: the parameter is absent
            rest = [s for s in prop.pop("anyOf") if s != {"type": "null"}]
            prop = {**(rest[0] if len(rest) == 1 else {"anyOf": rest}), **prop}
            prop.pop("default", None)
        parameters.append({"name": name, "in": where, "schema": prop, "description": description,
                           **({"required": True} if name in required else {})})
    return parameters


def _json(model: Any, description: str, names: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    if model is None:
        return {"description": description}
    if model == FILE:
        media = {media_type: {"schema": {}} for media_type in MEDIA_TYPES}
        return {"description": description, "content": media}
    return {"description": description, "content": {"application/json": {"schema": names[(model, "serialization")]}}}


@dataclass(frozen=True)
class Offered:
    """What a request may name on this installation, listed in the description's request bodies."""

    templates: tuple[str, ...] = ()  # the six seed templates and a provider's own
    providers: tuple[str, ...] = ()
    models: tuple[ModelInfo, ...] = ()  # with the lengths and shapes each makes


def _model_rule(model: ModelInfo) -> dict[str, Any]:
    """A request naming ``model`` asks for a length and a shape it makes (``generation.choice``)."""
    options: dict[str, Any] = {}
    if model.durations:
        options["duration"] = {"anyOf": [{"enum": list(model.durations)}, {"type": "null"}]}
    if model.aspect_ratios:
        options["aspectRatio"] = {"enum": list(model.aspect_ratios)}
    return {"if": {"properties": {"model": {"const": model.key}}, "required": ["model"]},
            "then": {"properties": {"options": {"properties": options}}}}


def _offered_values(schema: dict[str, Any], offered: Offered) -> None:
    """The request body ``schema`` (one that chooses templates, providers, models) narrowed to
    what this installation offers."""
    properties = schema["properties"]
    for name in ("template", "templateId"):  # seeds/002's legacy bodies name it templateId
        if offered.templates and name in properties:
            optional = "anyOf" in properties[name]
            values = {"anyOf": [{"enum": list(offered.templates)}, {"type": "null"}]} if optional else {
                "enum": list(offered.templates)}
            properties[name] = {**properties[name], **values}
    if offered.providers and "provider" in properties:
        properties["provider"] = {**properties["provider"], "anyOf": [{"enum": list(offered.providers)}, {"type": "null"}]}
    if offered.providers and "model" in properties:  # the models of the providers offered (none: model stays empty)
        values = [{"enum": [model.key for model in offered.models]}] if offered.models else []
        rules = " ".join(f"{model.key} ({model.name}): {model.rules()}." for model in offered.models)
        described = f"{properties['model'].get('description', '')} What each model makes: {rules}".strip()
        properties["model"] = {**properties["model"], "anyOf": [*values, {"type": "null"}], "description": described}
        if offered.models:
            schema["allOf"] = [_model_rule(model) for model in offered.models]


@cache
def spec(offered: Offered = Offered()) -> dict[str, Any]:
    """The description, with the values a request may name here (``Offered``)."""
    names, components = models_json_schema(_models(), by_alias=True, ref_template=REF)
    for model, mode in _models():
        if mode == "validation":
            _offered_values(components["$defs"][model.__name__], offered)
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        responses = {str(status): _json(model, description, names)
                     for status, (model, description) in operation.answers.items()}
        if operation.answers.get(200, (None,))[0] == FILE:
            media = {media_type: {"schema": {}} for media_type in MEDIA_TYPES}
            responses["206"] = {"description": "Part of the file (Range request)", "content": media}
            responses["302"] = {"description": "On object storage: a short-lived link to the file"}
            responses["304"] = {"description": "Not modified"}
        for status in (400, 401, *operation.errors) if operation.secured else (*operation.errors,):
            error = names[(operation.error_model, "serialization")]
            responses[str(status)] = {"description": ERRORS[status], "content": {"application/json": {"schema": error}}}
        parameters = [
            {"name": name, "in": "path", "required": True, "description": schema.get("description", ""),
             "schema": {k: v for k, v in schema.items() if k != "description"}}
            for name, schema in operation.path_params.items()
        ]
        if operation.query is not None:
            parameters += _parameters(operation.query, "query")
        if operation.headers is not None:
            parameters += _parameters(operation.headers, "header")
        described: dict[str, Any] = {"operationId": operation.id, "summary": operation.summary, "responses": responses,
                                     "security": [{"bearerAuth": []}] if operation.secured else []}
        if operation.description:
            described["description"] = operation.description
        if parameters:
            described["parameters"] = parameters
        if operation.upload is not None:
            form = {"type": "object", "required": [operation.upload],
                    "properties": {operation.upload: {"type": "string", "format": "binary"}}}
            described["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": form}}}
        if operation.body is not None:
            described["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": names[(operation.body, "validation")]}}}
        paths.setdefault(operation.path, {})[operation.method] = described
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reelboard API",
            "version": "1.1.0",
            "description": "Products, templates, quota and videos of one workspace. Authenticate with "
                           "`Authorization: Bearer <token>` (tokens are made in Settings or by `flask create-token`). "
                           "Every error is `{\"error\": {\"code\", \"message\", \"field\"}}`. Times are ISO-8601 UTC.",
        },
        "paths": paths,
        "components": {
            "schemas": components.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
