"""The brand kit over the API: GET/PUT /api/v1/brand (a PUT may send any subset), and the logo
(POST /api/v1/brand/logo, multipart field ``logo``; DELETE to remove it)."""

from __future__ import annotations

from flask import g, jsonify, request, url_for
from pydantic import Field

from .. import media
from ..generation import brand
from ..generation.contract import BrandUpdate
from ..models import BrandKit
from ..render.brand import FONTS
from . import validation
from .openapi import FILE, Operation, register
from .schemas import Data, Out, Url
from .views import bp


class Font(Out):
    key: str
    name: str
    licence: str


class Brand(Out):
    primary_color: str = Field(description="#RRGGBB")
    accent_color: str = Field(description="#RRGGBB")
    font: str
    fonts: list[Font] = Field(description="The bundled fonts a brand may use.")
    logo_url: Url | None
    cta_text: str
    cta_url: Url | None
    watermark: bool


register(
    Operation("getBrand", "get", "/api/v1/brand", "The workspace's brand kit", {200: (Data[Brand], "The brand kit")}),
    Operation("updateBrand", "put", "/api/v1/brand", "Change the brand kit (any subset of its fields)",
              {200: (Data[Brand], "The brand kit as it is now")}, body=BrandUpdate, errors=(413, 415)),
    Operation("uploadBrandLogo", "post", "/api/v1/brand/logo", "Set the logo (PNG or JPEG; a transparent PNG stays "
              "transparent)", {200: (Data[Brand], "The brand kit with its logo")}, upload="logo", errors=(413,)),
    Operation("deleteBrandLogo", "delete", "/api/v1/brand/logo", "Remove the logo",
              {200: (Data[Brand], "The brand kit without a logo")}),
    Operation("getBrandLogo", "get", "/api/v1/media/brand/logo", "The logo file", {200: (FILE, "The file")},
              errors=(404,)),
)


def _answer(kit: BrandKit):
    resource = Brand(
        primary_color=kit.primary_color, accent_color=kit.accent_color, font=kit.font,
        fonts=[Font(key=f.key, name=f.name, licence=f.licence) for f in FONTS.values()],
        logo_url=url_for("api.brand_logo", _external=True) if kit.logo_path else None,
        cta_text=kit.cta_text, cta_url=kit.cta_url, watermark=kit.watermark,
    )
    return jsonify(Data[Brand](data=resource).dump())


@bp.get("/api/v1/brand")
def get_brand():
    return _answer(brand.brand_of(g.workspace))


@bp.put("/api/v1/brand")
def update_brand():
    return _answer(brand.update_brand(g.workspace, validation.body("updateBrand")))


@bp.post("/api/v1/brand/logo")
def upload_logo():
    upload = request.files.get("logo")
    return _answer(brand.set_logo(g.workspace, upload.read() if upload else b""))


@bp.delete("/api/v1/brand/logo")
def delete_logo():
    return _answer(brand.remove_logo(g.workspace))


@bp.get("/api/v1/media/brand/logo")
def brand_logo():
    return media.send(brand.logo_file(g.workspace))
