"""First-run setup, login, logout and the workspace switcher."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from .. import accounts
from ..catalog import demo
from ..extensions import limiter
from .forms import LoginForm, SetupForm

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    if accounts.any_user_exists():
        return redirect(url_for("videos.index"))
    form = SetupForm()
    form.plan.choices = accounts.plan_choices()
    if not form.is_submitted():
        # `make run` seeds a demo workspace with no members: offer to take it over.
        form.workspace.data = accounts.unclaimed_workspace_name()
        form.plan.data = "senior"
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.email.data, form.password.data, form.workspace.data, form.plan.data, form.name.data
            )
        except accounts.AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            workspace, _, _ = accounts.workspace_for(user, None)
            # the demo workspace `make run` seeded has a plan already: the one chosen here wins
            accounts.change_plan(user, workspace, form.plan.data)
            if form.demo.data:
                demo.seed_demo_catalog(workspace)
            login_user(user)
            session["workspace_id"] = workspace.id
            flash(f"Welcome to Reelboard. Your workspace {workspace.name} is ready.", "success")
            return redirect(url_for("products.index"))
    return render_template("auth/setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("videos.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("Wrong email or password.")
        else:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(form.next.data))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    accounts.end_sessions(current_user)  # every session and remember cookie, not just this one
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.post("/workspaces/<int:workspace_id>/switch")
@login_required
def switch_workspace(workspace_id: int):
    if accounts.membership(current_user, workspace_id) is None:
        abort(404)
    session["workspace_id"] = workspace_id
    return redirect(url_for("videos.index"))


def _safe_next(target: str | None) -> str:
    """Only redirect within this site after login."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("videos.index")
