"""What members do to get videos out of the dashboard: a video's share link (its panel on the
video page), and in Settings the storefront embed (key, allowed origins, snippet) and the
outbound webhooks (endpoints, secrets, deliveries with resend).

Each action answers its panel's fragment to htmx, or redirects back with a message otherwise.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from ..catalog import storefront
from ..catalog.products import CatalogError
from ..generation import outbound, service, sharing
from ..generation.errors import GenerationError, NotFound
from ..models import Workspace

bp = Blueprint("distribution", __name__)


class ShareForm(FlaskForm):
    expires = SelectField(
        "The link works",
        choices=[("", "Until revoked"), *((str(d), f"For {d} day{'s' if d > 1 else ''}") for d in sharing.EXPIRY_CHOICES)],
        default="",
    )


class OriginsForm(FlaskForm):
    origins = TextAreaField("Allowed store origins", validators=[Length(max=6000)], render_kw={"rows": 3})


class EndpointForm(FlaskForm):
    url = StringField("Endpoint URL", validators=[Length(max=outbound.MAX_URL_LENGTH)])
    events = SelectMultipleField(
        "Events", choices=[(event, event) for event in outbound.EVENTS], default=list(outbound.EVENTS),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(), validate_choice=False,
    )


NO_STORE = {"Cache-Control": "no-store"}  # parts that may show a signing secret


def _answer(fragment: str, message: str, category: str = "success", anchor: str | None = None, **back):
    """htmx gets the panel's fragment, errors shown beside their fields (a 200: htmx swaps only
    those); a plain form post is redirected back with ``message``."""
    if request.htmx:
        return fragment, 200, NO_STORE
    flash(message, category)
    endpoint = "videos.detail" if "video_id" in back else "settings.index"
    return redirect(url_for(endpoint, _anchor=anchor, **back))


# ------------------------------------------------------------- sharing ----


def _share_panel(video_id: int, form: ShareForm | None = None) -> str:
    try:
        video = service.get_video(g.workspace, video_id)
        link = sharing.active_link(g.workspace, video.id)
    except NotFound:
        abort(404)
    return render_template(
        "partials/share_panel.html", video=video, link=link, url=sharing.share_url(link) if link else None,
        shop_url=sharing.shop_url_of(g.workspace, video), form=form or ShareForm(formdata=None),
    )


@bp.get("/videos/<int:video_id>/share")
def share_panel(video_id: int):
    return _share_panel(video_id)


@bp.post("/videos/<int:video_id>/share")
def share(video_id: int):
    form = ShareForm()
    if form.validate_on_submit():
        try:
            sharing.share_video(g.workspace, current_user, video_id, form.expires.data)
        except NotFound:
            abort(404)
        except GenerationError as error:
            form.expires.errors = [error.message]
            return _answer(_share_panel(video_id, form), error.message, "error", video_id=video_id)
        return _answer(_share_panel(video_id), "Share link ready: anyone with it can watch this video.",
                       video_id=video_id)
    return _answer(_share_panel(video_id, form), "The share form was not accepted.", "error", video_id=video_id)


@bp.post("/videos/<int:video_id>/share/revoke")
def revoke_share(video_id: int):
    try:
        sharing.revoke_share(g.workspace, video_id)
    except NotFound:
        abort(404)
    return _answer(_share_panel(video_id), "Share link revoked: it no longer opens.", "info", video_id=video_id)


# ----------------------------------------------------------- settings ----


def settings_context(workspace: Workspace, **overrides) -> dict:
    """What the storefront and webhook parts of the settings page show (``settings._render``)."""
    settings = storefront.settings_of(workspace)
    context = {
        "storefront": settings,
        "origins_form": OriginsForm(formdata=None, origins="\n".join(settings.allowed_origins)),
        "public_base_url": current_app.config["PUBLIC_BASE_URL"],
        "endpoint_form": EndpointForm(formdata=None),
        "endpoints": outbound.endpoints_of(workspace),
        "deliveries": outbound.recent_deliveries(workspace),
        "new_secret": None,
        "error": None,
    }
    context.update(overrides)
    return context


def _storefront_part(**overrides) -> str:
    return render_template("partials/settings_storefront.html", **settings_context(g.workspace, **overrides))


def _webhooks_part(**overrides) -> str:
    return render_template("partials/settings_webhooks.html", **settings_context(g.workspace, **overrides))


@bp.post("/settings/storefront/origins")
def save_origins():
    form = OriginsForm()
    if form.validate_on_submit():
        try:
            storefront.set_allowed_origins(g.workspace, storefront.parse_origins(form.origins.data or ""))
        except CatalogError as error:
            form.origins.errors = [message for _, message in error.problems]
        else:
            return _answer(_storefront_part(), "Allowed store origins saved.", anchor="storefront")
    message = form.origins.errors[0] if form.origins.errors else "The origins were not accepted."
    return _answer(_storefront_part(origins_form=form), message, "error", anchor="storefront")


@bp.post("/settings/storefront/rotate")
def rotate_storefront_key():
    storefront.rotate_key(g.workspace)
    return _answer(_storefront_part(), "New storefront key made: update the snippet in your store's theme.",
                   anchor="storefront")


@bp.post("/settings/webhooks")
def create_endpoint():
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = outbound.create_endpoint(g.workspace, form.url.data, form.events.data or [])
        except GenerationError as error:
            (form.events if error.field == "events" else form.url).errors = [error.message]
        else:
            return _answer(_webhooks_part(new_secret=(endpoint.id, secret)),
                           "Endpoint added. Show its signing secret to give it to the receiver.", anchor="webhooks")
    errors = form.url.errors or form.events.errors
    message = errors[0] if errors else "The endpoint was not accepted."
    return _answer(_webhooks_part(endpoint_form=form), message, "error", anchor="webhooks")


def _endpoint_action(action, endpoint_id: int, message: str):
    try:
        action(g.workspace, endpoint_id)
    except NotFound:
        abort(404)
    return _answer(_webhooks_part(), message, anchor="webhooks")


@bp.post("/settings/webhooks/<int:endpoint_id>/delete")
def delete_endpoint(endpoint_id: int):
    return _endpoint_action(outbound.delete_endpoint, endpoint_id, "Endpoint deleted: nothing more is sent to it.")


@bp.post("/settings/webhooks/<int:endpoint_id>/enable")
def enable_endpoint(endpoint_id: int):
    return _endpoint_action(outbound.enable_endpoint, endpoint_id,
                            "Endpoint enabled. Resend what it missed from the deliveries below.")


@bp.post("/settings/webhooks/<int:endpoint_id>/secret")
def reveal_endpoint_secret(endpoint_id: int):
    try:
        secret = outbound.endpoint_secret(g.workspace, endpoint_id)
    except NotFound:
        abort(404)
    return _revealed(secret, f"secret-{endpoint_id}")


@bp.post("/settings/webhooks/video-secret")
def reveal_video_secret():
    return _revealed(outbound.video_webhook_secret(g.workspace), "video-secret")


@bp.post("/settings/webhooks/video-secret/rotate")
def rotate_video_secret():
    outbound.rotate_video_webhook_secret(g.workspace)
    return _answer(_webhooks_part(), "New secret made for videos' own webhook URLs: give it to their receivers.",
                   anchor="webhooks")


def _revealed(secret: str, slot: str):
    """The secret in its slot of the settings page (never in a flash message: those travel in
    the session cookie); without JavaScript, the fragment alone, with a link back."""
    return render_template("partials/webhook_secret.html", secret=secret, slot=slot), 200, NO_STORE


@bp.post("/settings/webhooks/deliveries/<int:delivery_id>/resend")
def resend_delivery(delivery_id: int):
    try:
        outbound.resend(g.workspace, delivery_id)
    except NotFound:
        abort(404)
    except GenerationError as error:
        return _answer(_webhooks_part(error=error.message), error.message, "error", anchor="webhooks")
    return _answer(_webhooks_part(), "Delivery queued again: it is sent within a few seconds.", anchor="webhooks")
