"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.

It is also what the API checks its input against (``validation``): query parameters, headers
and request bodies are validated with the schemas below, so the description and the
behaviour cannot drift apart. The test suite validates every response against it as well.
"""

from __future__ import annotations

from typing import Any

from ..catalog.products import MAX_ID
from ..generation.service import (
    ASPECT_RATIOS,
    MAX_BULK,
    MAX_CAPTION_CHARS,
    MAX_CAPTIONS,
    MAX_DURATION,
    MAX_INSTRUCTIONS,
    MIN_DURATION,
    SORTS,
)
from ..generation.templates import TEMPLATE_KEYS
from ..models import ImageStatus, VideoStatus

MAX_PAGE = 100_000
PER_PAGE_MAX = 100
LEGACY_PER_PAGE_MAX = 1000
VIDEO_STATUSES = [status.value for status in VideoStatus]
LEGACY_STATUSES = [*VIDEO_STATUSES, "processing"]  # seeds/000: "processing" = pending or generating
LEGACY_ORDER_BY = ["createdAt", "created_at", "updatedAt", "updated_at"]
NO_NUL = "^[^\\u0000]*$"  # PostgreSQL text cannot hold NUL characters


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO-8601, UTC (ends in Z)."}
URL = {"type": "string", "format": "uri"}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required,
            **extra}


SCHEMAS: dict[str, Any] = {
    "Error": _object({
        "error": _object(
            {
                "code": {"type": "string", "description": "Stable, machine-readable: invalid, invalid_parameter, "
                         "unauthorized, not_found, method_not_allowed, invalid_state, idempotency_conflict, "
                         "quota_exceeded, payload_too_large, unsupported_media_type, internal_error."},
                "message": {"type": "string", "description": "For a person; names the field at fault."},
                "field": {"type": "string", "description": "The input at fault, when there is one (e.g. options.duration)."},
            },
            required=["code", "message"],
        ),
    }),
    "Pagination": _object({
        "total": {"type": "integer", "minimum": 0},
        "page": {"type": "integer", "minimum": 1},
        "limit": {"type": "integer", "minimum": 1},
        "totalPages": {"type": "integer", "minimum": 1},
        "hasNext": {"type": "boolean"},
        "hasPrev": {"type": "boolean"},
    }),
    "ProductImage": _object({
        "id": ID,
        "url": nullable({**URL, "description": "Served by Reelboard (same bearer token); null until downloaded."}),
        "sourceUrl": nullable({**URL, "description": "Where the image was imported from; null when uploaded."}),
        "position": {"type": "integer", "minimum": 0},
        "status": {"enum": [status.value for status in ImageStatus]},
        "error": nullable({"type": "string", "description": "Why the download failed."}),
        "width": nullable({"type": "integer"}),
        "height": nullable({"type": "integer"}),
    }),
    "Product": _object({
        "id": ID,
        "externalKey": {"type": "string", "description": "The storefront's key (a Shopify handle, a SKU…)."},
        "title": {"type": "string"},
        "sku": {"type": "string"},
        "description": {"type": "string", "description": "Plain text."},
        "price": nullable({"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$", "description": "A decimal, as a string."}),
        "vendor": {"type": "string"},
        "marketplace": {"type": "string"},
        "images": {"type": "array", "items": ref("ProductImage")},
        "videoTemplates": {"type": "array", "items": {"type": "string"},
                           "description": "Templates this product has a completed video with."},
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }),
    "Template": _object({
        "key": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "provider": {"type": "string"},
        "previewVideoUrl": nullable(URL),
        "previewThumbnailUrl": nullable(URL),
    }),
    "Usage": _object({
        "used": {"type": "integer", "minimum": 0},
        "limit": {"type": "integer", "minimum": 0},
        "remaining": {"type": "integer", "minimum": 0},
        "percentage": {"type": "integer", "minimum": 0, "maximum": 100},
    }),
    "VideoOptionsInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "aspectRatio": {"enum": list(ASPECT_RATIOS), "default": ASPECT_RATIOS[0]},
            "duration": {"type": "integer", "minimum": MIN_DURATION, "maximum": MAX_DURATION, "default": 8,
                         "description": "Seconds."},
            "music": {"type": "boolean", "default": False},
            "captions": {
                "type": "array", "maxItems": MAX_CAPTIONS,
                "items": {"type": "string", "maxLength": MAX_CAPTION_CHARS, "pattern": NO_NUL},
                "description": "Lines of text, spread evenly over the video.",
            },
        },
    },
    "VideoOptions": _object({
        "aspectRatio": {"enum": list(ASPECT_RATIOS)},
        "duration": {"type": "integer"},
        "music": {"type": "boolean"},
        "captions": {"type": "array", "items": _object(
            {"start": {"type": "number"}, "end": {"type": "number"}, "text": {"type": "string"}})},
    }),
    "Video": _object({
        "id": ID,
        "productId": ID,
        "title": {"type": "string"},
        "template": {"type": "string"},
        "status": {"enum": VIDEO_STATUSES},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "stage": {"type": "string", "description": "What the generation is doing now, for a person."},
        "queuePosition": nullable({"type": "integer", "minimum": 1, "description": "1 = next to render; null unless pending."}),
        "error": nullable({"type": "string"}),
        "customInstructions": {"type": "string"},
        "options": ref("VideoOptions"),
        "videoUrl": nullable({**URL, "description": "Served by Reelboard (same bearer token) once completed."}),
        "thumbnailUrl": nullable(URL),
        "duration": nullable({"type": "number", "description": "Seconds."}),
        "resolution": nullable({"type": "string", "examples": ["1280x720"]}),
        "provider": {"type": "string"},
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "generatedAt": nullable({**TIMESTAMP, "description": "When generation started (the seed's generatedDate)."}),
        "completedAt": nullable(TIMESTAMP),
    }),
    "CreateVideo": {
        "type": "object",
        "additionalProperties": False,
        "required": ["productId", "template"],
        "properties": {
            "productId": ID,
            "template": {"enum": list(TEMPLATE_KEYS)},
            "customInstructions": nullable({"type": "string", "maxLength": MAX_INSTRUCTIONS, "pattern": NO_NUL}),
            "options": ref("VideoOptionsInput"),
        },
    },
    "BulkCreate": {
        "type": "object",
        "additionalProperties": False,
        "required": ["productIds", "template"],
        "properties": {
            "productIds": {"type": "array", "items": ID, "minItems": 1, "maxItems": MAX_BULK},
            "template": {"enum": list(TEMPLATE_KEYS)},
            "customInstructions": nullable({"type": "string", "maxLength": MAX_INSTRUCTIONS, "pattern": NO_NUL}),
            "options": ref("VideoOptionsInput"),
            "skipExisting": {"type": "boolean", "default": True,
                             "description": "Skip products that already have a completed video with this template."},
        },
    },
    "BulkOutcome": _object({
        "productId": ID,
        "result": {"enum": ["queued", "skipped_existing", "over_quota", "invalid"]},
        "videoId": nullable(ID),
        "productTitle": nullable({"type": "string"}),
        "reason": nullable({"type": "string"}),
    }),
    "GenerationRecord": _object({
        "id": {"type": "string"},
        "clothingKey": {"type": "string", "description": "The product's external key."},
        "productId": {"type": "string"},
        "status": {"enum": VIDEO_STATUSES},
        "template": {"type": "string"},
        "videoUrl": nullable(URL),
        "thumbnailUrl": nullable(URL),
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }),
}


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return _object({"data": schema})


def _list(name: str, item: str) -> dict[str, Any]:
    return _data(_object({name: {"type": "array", "items": ref(item)}, "pagination": ref("Pagination")}))


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    400: "Bad input; the message names the field.",
    401: "No bearer token, or an invalid or revoked one.",
    404: "No such resource in the token's workspace.",
    409: "The video is not in a state that allows this.",
    413: "The request body is too large.",
    415: "The body is not JSON.",
    422: "The Idempotency-Key was used before with a different request.",
    429: "The monthly video limit is reached.",
}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): _json(ref("Error"), ERRORS[code]) for code in (400, 401, *codes)}


def _param(name: str, schema: dict[str, Any], description: str, where: str = "query", **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "schema": schema, "description": description, **extra}


PAGE = _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
              "Page number; a page past the end is empty.")
LIMIT = _param("limit", {"type": "integer", "minimum": 1, "maximum": PER_PAGE_MAX, "default": 20}, "Items per page.")
SEARCH = _param("search", {"type": "string", "maxLength": 200, "pattern": NO_NUL}, "Words in the title, SKU or key.")
ID_PATH = _param("id", ID, "The resource's id.", "path", required=True)
BEARER = [{"bearerAuth": []}]
BODY_ERRORS = (413, 415)


def _operation(operation_id: str, summary: str, responses: dict[str, Any], *, parameters: list | None = None,
               body: str | None = None, secured: bool = True, description: str = "") -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "responses": responses}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    operation["security"] = BEARER if secured else []
    return operation


VIDEO = _data(ref("Video"))
MEDIA_TYPES = ("video/mp4", "image/jpeg", "image/png", "image/webp")

PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": {
        "get": _operation("getOpenApi", "This description", {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                          secured=False),
    },
    "/api/v1/products": {
        "get": _operation("listProducts", "List products", {"200": _json(_list("products", "Product"), "A page of products"),
                                                              **_errors()}, parameters=[PAGE, LIMIT, SEARCH]),
    },
    "/api/v1/products/{id}": {
        "get": _operation("getProduct", "One product", {"200": _json(_data(ref("Product")), "The product"),
                                                         **_errors(404)}, parameters=[ID_PATH]),
    },
    "/api/v1/templates": {
        "get": _operation("listTemplates", "Video templates",
                          {"200": _json(_data(_object({"templates": {"type": "array", "items": ref("Template")}})),
                                        "All templates"), **_errors()}),
    },
    "/api/v1/usage": {
        "get": _operation("getUsage", "This month's video quota",
                          {"200": _json(_data(ref("Usage")), "Used, limit, remaining, percentage"), **_errors()}),
    },
    "/api/v1/videos": {
        "get": _operation(
            "listVideos", "List videos",
            {"200": _json(_list("videos", "Video"), "A page of videos"), **_errors()},
            parameters=[
                PAGE, LIMIT,
                _param("status", {"enum": VIDEO_STATUSES}, "Only videos in this status."),
                _param("productId", ID, "Only videos of this product."),
                _param("search", {"type": "string", "maxLength": 200, "pattern": NO_NUL},
                       "Words in the video's title or its product's title or SKU."),
                _param("sortBy", {"enum": list(SORTS), "default": "createdAt"},
                       "createdAt, or generatedDate (when generation started; not started yet sorts last)."),
                _param("sortOrder", {"enum": ["asc", "desc"], "default": "desc"}, "Sort direction."),
            ],
        ),
        "post": _operation(
            "createVideo", "Queue a video",
            {
                "202": _json(VIDEO, "Queued"),
                "200": _json(VIDEO, "An idempotent replay: the video the first request with this Idempotency-Key made"),
                **_errors(404, 422, 429, *BODY_ERRORS),
            },
            parameters=[_param("Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255},
                               "Send the same key again to get the same video instead of a second one.", "header")],
            body="CreateVideo",
            description="Reserves one video of the monthly quota. A product needs at least one image.",
        ),
    },
    "/api/v1/videos/bulk": {
        "post": _operation(
            "createVideosBulk", "Queue a video for each of many products",
            {
                "202": _json(_data(_object({
                    "results": {"type": "array", "items": ref("BulkOutcome")},
                    "summary": _object({kind: {"type": "integer", "minimum": 0} for kind in
                                        ("queued", "skippedExisting", "overQuota", "invalid")}),
                })), "One result per distinct product id, in the order sent"),
                **_errors(*BODY_ERRORS),
            },
            body="BulkCreate",
            description="Not atomic: what fits the quota is queued (reserved in one statement), the rest is "
                        "reported as over_quota.",
        ),
    },
    "/api/v1/videos/{id}": {
        "get": _operation("getVideo", "One video", {"200": _json(VIDEO, "The video"), **_errors(404)},
                          parameters=[ID_PATH]),
        "delete": _operation("deleteVideo", "Delete a video and its files (canceled first if in flight)",
                             {"204": {"description": "Deleted"}, **_errors(404)}, parameters=[ID_PATH]),
    },
    "/api/v1/videos/{id}/cancel": {
        "post": _operation("cancelVideo", "Cancel a pending or generating video (its quota is refunded)",
                           {"200": _json(VIDEO, "Canceled"), **_errors(404, 409)}, parameters=[ID_PATH]),
    },
    "/api/v1/videos/{id}/retry": {
        "post": _operation("retryVideo", "Queue a failed or canceled video again",
                           {"202": _json(VIDEO, "Queued again"), **_errors(404, 409, 429)}, parameters=[ID_PATH]),
    },
    "/api/v1/media/{path}": {
        "get": _operation(
            "getMedia", "A video, thumbnail or image file of the workspace (the URLs in resources)",
            {
                "200": {"description": "The file", "content": {media: {"schema": {}} for media in MEDIA_TYPES}},
                "206": {"description": "Part of the file (Range request)",
                        "content": {media: {"schema": {}} for media in MEDIA_TYPES}},
                "304": {"description": "Not modified"},
                **_errors(404),
            },
            parameters=[_param("path", {"type": "string", "pattern": NO_NUL}, "The file's path", "path", required=True)],
        ),
    },
    "/api/video-generations/all": {
        "get": _operation(
            "listVideoGenerations", "Every video of the workspace, in the shape of the storefront widget's API",
            {
                "200": _json(_object({
                    "status": {"const": "success"},
                    "data": _object({"records": {"type": "array", "items": ref("GenerationRecord")},
                                     "pagination": ref("Pagination")}),
                }), "A page of records"),
                **_errors(),
            },
            parameters=[
                PAGE,
                _param("limit", {"type": "integer", "minimum": 1, "maximum": LEGACY_PER_PAGE_MAX, "default": 50},
                       "Records per page."),
                _param("status", {"enum": LEGACY_STATUSES}, "Only this status; processing = pending or generating."),
                _param("orderBy", {"enum": LEGACY_ORDER_BY, "default": "created_at"}, "Sort field."),
                _param("orderDirection", {"type": "string", "pattern": "^([Aa][Ss][Cc]|[Dd][Ee][Ss][Cc])$",
                                          "default": "DESC", "description": "ASC or DESC (any case)."},
                       "Sort direction."),
            ],
            description="For a storefront widget: each record's clothingKey is its product's external key, so "
                        "the widget learns which products already have a (completed) video.",
        ),
    },
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Reelboard API",
        "version": "1.0.0",
        "description": "Products, templates, quota and videos of one workspace. Authenticate with "
                       "`Authorization: Bearer <token>` (tokens are made in Settings or by `flask create-token`). "
                       "Every error is `{\"error\": {\"code\", \"message\"}}`. Times are ISO-8601 UTC.",
    },
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
    },
}


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation)."""
    return {
        operation["operationId"]: (method, path, operation)
        for path, methods in PATHS.items()
        for method, operation in methods.items()
    }
