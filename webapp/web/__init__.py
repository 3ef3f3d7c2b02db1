"""Blueprints that render HTML, and what every page shares: login, workspace, security headers."""

from __future__ import annotations

from flask import (
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import accounts
from ..extensions import db, login_manager, sqlite_reads_only
from ..models import User

# Endpoints that work before the first user exists, or without logging in.
PUBLIC_ENDPOINTS = {"auth.setup", "auth.login", "static", "media.signed"}
NON_HTML_BLUEPRINTS = {"api", "webhooks", "system"}
NO_WORKSPACE = "Your account is not a member of any workspace. Ask a workspace owner to add you."

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https://i.ytimg.com; "
    "media-src 'self'; frame-src https://www.youtube-nocookie.com; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    from . import auth, catalog, filters, media, products, settings, system, videos

    for module in (auth, catalog, media, products, settings, system, videos):
        app.register_blueprint(module.bp)
    filters.init_app(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(_reads_only_for_safe_methods)
    app.teardown_request(_end_reads_only)
    app.before_request(_first_run_and_login)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(429, _too_many_requests)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _reads_only_for_safe_methods():
    if request.method in SAFE_METHODS:
        g.reads_only_token = sqlite_reads_only.set(True)


def _end_reads_only(error=None):
    token = g.pop("reads_only_token", None)
    if token is not None:
        sqlite_reads_only.reset(token)


def _first_run_and_login():
    """Send everyone to /setup until an owner exists; then require a login and a workspace."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in NON_HTML_BLUEPRINTS:
        return None
    if request.path.startswith("/api/"):  # no route matched (404/405): the API answers in JSON
        return None
    if not _setup_done():
        return redirect(url_for("auth.setup"))
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    g.workspace, g.role, g.workspaces = accounts.workspace_for(current_user, session.get("workspace_id"))
    if g.workspace is None:
        return render_template("error.html", title="No workspace", message=NO_WORKSPACE), 403
    if session.get("workspace_id") != g.workspace.id:
        session["workspace_id"] = g.workspace.id
    return None


def _setup_done() -> bool:
    # Once a user exists there always is one, so each process remembers a yes.
    state = current_app.extensions.setdefault("reelboard_setup", {})
    if not state.get("done"):
        state["done"] = accounts.any_user_exists()
    return state["done"]


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def _csrf_error(error: CSRFError):
    message = "Your form expired or was sent from elsewhere. Reload the page and try again."
    if request.headers.get("HX-Request"):
        return render_template("partials/error_banner.html", message=message), 400
    return render_template("error.html", title="Form expired", message=message), 400


def _not_found(error):
    if request.path.startswith("/api/"):
        return {"error": {"code": "not_found", "message": "Not found."}}, 404
    return render_template("error.html", title="Not found", message="There is nothing here."), 404


def _too_many_requests(error):
    message = "Too many attempts in a short time. Wait a minute, then try again."
    return render_template("error.html", title="Slow down", message=message), 429
