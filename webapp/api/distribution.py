"""Getting videos out over the API: a video's share link (POST/DELETE /api/v1/videos/{id}/share),
the storefront settings (GET/PUT /api/v1/storefront), and outbound webhook endpoints with their
deliveries and attempts (/api/v1/webhook-endpoints). Input and answers are pydantic models; the
operations join the OpenAPI description (``openapi.register``); each view calls one domain
function, which checks what a schema cannot (a reachable public URL, a real origin)."""

from __future__ import annotations

from typing import Annotated, Literal

from flask import g, jsonify, request
from pydantic import Field, StringConstraints

from ..catalog import storefront
from ..generation import outbound, sharing
from ..generation.contract import Contract
from ..models import OutboundDelivery, WebhookEndpoint
from . import validation
from .openapi import ID_PARAM, Operation, operations_by_id, register
from .resources import iso
from .schemas import Data, Id, Out, Timestamp, Url
from .views import bp

EventName = Literal[tuple(outbound.EVENTS)]  # type: ignore[valid-type]
HTTP = "^[Hh][Tt][Tt][Pp][Ss]?://"
Origin = Annotated[str, StringConstraints(max_length=storefront.MAX_ORIGIN_LENGTH, pattern=HTTP + r"[^\s/?#@*]+/?$")]
WebhookUrl = Annotated[str, StringConstraints(max_length=outbound.MAX_URL_LENGTH, pattern=HTTP + r"\S+$")]


# ---------------------------------------------------------------- input ----


class ShareRequest(Contract):
    expires_in_days: int | None = Field(
        default=None, ge=1, le=sharing.MAX_EXPIRY_DAYS,
        description="The link stops working after this many days; null or left out: when revoked.",
    )


class StorefrontUpdate(Contract):
    allowed_origins: list[Origin] = Field(
        max_length=storefront.MAX_ORIGINS,
        description="Store origins whose pages may read the storefront endpoint, e.g. https://shop.example.com "
                    "(scheme and host, and a port when not the usual one).",
    )


class EndpointCreate(Contract):
    url: WebhookUrl = Field(description="An http(s) URL whose host resolves to public addresses only.")
    events: list[EventName] = Field(min_length=1, max_length=len(outbound.EVENTS), description="What it is told.")


# -------------------------------------------------------------- answers ----


class ShareLink(Out):
    url: Url = Field(description="The public page: no login; the video, its product's title and price, and the brand's logo and call to action.")
    expires_at: Timestamp | None


class Storefront(Out):
    key: str = Field(description="The publishable key for embed.js (not a secret; rotated in Settings).")
    allowed_origins: list[str]


class Endpoint(Out):
    id: Id
    url: Url
    events: list[EventName]
    created_at: Timestamp
    failing_since: Timestamp | None = Field(description="The first failure since the last success.")
    disabled_at: Timestamp | None = Field(description="Disabled after three days of failures; enable it in Settings.")
    disabled_reason: str | None


class CreatedEndpoint(Endpoint):
    secret: str = Field(description="whsec_…: checks the webhook-signature header (Standard Webhooks).")


class EndpointList(Out):
    endpoints: list[Endpoint]


class Attempt(Out):
    attempted_at: Timestamp
    status_code: int | None = Field(description="What the endpoint answered; null: no answer (timeout, refused).")
    latency_ms: int
    response_excerpt: str = Field(description="The start of the answer (500 characters at most).")
    error: str | None


class Delivery(Out):
    id: Id
    message_id: str = Field(description="The webhook-id header: the same on every attempt and resend.")
    event_type: EventName
    video_id: Id | None
    status: Literal["pending", "delivered", "failed"]
    next_attempt_at: Timestamp | None
    created_at: Timestamp
    delivered_at: Timestamp | None
    attempts: list[Attempt]


class DeliveryList(Out):
    deliveries: list[Delivery]


