"""Settings → Brand: the colours, font, logo, call to action and watermark every video wears.

Each action answers the panel's fragment to htmx (errors beside their fields), or redirects
back to Settings otherwise."""

from __future__ import annotations

from typing import ClassVar

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField

from .. import media
from ..generation import brand, contract
from ..generation.errors import GenerationError, NotFound
from ..limits import MAX_CTA_TEXT
from ..models import Workspace
from ..render.brand import FONTS
from .forms import ContractForm

bp = Blueprint("brand", __name__)


class BrandForm(ContractForm):
    """The brand kit's fields; their rules are the contract's ``BrandUpdate``."""

    primary_color = StringField("Primary colour", render_kw={"type": "color"})
    accent_color = StringField("Accent colour", render_kw={"type": "color"})
    font = SelectField("Font", choices=[(f.key, f.name) for f in FONTS.values()], validate_choice=False)
    cta_text = StringField("Call to action", render_kw={"placeholder": "Shop now", "maxlength": MAX_CTA_TEXT})
    cta_url = StringField("Call-to-action link",
                          render_kw={"placeholder": "shop.example.com", "inputmode": "url"})
    watermark = BooleanField("Show the logo in a corner of the whole video")

    FIELDS: ClassVar[dict[str, str]] = {"primary": "primary_color", "accent": "accent_color", "font": "font",
                                        "ctaText": "cta_text", "ctaUrl": "cta_url", "watermark": "watermark"}

    def update(self) -> dict:
        return {"primary": self.primary_color.data, "accent": self.accent_color.data, "font": self.font.data,
                "cta_text": self.cta_text.data, "cta_url": self.cta_url.data or None, "watermark": self.watermark.data}


class LogoForm(FlaskForm):
    logo = FileField("Logo (PNG or JPEG, up to 2 MB; a transparent PNG stays transparent)",
                     render_kw={"accept": "image/png,image/jpeg"})


def brand_context(workspace: Workspace, form: BrandForm | None = None, logo_form: LogoForm | None = None) -> dict:
    """What the settings page needs to show the brand panel."""
    kit = brand.brand_of(workspace)
    if form is None:
        form = BrandForm(formdata=None, primary_color=kit.primary_color, accent_color=kit.accent_color, font=kit.font,
                         cta_text=kit.cta_text, cta_url=kit.cta_url or "", watermark=kit.watermark)
    return {"brand": kit, "brand_form": form, "logo_form": logo_form or LogoForm(formdata=None)}


def _panel(notice: str | None = None, **forms):
    """The panel to htmx (with 200: htmx swaps only success, errors show beside their fields);
    a plain form post goes back to Settings."""
    if request.htmx:
        return render_template("partials/settings_brand.html", notice=notice, **brand_context(g.workspace, **forms))
    return _back_to_settings(notice, forms)


def _logo_part(notice: str | None = None, logo_form: LogoForm | None = None):
    """The logo's region alone to htmx: picking a file uploads it without undoing colours typed
    but not saved."""
    if request.htmx:
        return render_template("partials/brand_logo.html", logo_notice=notice,
                               **brand_context(g.workspace, logo_form=logo_form))
    return _back_to_settings(notice, {"logo_form": logo_form} if logo_form else {})


def _back_to_settings(notice: str | None, forms: dict):
    if notice:
        flash(notice, "success")
    for form in forms.values():
        for name, errors in form.errors.items():
            flash(f"{getattr(form, name).label.text}: {' '.join(errors)}", "error")
    return redirect(url_for("settings.index") + "#brand")


@bp.post("/settings/brand")
def update():
    form = BrandForm()
    if not form.validate_on_submit():
        return _panel(form=form)
    try:
        brand.update_brand(g.workspace, contract.parse(contract.BrandUpdate, form.update()))
    except GenerationError as error:
        form.show(error)
        return _panel(form=form)
    return _panel(notice="Brand saved: new videos wear it.")


@bp.post("/settings/brand/logo")
def upload_logo():
    form = LogoForm()
    upload = form.logo.data if form.validate_on_submit() else None
    try:
        brand.set_logo(g.workspace, upload.read() if upload else b"")
    except GenerationError as error:
        form.logo.errors = [error.message]
        return _logo_part(logo_form=form)
    return _logo_part("Logo saved: new videos wear it.")


@bp.post("/settings/brand/logo/delete")
def delete_logo():
    brand.remove_logo(g.workspace)
    return _logo_part("Logo removed.")


@bp.get("/media/brand/logo")
def logo():
    try:
        return media.send(brand.logo_file(g.workspace))
    except NotFound:
        return "", 404
