"""Checks a request's query parameters, headers and JSON body against the operation's
schemas in the OpenAPI description, and turns the first problem into a 400 that names the
field. What is valid here is exactly what the description says is valid."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .errors import ApiError
from .openapi import NO_NUL, SPEC, operations

SPEC_URI = "urn:reelboard:openapi"
_INTEGER = re.compile(r"^-?[0-9]+$")


def pointer(*parts: str | int) -> str:
    """A JSON pointer into the description, e.g. pointer("paths", "/api/v1/videos", "get")."""
    return "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012))


@cache
def validator(schema_pointer: str) -> Draft202012Validator:
    """A validator for the schema at ``schema_pointer`` in the description ($refs resolved)."""
    return Draft202012Validator({"$ref": SPEC_URI + schema_pointer}, registry=_registry())


def _operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    return operations()[operation_id]


def parameters(operation_id: str) -> dict[str, Any]:
    """The operation's query and header parameters: checked, converted, defaults filled in."""
    method, path, operation = _operation(operation_id)
    values: dict[str, Any] = {}
    for index, parameter in enumerate(operation.get("parameters", [])):
        where, name, schema = parameter["in"], parameter["name"], parameter["schema"]
        if where not in ("query", "header"):
            continue
        raw = request.args.get(name) if where == "query" else request.headers.get(name)
        if raw is None:
            values[name] = schema.get("default")
            continue
        value: Any = raw
        if schema.get("type") == "integer":
            if not _INTEGER.match(raw.strip()):
                raise ApiError(400, "invalid_parameter", f"{name} must be a whole number, not {raw[:40]!r}.", name)
            value = int(raw)
        error = best_match(validator(pointer("paths", path, method, "parameters", index, "schema")).iter_errors(value))
        if error is not None:
            raise ApiError(400, "invalid_parameter", _message(error, name), name)
        values[name] = value
    return values


def json_body(operation_id: str) -> dict[str, Any]:
    """The request's JSON body, valid against the operation's request schema."""
    method, path, _ = _operation(operation_id)
    if request.mimetype and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "invalid", "Send a JSON object as the request body.")
    try:
        body = json.loads(raw, parse_float=_number)
        json.dumps(body, ensure_ascii=False).encode()  # lone surrogates ("\ud800") cannot be stored
    except (ValueError, RecursionError) as error:
        raise ApiError(400, "invalid", f"The body is not valid JSON: {error}.") from None
    schema = pointer("paths", path, method, "requestBody", "content", "application/json", "schema")
    error = best_match(validator(schema).iter_errors(body))
    if error is not None:
        field = _field(error)
        raise ApiError(400, "invalid", _message(error, field or "The body"), field)
    return body


def _number(text: str) -> int | float:
    """JSON Schema counts 3.0 as an integer; so do we, so that the domain sees an int."""
    value = float(text)
    return int(value) if value.is_integer() else value


def _field(error: ValidationError) -> str | None:
    """The dotted path of the input at fault: ``options.duration``, ``productIds[3]``."""
    field = ""
    for part in error.absolute_path:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in error.instance)
        return f"{field}.{missing}" if field else missing
    if error.validator == "additionalProperties":
        extra = min(set(error.instance) - set(error.schema.get("properties", {})))
        return f"{field}.{extra}" if field else extra
    return field or None


TYPE_WORDS = {"integer": "a whole number", "number": "a number", "string": "text", "boolean": "true or false",
              "array": "a list", "object": "an object", "null": "null"}


def _message(error: ValidationError, field: str) -> str:
    """A sentence for a person, naming the field."""
    rule, limit = error.validator, error.validator_value
    if rule == "required":
        return f"{field} is required."
    if rule == "additionalProperties":
        return f"{field} is not a field this request accepts."
    if rule == "type":
        wanted = " or ".join(TYPE_WORDS.get(t, t) for t in (limit if isinstance(limit, list) else [limit]))
        return f"{field} must be {wanted}."
    if rule == "enum":
        return f"{field} must be one of: {', '.join(map(str, limit))}."
    if rule == "minimum":
        return f"{field} must be at least {limit}."
    if rule == "maximum":
        return f"{field} must be at most {limit}."
    if rule == "minLength":
        return f"{field} must not be empty." if limit == 1 else f"{field} must be at least {limit} characters."
    if rule == "maxLength":
        return f"{field} must be at most {limit} characters."
    if rule == "minItems":
        return f"{field} must have at least {limit} item{'' if limit == 1 else 's'}."
    if rule == "maxItems":
        return f"{field} must have at most {limit} items."
    if rule == "pattern":
        if limit == NO_NUL:
            return f"{field} must not contain NUL characters."
        return f"{field} must be {error.schema.get('description', f'like {limit}')}"
    return f"{field}: {error.message}"
