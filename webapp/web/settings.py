"""Settings: API tokens, the video provider and its health, the webhook endpoint."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user

from .. import accounts
from ..generation import health
from ..providers.registry import default_provider_name
from .forms import TokenForm

bp = Blueprint("settings", __name__)


def _render(form: TokenForm, new_token: str | None = None, status: int = 200):
    provider = default_provider_name()
    return (
        render_template(
            "settings/index.html",
            form=form,
            new_token=new_token,
            tokens=accounts.tokens_of(g.workspace),
            provider=provider,
            breaker=health.snapshot(provider),
            webhook_url=f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/{provider}",
            webhook_secret_set=bool(current_app.config["WEBHOOK_SECRET"]),
        ),
        status,
    )


@bp.get("/settings")
def index():
    return _render(TokenForm())


@bp.get("/settings/tokens")
def tokens():
    """Reloading the page that showed a new token comes back to the settings."""
    return redirect(url_for("settings.index"))


@bp.post("/settings/tokens")
def create_token():
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=422)
    try:
        _, plain = accounts.create_token(current_user, g.workspace, form.name.data)
    except accounts.AccountError as error:
        form.name.errors = [str(error)]
        return _render(form, status=422)
    return _render(TokenForm(formdata=None), new_token=plain)


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    if accounts.revoke_token(g.workspace, token_id):
        flash("Token revoked. Scripts using it can no longer call the API.", "info")
    return redirect(url_for("settings.index"))
