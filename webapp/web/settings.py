"""Settings: the plan, API tokens, the video provider and its health, the webhook endpoint."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user

from .. import accounts
from ..generation import health, quota
from ..models import Role
from ..providers.registry import default_provider_name
from .brand import brand_context
from .distribution import settings_context
from .forms import PasswordForm, PlanForm, TokenForm

bp = Blueprint("settings", __name__)


def _plan_form(formdata=None) -> PlanForm:
    form = PlanForm(formdata=formdata, plan=g.workspace.plan)
    form.plan.choices = accounts.plan_choices()
    return form


def _render(
    form: TokenForm, new_token: str | None = None, status: int = 200, password_form: PasswordForm | None = None,
    plan_form: PlanForm | None = None,
):
    provider = default_provider_name()
    return (
        render_template(
            "settings/index.html",
            form=form,
            password_form=password_form or PasswordForm(formdata=None),
            plan_form=plan_form or _plan_form(),
            is_owner=g.role == Role.OWNER.value,
            usage=quota.usage(g.workspace),
            new_token=new_token,
            tokens=accounts.tokens_of(g.workspace),
            provider=provider,
            breaker=health.snapshot(provider),
            webhook_url=f"{current_app.config['PUBLIC_BASE_URL']}/webhooks/{provider}",
            webhook_secret_set=bool(current_app.config["WEBHOOK_SECRET"]),
            **settings_context(g.workspace),
            **brand_context(g.workspace),
        ),
        status,
    )


@bp.get("/settings")
def index():
    return _render(TokenForm())


@bp.post("/settings/plan")
def change_plan():
    """An owner moves the workspace to another plan: the limit changes at once, usage is kept."""
    form = _plan_form(formdata=request.form)
    if form.validate_on_submit():
        try:
            accounts.change_plan(current_user, g.workspace, form.plan.data)
        except accounts.AccountError as error:
            form.plan.errors = [str(error)]
        else:
            usage = quota.usage(g.workspace)
            flash(f"Plan changed to {g.workspace.plan.capitalize()}: {usage.limit} videos a month. "
                  f"The {usage.used} used this month still count; {usage.remaining} remain.", "success")
            return redirect(url_for("settings.index", _anchor="plan"))
    return _render(TokenForm(formdata=None), status=422, plan_form=form)


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


@bp.post("/settings/password")
def change_password():
    """A new password ends every session of the user, this one included: log in again."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(current_user, form.current.data, form.password.data)
        except accounts.AccountError as error:
            getattr(form, error.field or "password").errors.append(str(error))
        else:
            logout_user()
            session.clear()
            flash("Password changed. Every session of your account was ended; log in with the new password.", "success")
            return redirect(url_for("auth.login"))
    return _render(TokenForm(formdata=None), status=422, password_form=form)


@bp.post("/settings/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):
    if accounts.revoke_token(g.workspace, token_id):
        flash("Token revoked. Scripts using it can no longer call the API.", "info")
    return redirect(url_for("settings.index", _anchor="tokens"))