register(
    Operation("shareVideo", "post", "/api/v1/videos/{id}/share", "A public link to a completed video (the one in "
              "force, if there is one, with this expiry)", {200: (Data[ShareLink], "The link")}, body=ShareRequest,
              path_params=ID_PARAM, errors=(404, 409, 413, 415)),
    Operation("revokeShare", "delete", "/api/v1/videos/{id}/share", "Revoke the video's link: it is a 404 at once",
              {204: (None, "Revoked (or there was none)")}, path_params=ID_PARAM, errors=(404,)),
    Operation("getStorefront", "get", "/api/v1/storefront", "The storefront's publishable key and allowed origins",
              {200: (Data[Storefront], "The storefront settings")}),
    Operation("updateStorefront", "put", "/api/v1/storefront", "Replace the allowed store origins",
              {200: (Data[Storefront], "The storefront settings now")}, body=StorefrontUpdate, errors=(413, 415)),
    Operation("createWebhookEndpoint", "post", "/api/v1/webhook-endpoints", "Add an endpoint told of events",
              {201: (Data[CreatedEndpoint], "The endpoint and its signing secret")}, body=EndpointCreate,
              errors=(413, 415)),
    Operation("listWebhookEndpoints", "get", "/api/v1/webhook-endpoints", "The workspace's webhook endpoints",
              {200: (Data[EndpointList], "Every endpoint (without secrets)")}),
    Operation("deleteWebhookEndpoint", "delete", "/api/v1/webhook-endpoints/{id}", "Delete an endpoint and its "
              "delivery log", {204: (None, "Deleted")}, path_params=ID_PARAM, errors=(404,)),
    Operation("listWebhookDeliveries", "get", "/api/v1/webhook-endpoints/{id}/deliveries", "The endpoint's newest "
              "deliveries, each with its attempts", {200: (Data[DeliveryList], "Newest first, 20 at most")},
              path_params=ID_PARAM, errors=(404,)),
)


def _answer(resource: Out, status: int = 200):
    response = jsonify(Data[type(resource)](data=resource).dump())
    response.status_code = status
    return response


def _body_or_empty(operation_id: str):
    """An empty body is an empty object: POST …/share without one shares with no expiry."""
    if not request.get_data(cache=True).strip():
        return operations_by_id()[operation_id].body()
    return validation.body(operation_id)


@bp.post("/api/v1/videos/<int:video_id>/share")
def share_video(video_id: int):
    share = _body_or_empty("shareVideo")
    link = sharing.share_video(g.workspace, g.api_user, video_id, share.expires_in_days)
    return _answer(ShareLink(url=sharing.share_url(link), expires_at=iso(link.expires_at)))


@bp.delete("/api/v1/videos/<int:video_id>/share")
def revoke_share(video_id: int):
    sharing.revoke_share(g.workspace, video_id)
    return "", 204


def _storefront(settings: storefront.StorefrontSettings):
    return _answer(Storefront(key=settings.key, allowed_origins=settings.allowed_origins))


@bp.get("/api/v1/storefront")
def get_storefront():
    return _storefront(storefront.settings_of(g.workspace))


@bp.put("/api/v1/storefront")
def update_storefront():
    update = validation.body("updateStorefront")
    return _storefront(storefront.set_allowed_origins(g.workspace, update.allowed_origins))


def _endpoint_fields(endpoint: WebhookEndpoint) -> dict:
    return {"id": endpoint.id, "url": endpoint.url, "events": endpoint.events, "created_at": iso(endpoint.created_at),
            "failing_since": iso(endpoint.failing_since), "disabled_at": iso(endpoint.disabled_at),
            "disabled_reason": endpoint.disabled_reason}


@bp.post("/api/v1/webhook-endpoints")
def create_webhook_endpoint():
    created = validation.body("createWebhookEndpoint")
    endpoint, secret = outbound.create_endpoint(g.workspace, created.url, list(created.events))
    return _answer(CreatedEndpoint(**_endpoint_fields(endpoint), secret=secret), 201)


@bp.get("/api/v1/webhook-endpoints")
def list_webhook_endpoints():
    endpoints = outbound.endpoints_of(g.workspace)
    return _answer(EndpointList(endpoints=[Endpoint(**_endpoint_fields(e)) for e in endpoints]))


@bp.delete("/api/v1/webhook-endpoints/<int:endpoint_id>")
def delete_webhook_endpoint(endpoint_id: int):
    outbound.delete_endpoint(g.workspace, endpoint_id)
    return "", 204


def _delivery(delivery: OutboundDelivery) -> Delivery:
    return Delivery(
        id=delivery.id, message_id=delivery.message_id, event_type=delivery.event_type, video_id=delivery.video_id,
        status=delivery.status, next_attempt_at=iso(delivery.next_attempt_at), created_at=iso(delivery.created_at),
        delivered_at=iso(delivery.delivered_at),
        attempts=[Attempt(attempted_at=iso(a.attempted_at), status_code=a.status_code, latency_ms=a.latency_ms,
                          response_excerpt=a.response_excerpt, error=a.error) for a in delivery.attempt_log],
    )


@bp.get("/api/v1/webhook-endpoints/<int:endpoint_id>/deliveries")
def list_webhook_deliveries(endpoint_id: int):
    deliveries = outbound.recent_deliveries(g.workspace, endpoint_id)
    return _answer(DeliveryList(deliveries=[_delivery(d) for d in deliveries]))
