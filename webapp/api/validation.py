"""Reading a request's query string, headers and JSON body through the models the OpenAPI
description is generated from (``openapi``): what is valid here is exactly what it says.
A query parameter or header at fault is a 400 ``invalid_parameter`` naming it; a body at fault
is the domain's ``GenerationError`` (400 ``invalid``) naming the field, as for the HTML forms."""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import BaseModel, ValidationError

from ..generation.contract import M, field_path, parse_json, sentence
from .errors import ApiError
from .openapi import operations_by_id


def _fields(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        name = field_path(first["loc"]) or "The query"
        message = sentence(first, name)
        if first["type"] == "int_parsing" and isinstance(first.get("input"), str):
            message = f"{name} must be a whole number, not {first['input'][:40]!r}."
        raise ApiError(400, "invalid_parameter", message, name) from None


def query(operation_id: str) -> Any:
    """The operation's query parameters, checked, converted, defaults filled in."""
    model = operations_by_id()[operation_id].query
    return _fields(model, {name: value for name, value in request.args.items()})


def headers(operation_id: str) -> Any:
    """The operation's header parameters (the Idempotency-Key), checked."""
    model = operations_by_id()[operation_id].headers
    wanted = {field.alias or name for name, field in model.model_fields.items()}
    return _fields(model, {name: request.headers[name] for name in wanted if name in request.headers})


def body(operation_id: str) -> M:
    """The request's JSON body as the operation's input model."""
    if request.mimetype and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    return parse_json(operations_by_id()[operation_id].body, request.get_data(cache=True))
